//! File shapes for the resilience keys: circuit breakers, retries, faults, local rate
//! limits, connection limits and request mirroring (Envoy's knob names, flattened where
//! Envoy nests only for extensibility: percentages are plain numbers, filters need no
//! `typed_config`).

use serde::{Deserialize, Serialize};

/// Envoy's `RoutingPriority`: a route's priority picks a cluster's circuit-breaker thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingPriority {
    #[serde(alias = "DEFAULT")]
    Default,
    #[serde(alias = "HIGH")]
    High,
}

/// A cluster's `circuit_breakers`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakers {
    /// At most one entry per priority; a priority without one gets Envoy's defaults.
    #[serde(default)]
    pub thresholds: Vec<Thresholds>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Default `default`.
    pub priority: Option<RoutingPriority>,
    /// Default 1024.
    pub max_connections: Option<u32>,
    /// Default 1024.
    pub max_pending_requests: Option<u32>,
    /// Default 1024.
    pub max_requests: Option<u32>,
    /// Default 3; replaced by `retry_budget` when that is set.
    pub max_retries: Option<u32>,
    pub retry_budget: Option<RetryBudget>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBudget {
    /// Envoy's `budget_percent.value`. Default 20.0.
    pub budget_percent: Option<f64>,
    /// Default 3.
    pub min_retry_concurrency: Option<u32>,
}

/// A route's (or virtual host's) `retry_policy`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Envoy's comma list, e.g. `"5xx,reset,connect-failure"`.
    pub retry_on: Option<String>,
    /// Default 1.
    pub num_retries: Option<u32>,
    /// Default none; `0s` is none.
    pub per_try_timeout: Option<String>,
    pub retry_back_off: Option<RetryBackOff>,
    #[serde(default)]
    pub retriable_status_codes: Vec<u16>,
    /// Only `previous_hosts` today.
    #[serde(default)]
    pub retry_host_predicate: Vec<String>,
    /// Default 1.
    pub host_selection_retry_max_attempts: Option<u32>,
    /// Present: honour `Retry-After` on 429/503, capped at `max_interval`.
    pub rate_limited_retry_back_off: Option<RateLimitedRetryBackOff>,
    /// Envoy keeps this beside `retry_policy` on the route action; mesh keeps it with the
    /// per-try timeout it depends on.
    pub hedge_policy: Option<HedgePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBackOff {
    /// Default `25ms` (Envoy requires it inside `retry_back_off`; its default without one).
    pub base_interval: Option<String>,
    /// Default 10 × `base_interval`.
    pub max_interval: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitedRetryBackOff {
    /// Default `300s`.
    pub max_interval: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HedgePolicy {
    /// Default false.
    pub hedge_on_per_try_timeout: Option<bool>,
}

/// A route's `fault` (Envoy's `envoy.filters.http.fault` per-route config).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub delay: Option<FaultDelay>,
    pub abort: Option<FaultAbort>,
    /// Take both faults from the `x-mesh-fault-*` request headers (Envoy's `header_delay`
    /// and `header_abort`); `delay` and `abort` then set only their percentages. Default false.
    pub header_control: Option<bool>,
    /// Default: no limit.
    pub max_active_faults: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultDelay {
    /// Required unless `header_control`, and then refused.
    pub fixed_delay: Option<String>,
    /// 0..=100. Default 100.
    pub percentage: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultAbort {
    /// Exactly one of `http_status`, `grpc_status`; neither with `header_control`.
    pub http_status: Option<u16>,
    pub grpc_status: Option<u32>,
    /// 0..=100. Default 100.
    pub percentage: Option<f64>,
}

/// Envoy's `type.v3.TokenBucket`, for `local_rate_limit` and `connection_rate_limit`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucket {
    /// Required, ≥ 1.
    pub max_tokens: Option<u32>,
    /// Default 1.
    pub tokens_per_fill: Option<u32>,
    /// Default `1s`; at least `50ms`, as Envoy.
    pub fill_interval: Option<String>,
}

/// One of a route's `request_mirror_policies`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorPolicy {
    pub cluster: Option<String>,
    /// Envoy's `runtime_fraction`, as a plain percentage. Default 100.
    pub percentage: Option<f64>,
}
