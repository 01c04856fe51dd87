//! Counters the retry layer keeps, shared by every clone of a layer.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the retry layer did, for the proxy's stats (Envoy's `upstream_rq_retry*`).
/// Relaxed atomics: each counter is read on its own, never as a consistent set.
#[derive(Debug, Default)]
pub struct RetryStats {
    retries: AtomicU64,
    budget_exhausted: AtomicU64,
    overflow: AtomicU64,
    success_after_retry: AtomicU64,
    per_try_timeouts: AtomicU64,
}

impl RetryStats {
    /// Retries granted, hedges included (`upstream_rq_retry`); each is sent after its
    /// backoff unless the request is dropped first.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Retries the [`RetryBudget`](super::RetryBudget) refused. Envoy has no such
    /// budget on the route; its circuit breaker's budget refusals are `overflow` here too.
    pub fn budget_exhausted(&self) -> u64 {
        self.budget_exhausted.load(Ordering::Relaxed)
    }

    /// Retries the circuit breaker refused (`upstream_rq_retry_overflow`).
    pub fn overflow(&self) -> u64 {
        self.overflow.load(Ordering::Relaxed)
    }

    /// Requests whose answer came from a retry and was not retriable itself
    /// (`upstream_rq_retry_success`).
    pub fn success_after_retry(&self) -> u64 {
        self.success_after_retry.load(Ordering::Relaxed)
    }

    /// Tries abandoned by `per_try_timeout` (`upstream_rq_per_try_timeout`); hedged
    /// tries, which go on, are not counted.
    pub fn per_try_timeouts(&self) -> u64 {
        self.per_try_timeouts.load(Ordering::Relaxed)
    }

    pub(super) fn record_per_try_timeout(&self) {
        self.per_try_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_budget_exhausted(&self) {
        self.budget_exhausted.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_overflow(&self) {
        self.overflow.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_success_after_retry(&self) {
        self.success_after_retry.fetch_add(1, Ordering::Relaxed);
    }
}
