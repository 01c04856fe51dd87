//! File shapes for load balancing: policy knobs, panic threshold, zone awareness,
//! slow start and route hash policies (Envoy's names, flattened).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LeastRequestLbConfig {
    /// Hosts sampled per pick. Default 2 (power of two choices).
    pub choice_count: Option<u32>,
    /// Exponent of `active + 1` dividing the weight when weights differ. Default 1.0.
    pub active_request_bias: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RingHashLbConfig {
    /// Default 1024.
    pub minimum_ring_size: Option<u64>,
    /// Default 8388608.
    pub maximum_ring_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaglevLbConfig {
    /// A prime. Default 65537.
    pub table_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PeakEwmaLbConfig {
    /// Time constant of the latency average. Default `10s`.
    pub decay: Option<String>,
    /// Latency assumed before a host has answered. Default `30ms`.
    pub default_rtt: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommonLbConfig {
    /// Below this percentage of healthy hosts, balance across all hosts. Default 50.
    pub healthy_panic_threshold: Option<u32>,
    pub zone_aware_lb_config: Option<ZoneAwareLbConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneAwareLbConfig {
    /// Percentage of requests zone-aware routing applies to. Default 100.
    pub routing_enabled: Option<u32>,
    /// Below this many hosts, zone awareness is off. Default 6.
    pub min_cluster_size: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlowStartConfig {
    /// Ramp-up window for new or recovered hosts. Required to enable slow start.
    pub slow_start_window: Option<String>,
    /// Shape of the ramp (1.0 = linear). Default 1.0.
    pub aggression: Option<f64>,
    /// Weight floor during the ramp, as a percentage. Default 10.
    pub min_weight_percent: Option<u32>,
}

/// Where the local proxy runs; `zone` drives zone-aware routing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: Option<String>,
    pub cluster: Option<String>,
    pub zone: Option<String>,
}

/// One input of a route's request hash; exactly one source per entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HashPolicy {
    pub header: Option<HeaderHash>,
    pub cookie: Option<CookieHash>,
    pub connection_properties: Option<ConnectionHash>,
    pub query_parameter: Option<QueryHash>,
    /// Stop at this entry if it produced a hash. Default false.
    #[serde(default)]
    pub terminal: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderHash {
    pub header_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CookieHash {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionHash {
    #[serde(default)]
    pub source_ip: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueryHash {
    pub name: Option<String>,
}
