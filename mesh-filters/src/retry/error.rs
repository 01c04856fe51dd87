//! The retry layer's errors, each named for its condition.

use mesh_core::BoxError;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBackoff {
    #[error("retry_back_off.base_interval must be greater than zero")]
    ZeroBase,
    #[error("retry_back_off.max_interval {max:?} is below base_interval {base:?}")]
    MaxBelowBase { base: Duration, max: Duration },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidBudget {
    #[error("retry budget ttl {0:?} is outside 1s..=60s")]
    Ttl(Duration),
    #[error("retry budget retry_percent {0} is outside 0..=1000")]
    Percent(u32),
    #[error("retry budget min_retries_per_second {min} × ttl {ttl:?} is too many retries to hold")]
    Reserve { min: u32, ttl: Duration },
}

/// A replayed request body could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Another attempt is still streaming the original body, so this one cannot go on
    /// past the copy. The retry layer only starts attempts that can finish, so this is
    /// seen only by an attempt that was already abandoned.
    #[error("request body is being streamed by another attempt")]
    BodyInUse,
    /// The body outgrew the replay buffer and the copy was dropped.
    #[error("request body exceeded the retry buffer limit and cannot be replayed")]
    Overflowed,
}

/// A [`ReplayBody`](super::ReplayBody)'s error: the original body's own, or the replay's.
///
/// Not a `std::error::Error` itself, so that it can convert into a `BoxError` that *is*
/// the original error (classifiers and `downcast_ref` see it unwrapped), the way
/// `anyhow::Error` does. Keeping `E` unbounded in the body's impl also spares callers
/// a compiler limitation: a bound such as `E: Into<BoxError>` with `E = BoxError` cannot
/// be proven inside a `Send` async block that holds the body.
#[derive(Debug)]
pub enum ReplayBodyError<E> {
    Body(E),
    Replay(ReplayError),
}

impl<E: std::fmt::Display> std::fmt::Display for ReplayBodyError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayBodyError::Body(e) => e.fmt(f),
            ReplayBodyError::Replay(e) => e.fmt(f),
        }
    }
}

impl<E: Into<BoxError>> From<ReplayBodyError<E>> for BoxError {
    fn from(error: ReplayBodyError<E>) -> BoxError {
        match error {
            ReplayBodyError::Body(e) => e.into(),
            ReplayBodyError::Replay(e) => Box::new(e),
        }
    }
}
