//! File shapes for where a cluster's endpoints come from, and for the endpoints file itself.

use super::Endpoint;
use serde::{Deserialize, Serialize};

/// A cluster's `discovery`: exactly one source. A struct of optional sources rather than a
/// serde enum, so that naming none or two is a semantic error with a key path (as for
/// `health_checks`), and new sources (`dns`, `registry`, `eds`) are new optional fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    /// Envoy's filesystem EDS: endpoints from a watched YAML/JSON file.
    pub file: Option<FileDiscovery>,
    /// The mesh registry (Lyft's discovery service): the instances of one service.
    pub registry: Option<RegistryDiscovery>,
    /// Envoy's STRICT_DNS: every address a DNS name resolves to, re-resolved as it changes.
    pub dns: Option<DnsDiscovery>,
    /// Envoy's EDS over the ADS stream of `dynamic_resources.ads`.
    pub eds: Option<EdsDiscovery>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EdsDiscovery {
    /// The `ClusterLoadAssignment` to follow. Default: the cluster's name.
    pub service_name: Option<String>,
}

/// `discovery.dns`, with Envoy's names where Envoy has the knob.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DnsDiscovery {
    /// Required: the DNS name to resolve, without a port.
    pub hostname: Option<String>,
    /// Required: the port every resolved address is reached on.
    pub port: Option<u32>,
    /// `all` (default), `v4_only`, `v6_only` or `auto`.
    pub lookup_family: Option<String>,
    /// Re-resolve when the answer's TTL runs out. Default `true`.
    pub respect_dns_ttl: Option<bool>,
    /// Envoy's `dns_refresh_rate`. Default `5s`.
    pub refresh_rate: Option<String>,
    /// Envoy's `dns_failure_refresh_rate`: the backoff after a failed lookup.
    pub failure_refresh_rate: Option<DnsFailureRefreshRate>,
    /// Nameservers as `ip:port`; default: the system's (`/etc/resolv.conf`).
    pub resolvers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DnsFailureRefreshRate {
    /// Default `1s`.
    pub base_interval: Option<String>,
    /// Default ten times `base_interval` (Envoy's rule).
    pub max_interval: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryDiscovery {
    /// Required: the registry's `ip:port`.
    pub address: Option<String>,
    /// Required: the service whose instances are this cluster's endpoints.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileDiscovery {
    /// Required. Relative to the proxy's working directory, like the TLS file keys.
    pub path: Option<String>,
    /// How often the file is read again. Default `1s`.
    pub refresh_interval: Option<String>,
}

/// The endpoints file named by `discovery.file.path`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsFile {
    /// Free text identifying this version of the file, shown by admin.
    pub version: Option<String>,
    /// Required (an empty list is fine): a file without it is more likely half-written than
    /// meant to empty the cluster.
    pub endpoints: Option<Vec<Endpoint>>,
}
