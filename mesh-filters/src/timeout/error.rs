//! The timeout errors. Both become the same local reply; they differ in who may retry.

use std::time::Duration;

/// The route timeout expired before response headers arrived.
///
/// Mapping: 504 Gateway Timeout, body `upstream request timeout`, response flag `UT`
/// (gRPC callers: `grpc-status` 14, UNAVAILABLE). Never retried: the route's whole budget is
/// spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("upstream request timeout after {after:?}")]
pub struct RouteTimeout {
    /// The timeout that expired (after any per-request override).
    pub after: Duration,
}

/// One attempt's per-try timeout expired before response headers arrived.
///
/// Mapping: retriable under `retry_on: 5xx` or `gateway-error` (Envoy counts it as a 504);
/// when no retry follows, 504 Gateway Timeout with response flag `UT`, like [`RouteTimeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("upstream per-try timeout after {after:?}")]
pub struct PerTryTimeout {
    /// The timeout that expired (after any per-request override).
    pub after: Duration,
}
