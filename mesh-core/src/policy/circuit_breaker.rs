//! Validated `circuit_breakers` with Envoy's defaults, and the routing priority that
//! picks which thresholds a request counts against.
//!
//! Envoy's semantics: each priority has its own thresholds, counted per cluster (across
//! all its hosts). A priority the file does not list gets Envoy's defaults: 1024
//! connections, 1024 pending requests, 1024 requests, 3 concurrent retries.

use super::errors::{Issues, Path};
use super::percent::Percent;
use crate::config;
use serde::Serialize;

/// Envoy's `RoutingPriority`: set on routes, it picks a cluster's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingPriority {
    #[default]
    Default,
    High,
}

impl From<config::RoutingPriority> for RoutingPriority {
    fn from(p: config::RoutingPriority) -> Self {
        match p {
            config::RoutingPriority::Default => RoutingPriority::Default,
            config::RoutingPriority::High => RoutingPriority::High,
        }
    }
}

/// A cluster's thresholds, one set per priority.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CircuitBreakers {
    pub default: Thresholds,
    pub high: Thresholds,
}

impl CircuitBreakers {
    pub fn for_priority(&self, priority: RoutingPriority) -> &Thresholds {
        match priority {
            RoutingPriority::Default => &self.default,
            RoutingPriority::High => &self.high,
        }
    }
}

/// Every count is valid, 0 included: a threshold of 0 makes every attempt on that
/// resource overflow, as in Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Connections to all of the cluster's hosts together.
    pub max_connections: u32,
    /// Requests waiting for a connection.
    pub max_pending_requests: u32,
    /// Requests in flight.
    pub max_requests: u32,
    /// Retries in flight; ignored while `retry_budget` is set.
    pub max_retries: u32,
    pub retry_budget: Option<RetryBudget>,
}

impl Thresholds {
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
    pub const DEFAULT_MAX_PENDING_REQUESTS: u32 = 1024;
    pub const DEFAULT_MAX_REQUESTS: u32 = 1024;
    pub const DEFAULT_MAX_RETRIES: u32 = 3;
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_pending_requests: Self::DEFAULT_MAX_PENDING_REQUESTS,
            max_requests: Self::DEFAULT_MAX_REQUESTS,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            retry_budget: None,
        }
    }
}

/// Envoy's retry budget, which replaces `max_retries`: concurrent retries are allowed up
/// to `max(min_retry_concurrency, budget_percent% of the requests active and pending)`,
/// so the allowance grows with the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetryBudget {
    pub budget_percent: Percent,
    pub min_retry_concurrency: u32,
}

impl RetryBudget {
    /// Envoy's 20%.
    pub const DEFAULT_BUDGET_PERCENT: Percent = Percent(20.0);
    pub const DEFAULT_MIN_RETRY_CONCURRENCY: u32 = 3;
}

/// Envoy's `retry_budget: {}`: 20% and 3.
impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            budget_percent: Self::DEFAULT_BUDGET_PERCENT,
            min_retry_concurrency: Self::DEFAULT_MIN_RETRY_CONCURRENCY,
        }
    }
}

pub(crate) fn build(
    raw: Option<&config::CircuitBreakers>,
    path: &Path,
    issues: &mut Issues,
) -> Option<CircuitBreakers> {
    let mut out = CircuitBreakers::default();
    let Some(raw) = raw else {
        return Some(out);
    };
    let before = issues.0.len();
    let list = path.key("thresholds");
    let mut seen: [Option<usize>; 2] = [None, None];
    for (i, t) in raw.thresholds.iter().enumerate() {
        let p = list.idx(i);
        let priority = t.priority.map_or(RoutingPriority::Default, RoutingPriority::from);
        let retry_budget = t.retry_budget.as_ref().map(|b| {
            let bp = p.key("retry_budget").key("budget_percent");
            let budget_percent = match b.budget_percent {
                None => RetryBudget::DEFAULT_BUDGET_PERCENT,
                Some(v) => issues
                    .check(&bp, Percent::new(v))
                    .unwrap_or(RetryBudget::DEFAULT_BUDGET_PERCENT),
            };
            RetryBudget {
                budget_percent,
                min_retry_concurrency: b
                    .min_retry_concurrency
                    .unwrap_or(RetryBudget::DEFAULT_MIN_RETRY_CONCURRENCY),
            }
        });
        let d = Thresholds::default();
        let thresholds = Thresholds {
            max_connections: t.max_connections.unwrap_or(d.max_connections),
            max_pending_requests: t.max_pending_requests.unwrap_or(d.max_pending_requests),
            max_requests: t.max_requests.unwrap_or(d.max_requests),
            max_retries: t.max_retries.unwrap_or(d.max_retries),
            retry_budget,
        };
        // A repeated priority is still checked above, so its own mistakes are reported too.
        if let Some(first) = seen[priority as usize] {
            let name = if priority == RoutingPriority::High {
                "high"
            } else {
                "default"
            };
            issues.push(
                &p.key("priority"),
                format!("priority {name} already has thresholds[{first}] (an omitted priority is default)"),
            );
            continue;
        }
        seen[priority as usize] = Some(i);
        match priority {
            RoutingPriority::Default => out.default = thresholds,
            RoutingPriority::High => out.high = thresholds,
        }
    }
    (issues.0.len() == before).then_some(out)
}
