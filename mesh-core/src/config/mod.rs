//! The configuration file's shape: what serde reads from YAML, before validation.
//!
//! These types are deliberately loose (addresses and durations are strings, most
//! fields optional) so that deserialisation only fails on the file's *syntax* and
//! every *semantic* mistake is found by [`crate::policy`] validation, which reports
//! all of them at once with their key paths. Knob names follow Envoy's; nesting is
//! kept flat where Envoy nests only for extensibility.
//!
//! Only `mesh-core` knows these shapes; every other crate consumes [`crate::policy`].
//! Shapes compare with `PartialEq` so that the xDS mapping (which produces them from Envoy's
//! resources) can tell an unchanged resource from a changed one, and tests can assert exact shapes.

mod access_log;
mod discovery;
mod health;
mod lb;
mod resilience;
mod route;
mod trace;

pub use access_log::*;
pub use discovery::*;
pub use health::*;
pub use lb::*;
pub use resilience::*;
pub use route::*;
pub use trace::*;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// Where this proxy runs (its zone drives zone-aware routing).
    pub node: Option<Node>,
    pub cluster_manager: Option<ClusterManager>,
    pub admin: Option<Admin>,
    /// How long in-flight requests may run on after SIGTERM/SIGINT. Default `30s`.
    pub drain_timeout: Option<String>,
    /// Envoy's `stats_flush_interval`: the span of the admin's interval quantiles. Default
    /// `5s`; from `1ms` to `5m`. Read at start.
    pub stats_flush_interval: Option<String>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// Envoy's `dynamic_resources`: more listeners and clusters (with their routes and
    /// endpoints) from a management server, beside the static ones above.
    pub dynamic_resources: Option<DynamicResources>,
    /// Spans over OTLP; no block, no tracing.
    pub tracing: Option<Tracing>,
}

/// Where dynamic resources come from. Only ADS: LDS, RDS, CDS and EDS on one gRPC stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicResources {
    pub ads: Option<Ads>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ads {
    /// Required: the management server's `ip:port` (gRPC, plaintext h2c).
    pub address: Option<String>,
    /// How long a new cluster or listener waits for its endpoints or routes before it is
    /// used anyway. Default `15s`.
    pub initial_fetch_timeout: Option<String>,
}

/// Envoy's `cluster_manager`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterManager {
    /// The cluster listing this service's own proxies with their zones; with
    /// `node.zone` it enables zone-aware routing.
    pub local_cluster_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Default `127.0.0.1:9901`.
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerProtocol {
    Http,
    Tcp,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub name: Option<String>,
    pub address: Option<String>,
    /// Default `http`.
    pub protocol: Option<ListenerProtocol>,
    pub tls: Option<DownstreamTls>,
    /// HTTP listeners: virtual hosts, matched by the request's Host/:authority.
    #[serde(default)]
    pub virtual_hosts: Vec<VirtualHost>,
    /// TCP listeners: the cluster bytes are proxied to.
    pub cluster: Option<String>,
    /// Envoy's `max_request_headers_kb`. Default 60.
    pub max_request_headers_kb: Option<u32>,
    /// Envoy's `common_http_protocol_options.max_headers_count`. Default 100.
    pub max_headers_count: Option<u32>,
    /// Time allowed for a complete request head. Default `60s`.
    pub request_headers_timeout: Option<String>,
    /// Connection idle timeout (no bytes either way). Default `1h`.
    pub idle_timeout: Option<String>,
    pub http2_protocol_options: Option<Http2Options>,
    /// Peers (CIDR ranges) whose `x-mesh-*` control headers are honoured; every other
    /// peer's are removed before routing. Default none.
    #[serde(default)]
    pub trusted_cidrs: Vec<String>,
    /// HTTP listeners: Envoy's `envoy.filters.http.local_ratelimit` for requests that
    /// neither their route nor their virtual host limits.
    pub local_rate_limit: Option<TokenBucket>,
    /// Most connections open at once (Envoy's `envoy.filters.network.connection_limit`).
    pub max_connections: Option<u32>,
    /// New connections per time (Envoy's `envoy.filters.network.local_ratelimit`).
    pub connection_rate_limit: Option<TokenBucket>,
    /// HTTP listeners: give requests without a usable `x-request-id` a new UUIDv4. Default true.
    pub generate_request_id: Option<bool>,
    /// HTTP listeners: keep `x-request-id` from untrusted peers too. Default false.
    pub preserve_external_request_id: Option<bool>,
    /// HTTP listeners: copy the request ID onto every response. Default false.
    pub always_set_request_id_in_response: Option<bool>,
    /// HTTP listeners: access logs, each with its destination, format and sampling.
    #[serde(default)]
    pub access_log: Vec<AccessLog>,
    /// HTTP listeners: the share of call chains traced (needs the top-level `tracing`).
    pub tracing: Option<ListenerTracing>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Http2Options {
    /// Default 100.
    pub max_concurrent_streams: Option<u32>,
    /// Default 65536 (Envoy's edge recommendation).
    pub initial_stream_window_size: Option<u32>,
    /// Default 1048576.
    pub initial_connection_window_size: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DownstreamTls {
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// Default `[h2, http/1.1]` on HTTP listeners.
    pub alpn_protocols: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamProtocol {
    Http1,
    Http2,
    Auto,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub name: Option<String>,
    /// Default `5s`.
    pub connect_timeout: Option<String>,
    /// Default `round_robin`.
    pub lb_policy: Option<String>,
    /// Default `http1`.
    pub protocol: Option<UpstreamProtocol>,
    /// Close pooled upstream connections idle this long. Default `1h`.
    pub idle_timeout: Option<String>,
    pub tls: Option<UpstreamTls>,
    /// Static endpoints; none when `discovery` is set.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Where the endpoints come from instead of `endpoints`.
    pub discovery: Option<Discovery>,
    /// Active health checks (usually one).
    #[serde(default)]
    pub health_checks: Vec<HealthCheck>,
    /// Passive health checking: eject hosts that fail requests.
    pub outlier_detection: Option<OutlierDetection>,
    pub least_request_lb_config: Option<LeastRequestLbConfig>,
    pub ring_hash_lb_config: Option<RingHashLbConfig>,
    pub maglev_lb_config: Option<MaglevLbConfig>,
    pub peak_ewma_lb_config: Option<PeakEwmaLbConfig>,
    pub common_lb_config: Option<CommonLbConfig>,
    pub slow_start_config: Option<SlowStartConfig>,
    /// Drop hosts that discovery removed even while they pass health checks. Default false.
    pub ignore_health_on_host_removal: Option<bool>,
    /// Per-priority limits on connections, pending requests, requests and retries.
    pub circuit_breakers: Option<CircuitBreakers>,
    /// Envoy's `track_cluster_stats`: optional, costlier stats.
    pub track_cluster_stats: Option<TrackClusterStats>,
}

/// Envoy's `track_cluster_stats`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrackClusterStats {
    /// Series per endpoint (`mesh_cluster_endpoint_*{endpoint}`). Default false: one
    /// series per host can be many.
    pub per_endpoint_stats: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTls {
    /// Server name sent in SNI and verified in the certificate. Default: the endpoint's IP.
    pub sni: Option<String>,
    /// PEM CA bundle to verify upstreams. Default: the system's trust store.
    pub ca_file: Option<String>,
    /// Client certificate for mutual TLS (with `key_file`).
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub address: Option<String>,
    /// Envoy's `load_balancing_weight`. Default 1.
    pub weight: Option<u32>,
    /// 0 is the highest priority; lower priorities take traffic as higher ones fail. Default 0.
    pub priority: Option<u32>,
    pub zone: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
}
