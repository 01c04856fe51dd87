//! A cluster's circuit breakers, one per routing priority (Envoy's `default` and
//! `high`), built from its `circuit_breakers` thresholds (Envoy's defaults when unset:
//! 1024 connections, pending and active requests, 3 retries).
//!
//! The request path takes a request slot per upstream attempt and holds it until the
//! response body ends; the retry layer asks the same breaker for a retry slot; the
//! connector takes a connection slot per upstream connection (default priority, as
//! connections are shared by both). Overflow fails at once: 503, `UO`,
//! `x-mesh-overloaded: true`.
//!
//! Deviation: hyper-util's pool never queues a request for a connection (it dials a new
//! one), so nothing is ever "pending" and `max_pending_requests` never trips; a request
//! that finds `max_connections` used up fails with overflow instead of waiting.

use mesh_core::policy::{self, RoutingPriority};
use mesh_filters::RetryAdmission;
use mesh_filters::circuit_breaker::{Breaker, Thresholds};
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct Breakers {
    default: Breaker,
    high: Breaker,
    /// The same breakers as the retry layer's admission, made once per cluster.
    default_admission: Arc<dyn RetryAdmission>,
    high_admission: Arc<dyn RetryAdmission>,
}

impl Breakers {
    pub(crate) fn new(config: &policy::CircuitBreakers) -> Self {
        let default = Breaker::new(thresholds(&config.default));
        let high = Breaker::new(thresholds(&config.high));
        Breakers {
            default_admission: Arc::new(default.clone()),
            high_admission: Arc::new(high.clone()),
            default,
            high,
        }
    }

    pub(crate) fn get(&self, priority: RoutingPriority) -> &Breaker {
        match priority {
            RoutingPriority::Default => &self.default,
            RoutingPriority::High => &self.high,
        }
    }

    pub(crate) fn admission(&self, priority: RoutingPriority) -> Arc<dyn RetryAdmission> {
        match priority {
            RoutingPriority::Default => self.default_admission.clone(),
            RoutingPriority::High => self.high_admission.clone(),
        }
    }

    /// `(priority name, breaker)`, for the admin's gauges.
    pub(crate) fn iter(&self) -> [(&'static str, &Breaker); 2] {
        [("default", &self.default), ("high", &self.high)]
    }
}

fn thresholds(t: &policy::Thresholds) -> Thresholds {
    let mut builder = Thresholds::builder()
        .max_connections(t.max_connections)
        .max_pending_requests(t.max_pending_requests)
        .max_requests(t.max_requests)
        .max_retries(t.max_retries);
    if let Some(budget) = &t.retry_budget {
        builder = builder.retry_budget(
            Some(budget.budget_percent.get()),
            Some(budget.min_retry_concurrency),
        );
    }
    // mesh-core validated the same bounds; Envoy's defaults are the safe fallback.
    builder.build().unwrap_or_default()
}
