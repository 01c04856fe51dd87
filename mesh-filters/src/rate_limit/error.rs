//! Rate limit errors.

use std::time::Duration;

/// The local rate limit had no token for this request.
///
/// Mapping: 429 Too Many Requests with `retry-after:` [`retry_after_secs`](Self::retry_after_secs),
/// body `local_rate_limited`, response flag `RL` (gRPC callers: `grpc-status` 14, UNAVAILABLE,
/// Envoy's mapping of 429). Never retried locally: a retry would only take the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("local_rate_limited: retry after {retry_after:?}")]
pub struct RateLimited {
    /// Time until the bucket's next fill.
    pub retry_after: Duration,
}

impl RateLimited {
    /// The `retry-after` header value: whole seconds, rounded up so that a client waiting that
    /// long always finds the next fill done.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs();
        if self.retry_after.subsec_nanos() > 0 {
            secs.saturating_add(1)
        } else {
            secs
        }
    }
}

/// A listener refused a new connection.
///
/// Mapping: the listener closes the accepted socket at once, before reading from it (TCP has
/// no reply to send), and counts it in [`ConnectionLimitStats`](super::ConnectionLimitStats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionRefused {
    /// `max_connections` connections are already open (Envoy's `connection_limit` filter).
    #[error("connection limit of {max} reached")]
    TooManyConnections { max: u32 },
    /// The connection-rate bucket is empty (Envoy's network `local_ratelimit` filter).
    #[error("connection rate limited: retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
}
