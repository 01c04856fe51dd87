//! How the retry layer asks a cluster's circuit breaker for room: the seam between
//! [`retry`](crate::retry) and [`circuit_breaker`](crate::circuit_breaker), so either can
//! be used without the other.

/// Admits retries to an upstream cluster (Envoy's `max_retries`, or its retry budget).
///
/// [`try_begin_retry`](Self::try_begin_retry) either takes a slot and returns `true` —
/// the caller must then call [`end_retry`](Self::end_retry) exactly once when that retry
/// attempt finishes, however it finishes — or returns `false` and takes nothing.
pub trait RetryAdmission: Send + Sync + std::fmt::Debug + 'static {
    fn try_begin_retry(&self) -> bool;
    fn end_retry(&self);
}

/// Admits every retry: for stacks without a circuit breaker.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unlimited;

impl RetryAdmission for Unlimited {
    fn try_begin_retry(&self) -> bool {
        true
    }

    fn end_retry(&self) {}
}
