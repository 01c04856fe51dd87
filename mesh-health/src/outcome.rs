//! What one probe of one host found: [`Outcome`], and [`ProbeFailure`] for why it failed.

use std::time::Duration;

/// The result of one health check against one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The host answered as configured (expected HTTP status, expected TCP bytes, `SERVING`).
    Healthy,
    /// The check failed: at once when [`ProbeFailure::fails_at_once`], else it counts toward
    /// `unhealthy_threshold`.
    Unhealthy(ProbeFailure),
    /// The host asked to be taken out of rotation now (the HTTP response carried
    /// [`IMMEDIATE_FAIL_HEADER`](crate::IMMEDIATE_FAIL_HEADER)): unhealthy at once, whatever the
    /// thresholds say. Envoy's `x-envoy-immediate-health-check-fail`, sent during graceful shutdown.
    ImmediateFailure,
}

impl Outcome {
    /// Whether this outcome counts as a passing check.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Outcome::Healthy)
    }
}

/// Why a check failed, named for the condition. Cloneable so the snapshot can keep the last one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeFailure {
    /// The whole check (connect, request, answer) took longer than the check's `timeout`.
    #[error("no answer within the {0:?} timeout")]
    Timeout(Duration),
    /// The TCP connection could not be made.
    #[error("connect failed: {0}")]
    Connect(String),
    /// Reading or writing the connection failed after it was made.
    #[error("connection error: {0}")]
    Io(String),
    /// The HTTP/1.1 or HTTP/2 exchange failed (protocol error, reset, connection closed early).
    #[error("HTTP error: {0}")]
    Http(String),
    /// The HTTP check's response status is not one of `expected_statuses`: the host is failed at
    /// once (Envoy's active failure).
    #[error("HTTP status {0} is not an expected status")]
    UnexpectedStatus(u16),
    /// The HTTP check's response status is not expected but is one of `retriable_statuses`: it
    /// counts toward `unhealthy_threshold`.
    #[error("HTTP status {0} is not an expected status (retriable)")]
    RetriableStatus(u16),
    /// The TCP host closed the connection before every expected byte string arrived.
    #[error("connection closed before the expected reply arrived")]
    ConnectionClosed,
    /// The TCP host sent this many bytes without the expected reply among them.
    #[error("{0} bytes read without the expected reply")]
    ReplyTooLong(usize),
    /// The gRPC call ended with a non-zero `grpc-status`.
    #[error("grpc-status {code}: {message}")]
    GrpcStatus { code: u32, message: String },
    /// The gRPC health service answered a status other than `SERVING` (1).
    #[error("serving status {0} ({name}) is not SERVING", name = serving_status_name(*.0))]
    NotServing(i32),
    /// The answer could not be understood (bad gRPC framing or protobuf, missing `grpc-status`).
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The check's request could not be built (e.g. a `host` that is not a valid header value).
    #[error("cannot build the check request: {0}")]
    InvalidRequest(String),
    /// The host answered with the immediate-failure header.
    #[error("the host asked to be failed at once ({})", crate::IMMEDIATE_FAIL_HEADER)]
    ImmediateFailRequested,
}

impl ProbeFailure {
    /// Whether the host answered and said it is not healthy — an unexpected HTTP status, a gRPC
    /// error status or a status other than `SERVING` — which fails it at once, as Envoy's active
    /// failures do. Everything else (timeouts, connect and protocol errors, retriable statuses)
    /// may be the network's fault and counts toward `unhealthy_threshold`.
    pub fn fails_at_once(&self) -> bool {
        matches!(
            self,
            ProbeFailure::UnexpectedStatus(_)
                | ProbeFailure::GrpcStatus { .. }
                | ProbeFailure::NotServing(_)
                | ProbeFailure::ImmediateFailRequested
        )
    }
}

/// `grpc.health.v1.HealthCheckResponse.ServingStatus` names.
fn serving_status_name(status: i32) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "unrecognised",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_well() {
        assert_eq!(
            ProbeFailure::NotServing(2).to_string(),
            "serving status 2 (NOT_SERVING) is not SERVING"
        );
        assert_eq!(
            ProbeFailure::UnexpectedStatus(503).to_string(),
            "HTTP status 503 is not an expected status"
        );
        assert!(Outcome::Healthy.is_healthy());
        assert!(!Outcome::ImmediateFailure.is_healthy());
    }
}
