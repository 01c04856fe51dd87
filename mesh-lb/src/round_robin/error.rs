//! Errors of [`RoundRobin`](super::RoundRobin).

/// The discovered endpoint set is empty, so there is nowhere to send the request.
///
/// Returned by the response future (not by `poll_ready`), once per request; the proxy maps it to
/// 503 (Envoy's "no healthy upstream"). The balancer stays usable and routes again as soon as
/// discovery yields an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no endpoints to balance over")]
pub struct NoEndpoints;

/// `call` came without a successful `poll_ready` before it: a bug in the caller. Reported as an
/// error rather than a panic; nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("RoundRobin::call without a preceding successful poll_ready")]
pub struct NotReady;
