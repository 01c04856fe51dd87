//! Tracing: where spans go (top level) and how many call chains each HTTP listener samples.

use serde::{Deserialize, Serialize};

/// The top-level `tracing` block: one OTLP exporter for the whole proxy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tracing {
    /// Required: where spans are exported.
    pub otlp: Option<Otlp>,
    /// The `service.name` resource of every span. Default `node.cluster`, else `mesh-proxy`.
    pub service_name: Option<String>,
}

/// An OpenTelemetry collector speaking OTLP over gRPC (plaintext h2c).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Otlp {
    /// Required: the collector's `ip:port`, e.g. `127.0.0.1:4317`.
    pub address: Option<String>,
    /// Most time one export may take. Default `10s`.
    pub timeout: Option<String>,
}

/// An HTTP listener's `tracing` block (Envoy's HCM `tracing`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerTracing {
    /// Share of call chains without a caller's decision that are traced: `"1%"` or `1`.
    /// Default 1%.
    pub random_sampling: Option<PercentValue>,
}

/// A percentage written as a number (`1.5`) or with its sign (`"1.5%"`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PercentValue {
    Number(f64),
    Text(String),
}
