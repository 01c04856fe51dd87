//! The fault injection error and the delay marker.

use std::time::Duration;

/// The fault filter aborted the request: Envoy's "fault filter abort".
///
/// Mapping (exactly one of `status` and `grpc_status` is set):
/// - `status: Some(code)`: a local reply with `code` and body `fault filter abort`; a gRPC
///   caller gets the usual trailers-only reply with `grpc-status` mapped from `code`.
/// - `grpc_status: Some(code)`: HTTP 200, trailers-only, `grpc-status: code`, as Envoy does
///   whatever the request's protocol.
///
/// Either way the response flag is `FI`, plus `DI` when `delayed` is set. Never retried: the
/// fault is the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fault filter abort")]
pub struct FaultAbort {
    pub status: Option<http::StatusCode>,
    pub grpc_status: Option<u32>,
    /// The injected delay that came before the abort, if any.
    pub delayed: Option<Duration>,
}

/// Response extension set when the fault filter delayed the request and then forwarded it:
/// the proxy adds flag `DI` to the access log and `x-mesh-response-flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedDelay(pub Duration);
