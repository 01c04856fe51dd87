//! Errors of the circuit breaker.

use std::fmt;

/// The resource a circuit breaker guards (one threshold each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Open upstream connections (`max_connections`).
    Connections,
    /// Requests waiting for a connection or for the upstream to become ready
    /// (`max_pending_requests`).
    PendingRequests,
    /// Requests in flight to the upstream (`max_requests`).
    Requests,
    /// Retries in flight (`max_retries`, or the retry budget when one is set).
    Retries,
}

impl Resource {
    /// Envoy's threshold name for this resource, for logs and local replies.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Connections => "max_connections",
            Resource::PendingRequests => "max_pending_requests",
            Resource::Requests => "max_requests",
            Resource::Retries => "max_retries",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A threshold was reached, so the attempt failed at once without waiting or reaching the upstream.
///
/// The proxy maps it to a local `503` with `x-mesh-overloaded: true` and the access-log response flag
/// `UO` (upstream overflow), as Envoy does with `x-envoy-overloaded`. It is local and never retriable
/// by the retry layer: retrying into a full cluster only adds load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker open: {resource} reached")]
pub struct CircuitOpen {
    pub resource: Resource,
}

impl CircuitOpen {
    pub fn new(resource: Resource) -> Self {
        CircuitOpen { resource }
    }
}

/// A [`Thresholds`](super::Thresholds) or [`RetryBudget`](super::RetryBudget) value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidThresholds {
    /// `retry_budget.budget_percent` outside `0.0..=100.0` (or not a number).
    #[error("retry_budget.budget_percent: {0} is not a percentage in 0.0..=100.0")]
    BudgetPercent(f64),
}
