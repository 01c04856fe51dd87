//! File shapes for active health checks and outlier detection (Envoy's knob names).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Default `1s`.
    pub timeout: Option<String>,
    /// Default `5s`.
    pub interval: Option<String>,
    /// Extra random delay up to this much per check. Default `0s`.
    pub interval_jitter: Option<String>,
    /// Extra random delay up to this percentage of the interval. Default 0.
    pub interval_jitter_percent: Option<u32>,
    /// Interval while a host is unhealthy. Default: `interval`.
    pub unhealthy_interval: Option<String>,
    /// Interval while the cluster has seen no traffic. Default `60s`.
    pub no_traffic_interval: Option<String>,
    /// Failures in a row before a host is marked unhealthy. Default 3.
    pub unhealthy_threshold: Option<u32>,
    /// Successes in a row before an unhealthy host is healthy again. Default 2.
    pub healthy_threshold: Option<u32>,
    /// Exactly one of the three checkers.
    pub http_health_check: Option<HttpHealthCheck>,
    pub tcp_health_check: Option<TcpHealthCheck>,
    pub grpc_health_check: Option<GrpcHealthCheck>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpHealthCheck {
    /// Required, e.g. `/healthz`.
    pub path: Option<String>,
    /// Host header of the check. Default: the cluster name.
    pub host: Option<String>,
    /// Half-open ranges `[start, end)` of healthy statuses. Default `[{ start: 200, end: 201 }]`.
    #[serde(default)]
    pub expected_statuses: Vec<StatusRange>,
    /// Unexpected statuses that count toward `unhealthy_threshold`; any other unexpected
    /// status fails the host at once. Default none.
    #[serde(default)]
    pub retriable_statuses: Vec<StatusRange>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRange {
    pub start: Option<u16>,
    pub end: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TcpHealthCheck {
    /// Hex bytes to send after connecting; none means "connect only".
    pub send: Option<String>,
    /// Hex byte strings that must all appear in the reply (Envoy's fuzzy match).
    #[serde(default)]
    pub receive: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcHealthCheck {
    /// `grpc.health.v1` service name. Default `""` (the whole server).
    pub service_name: Option<String>,
    /// `:authority` of the check. Default: the cluster name.
    pub authority: Option<String>,
}

/// Envoy's `outlier_detection`; every key optional with Envoy's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutlierDetection {
    pub consecutive_5xx: Option<u32>,
    pub consecutive_gateway_failure: Option<u32>,
    pub consecutive_local_origin_failure: Option<u32>,
    pub interval: Option<String>,
    pub base_ejection_time: Option<String>,
    pub max_ejection_time: Option<String>,
    pub max_ejection_percent: Option<u32>,
    pub enforcing_consecutive_5xx: Option<u32>,
    pub enforcing_consecutive_gateway_failure: Option<u32>,
    pub enforcing_consecutive_local_origin_failure: Option<u32>,
    pub enforcing_success_rate: Option<u32>,
    pub enforcing_local_origin_success_rate: Option<u32>,
    pub success_rate_minimum_hosts: Option<u32>,
    pub success_rate_request_volume: Option<u32>,
    pub success_rate_stdev_factor: Option<u32>,
    pub failure_percentage_threshold: Option<u32>,
    pub enforcing_failure_percentage: Option<u32>,
    pub enforcing_failure_percentage_local_origin: Option<u32>,
    pub failure_percentage_minimum_hosts: Option<u32>,
    pub failure_percentage_request_volume: Option<u32>,
    pub split_external_local_origin_errors: Option<bool>,
}
