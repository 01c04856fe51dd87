//! What is retried (`retry_on`), how often, and how errors are judged.

use super::backoff::Backoff;
use mesh_core::BoxError;
pub use mesh_core::policy::{Condition, RetryOn};
use std::time::Duration;

/// Whether a failure with no response of this class is retried. Envoy counts every
/// reset as a would-be 5xx, so `5xx`, `gateway-error` and `reset` cover them all.
pub fn retries_error(on: RetryOn, class: ErrorClass) -> bool {
    let any_reset = on.contains(Condition::FiveXx)
        || on.contains(Condition::GatewayError)
        || on.contains(Condition::Reset);
    match class {
        ErrorClass::ConnectFailure => any_reset || on.contains(Condition::ConnectFailure),
        ErrorClass::RefusedStream => any_reset || on.contains(Condition::RefusedStream),
        ErrorClass::Reset | ErrorClass::Timeout => any_reset,
        ErrorClass::Other => false,
    }
}

/// Whether a response with these parts is retried; `codes` are the
/// `retriable_status_codes`.
pub fn retries_response(
    on: RetryOn,
    status: http::StatusCode,
    headers: &http::HeaderMap,
    codes: &[u16],
) -> bool {
    let code = status.as_u16();
    (on.contains(Condition::FiveXx) && status.is_server_error())
        || (on.contains(Condition::GatewayError) && matches!(code, 502..=504))
        || (on.contains(Condition::Retriable4xx) && code == 409)
        || (on.contains(Condition::RetriableStatusCodes) && codes.contains(&code))
        || retries_grpc(on, headers)
}

/// gRPC conditions read `grpc-status` from the response headers: only a trailers-only
/// response (the usual shape of a gRPC error) carries it there, and a retry decided
/// from trailers would come after the body was already streamed downstream.
fn retries_grpc(on: RetryOn, headers: &http::HeaderMap) -> bool {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok()?.trim().parse::<u8>().ok())
        .and_then(Condition::from_grpc_status)
        .is_some_and(|c| on.contains(c))
}

/// What went wrong when an attempt ended in an error instead of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// No connection could be made: the request never left, so any method is safe to retry.
    ConnectFailure,
    /// The connection or stream closed before response headers.
    Reset,
    /// HTTP/2 REFUSED_STREAM: the upstream promises it did not process the request.
    RefusedStream,
    /// An inner layer gave up waiting (the retry layer's own per-try timeout is one too).
    Timeout,
    /// Anything else (a local error, a bad request): never retried.
    Other,
}

/// Classifies an inner service's error. mesh-filters cannot see hyper's or h2's error
/// types, so the proxy supplies one that can; [`classify_io`] is the default.
pub type Classify = fn(&BoxError) -> ErrorClass;

/// The default classifier: walks the error's `source()` chain for a `std::io::Error`
/// and reads its kind, and knows this layer's own
/// [`PerTryTimeout`](crate::timeout::PerTryTimeout). Everything else is [`ErrorClass::Other`].
pub fn classify_io(error: &BoxError) -> ErrorClass {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(err) = next {
        if err.is::<crate::timeout::PerTryTimeout>() {
            return ErrorClass::Timeout;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            return match io.kind() {
                ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
                    ErrorClass::ConnectFailure
                }
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                    ErrorClass::Reset
                }
                TimedOut => ErrorClass::Timeout,
                _ => ErrorClass::Other,
            };
        }
        next = err.source();
    }
    ErrorClass::Other
}

/// Envoy's route `retry_policy`. Build it with struct update syntax from
/// [`RetryPolicy::default`], whose values are Envoy's.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Default: none, as Envoy (a route without `retry_on` is not retried).
    pub retry_on: RetryOn,
    /// Default 1, as Envoy.
    pub num_retries: u32,
    /// Statuses retried under `retriable-status-codes`.
    pub retriable_status_codes: Vec<u16>,
    /// Bounds each attempt; `None` (the default) leaves only the route timeout.
    pub per_try_timeout: Option<Duration>,
    /// On a per-try timeout, start another attempt but let the first run on; the first
    /// good response wins (Envoy `hedge_on_per_try_timeout`). Default off.
    pub hedge_on_per_try_timeout: bool,
    pub backoff: Backoff,
    /// `Some(cap)`: wait as long as a retriable response's `Retry-After` asks, when that is
    /// at most `cap` (a longer one is ignored and the backoff applies, as Envoy's
    /// `rate_limited_retry_back_off` with its 300 s default). Default `None`.
    pub retry_after: Option<Duration>,
    /// Record tried hosts in [`PreviousHosts`](super::PreviousHosts) so the balancer can
    /// avoid them (Envoy's `previous_hosts` retry host predicate). Default off.
    pub avoid_previous_hosts: bool,
    /// Bytes of request body kept for replay; a longer body is sent once and not retried.
    pub buffer_limit: usize,
    pub classify: Classify,
}

impl RetryPolicy {
    /// Envoy's default `per_request_buffer_limit_bytes` is the listener's 1 MiB buffer
    /// limit. Kept at that: retried bodies are mostly small JSON or protobuf, and
    /// the cap applies only while a request is in flight.
    pub const DEFAULT_BUFFER_LIMIT: usize = 1024 * 1024;

    /// The cap Envoy's `rate_limited_retry_back_off.max_interval` defaults to.
    pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(300);

    /// Whether a response is retriable under this policy.
    pub fn retries_response<B>(&self, response: &http::Response<B>) -> bool {
        retries_response(
            self.retry_on,
            response.status(),
            response.headers(),
            &self.retriable_status_codes,
        )
    }
}

impl RetryPolicy {
    /// The layer's policy for a route's validated `retry_policy` and its
    /// `per_request_buffer_limit_bytes`; errors are judged by `classify`.
    pub fn from_config(
        config: &mesh_core::policy::RetryPolicy,
        buffer_limit: u64,
        classify: Classify,
    ) -> Self {
        let back_off = &config.retry_back_off;
        RetryPolicy {
            retry_on: config.retry_on,
            num_retries: config.num_retries,
            retriable_status_codes: config.retriable_status_codes.clone(),
            per_try_timeout: config.per_try_timeout,
            hedge_on_per_try_timeout: config.hedge_policy.hedge_on_per_try_timeout,
            // mesh-core validated the same bounds, so the default is never used.
            backoff: Backoff::new(back_off.base_interval(), Some(back_off.max_interval()))
                .unwrap_or_default(),
            retry_after: config
                .rate_limited_retry_back_off
                .as_ref()
                .map(|r| r.max_interval),
            avoid_previous_hosts: config.avoids_previous_hosts(),
            buffer_limit: usize::try_from(buffer_limit).unwrap_or(usize::MAX),
            classify,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retry_on: RetryOn::NONE,
            num_retries: 1,
            retriable_status_codes: Vec::new(),
            per_try_timeout: None,
            hedge_on_per_try_timeout: false,
            backoff: Backoff::default(),
            retry_after: None,
            avoid_previous_hosts: false,
            buffer_limit: Self::DEFAULT_BUFFER_LIMIT,
            classify: classify_io,
        }
    }
}
