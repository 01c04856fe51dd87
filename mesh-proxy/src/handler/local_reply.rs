//! The one place where proxy-side failures become responses.
//!
//! Each failure carries Envoy's response flag, sent in `x-mesh-response-flags` so a
//! user can tell a missing route from a dead upstream from a slow one. gRPC callers
//! (content-type `application/grpc`) get Envoy's trailers-only reply instead: HTTP 200
//! with `grpc-status` mapped from the HTTP status, since gRPC clients ignore bodies.

use crate::body::{ProxyBody, full};
use http::{HeaderValue, Response, StatusCode};
use mesh_core::BoxError;

pub(crate) use mesh_filters::access_log::RESPONSE_FLAGS_HEADER as RESPONSE_FLAGS;

/// Why the proxy answered a request itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    #[error("no route matched the request")]
    NoRoute,
    #[error("no healthy upstream")]
    NoHealthyUpstream,
    #[error("upstream connect error or disconnect/reset before headers. reset reason: connection failure")]
    ConnectFailure(#[source] BoxError),
    #[error("upstream connect error or disconnect/reset before headers. reset reason: remote reset")]
    UpstreamReset(#[source] BoxError),
    #[error("upstream request timeout")]
    Timeout,
    /// The route's `idle_timeout`: no bytes moved for that long before response headers.
    #[error("stream timeout")]
    StreamIdleTimeout,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A circuit breaker of the cluster is full (Envoy's `UO`): 503 with
    /// `x-mesh-overloaded: true`.
    #[error("upstream overflow: {0}")]
    Overflow(#[source] mesh_filters::circuit_breaker::CircuitOpen),
    /// The local rate limit's bucket is empty (Envoy's `RL`): 429 with `retry-after`.
    #[error("local rate limited")]
    RateLimited(#[source] mesh_filters::rate_limit::RateLimited),
    /// Fault injection aborted the request (Envoy's `FI`, with `DI` when it was also
    /// delayed): the configured HTTP status, or a gRPC status as a trailers-only reply.
    #[error("fault filter abort")]
    FaultAbort(#[source] mesh_filters::fault::FaultAbort),
    /// The retry policy's retries were all used and the last try failed this way (Envoy's
    /// `URX` beside the failure's own flag).
    #[error(transparent)]
    RetriesExhausted(Box<ProxyError>),
}

impl ProxyError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoRoute => StatusCode::NOT_FOUND,
            ProxyError::NoHealthyUpstream | ProxyError::ConnectFailure(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::UpstreamReset(_) => StatusCode::BAD_GATEWAY,
            ProxyError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::StreamIdleTimeout => StatusCode::REQUEST_TIMEOUT,
            ProxyError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ProxyError::Overflow(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            // A gRPC abort answers 200 with its grpc-status (see `into_response`).
            ProxyError::FaultAbort(f) => f.status.unwrap_or(StatusCode::OK),
            ProxyError::RetriesExhausted(last) => last.status(),
        }
    }

    /// Envoy's response flag for the access log and `x-mesh-response-flags`.
    pub(crate) fn flag(&self) -> &'static str {
        match self {
            ProxyError::NoRoute => "NR",
            ProxyError::NoHealthyUpstream => "UH",
            ProxyError::ConnectFailure(_) => "UF",
            ProxyError::UpstreamReset(_) => "UR",
            ProxyError::Timeout => "UT",
            ProxyError::StreamIdleTimeout => "SI",
            ProxyError::BadRequest(_) => "DPE",
            ProxyError::Overflow(_) => "UO",
            ProxyError::RateLimited(_) => "RL",
            ProxyError::FaultAbort(f) if f.delayed.is_some() => "DI,FI",
            ProxyError::FaultAbort(_) => "FI",
            ProxyError::RetriesExhausted(last) => match **last {
                ProxyError::ConnectFailure(_) => "UF,URX",
                ProxyError::UpstreamReset(_) => "UR,URX",
                ProxyError::Timeout => "UT,URX",
                ProxyError::Overflow(_) => "UO,URX",
                _ => "URX",
            },
        }
    }

    /// The reply; `grpc` when the request was a gRPC call.
    pub(crate) fn into_response(self, grpc: bool) -> Response<ProxyBody> {
        let flag = self.flag();
        if let ProxyError::RetriesExhausted(last) = self {
            let mut response = last.into_response(grpc);
            response
                .headers_mut()
                .insert(&RESPONSE_FLAGS, HeaderValue::from_static(flag));
            return response;
        }
        let status = self.status();
        let message = self.to_string();
        let mut builder = Response::builder().header(&RESPONSE_FLAGS, flag);
        match &self {
            // The framing of this connection can no longer be trusted.
            ProxyError::BadRequest(_) => builder = builder.header(http::header::CONNECTION, "close"),
            ProxyError::Overflow(_) => builder = builder.header("x-mesh-overloaded", "true"),
            ProxyError::RateLimited(limited) => {
                builder = builder.header(http::header::RETRY_AFTER, limited.retry_after_secs())
            }
            _ => {}
        }
        // An injected gRPC abort is a gRPC reply whatever the request looked like.
        let injected_grpc = match &self {
            ProxyError::FaultAbort(f) => f.grpc_status.map(|code| code.to_string()),
            _ => None,
        };
        let response = if let Some(code) = injected_grpc {
            builder
                .status(StatusCode::OK)
                .header(http::header::CONTENT_TYPE, "application/grpc")
                .header("grpc-status", code)
                .header("grpc-message", HeaderValue::from_static("fault filter abort"))
                .body(crate::body::empty())
        } else if grpc {
            builder
                .status(StatusCode::OK)
                .header(http::header::CONTENT_TYPE, "application/grpc")
                .header("grpc-status", grpc_status(status).to_string())
                .header(
                    "grpc-message",
                    HeaderValue::from_str(&message).unwrap_or(HeaderValue::from_static("")),
                )
                .body(crate::body::empty())
        } else {
            builder
                .status(status)
                .header(http::header::CONTENT_TYPE, "text/plain")
                .body(full(message))
        };
        response.unwrap_or_else(|_| {
            let mut r = Response::new(crate::body::empty());
            *r.status_mut() = status;
            r
        })
    }
}

/// Envoy's HTTP → gRPC status mapping for local replies.
fn grpc_status(status: StatusCode) -> u8 {
    match status.as_u16() {
        400 => 13,                   // INTERNAL
        401 => 16,                   // UNAUTHENTICATED
        403 => 7,                    // PERMISSION_DENIED
        404 => 12,                   // UNIMPLEMENTED
        429 | 502 | 503 | 504 => 14, // UNAVAILABLE
        _ => 2,                      // UNKNOWN
    }
}

pub(crate) fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_status_and_flag() {
        let io = || -> BoxError { "x".into() };
        let cases = [
            (ProxyError::NoRoute, 404, "NR"),
            (ProxyError::NoHealthyUpstream, 503, "UH"),
            (ProxyError::ConnectFailure(io()), 503, "UF"),
            (ProxyError::UpstreamReset(io()), 502, "UR"),
            (ProxyError::Timeout, 504, "UT"),
            (ProxyError::StreamIdleTimeout, 408, "SI"),
            (ProxyError::BadRequest("cl+te"), 400, "DPE"),
            (
                ProxyError::RetriesExhausted(Box::new(ProxyError::ConnectFailure(io()))),
                503,
                "UF,URX",
            ),
            (
                ProxyError::RetriesExhausted(Box::new(ProxyError::Timeout)),
                504,
                "UT,URX",
            ),
            (
                ProxyError::Overflow(mesh_filters::circuit_breaker::CircuitOpen::new(
                    mesh_filters::circuit_breaker::Resource::Requests,
                )),
                503,
                "UO",
            ),
        ];
        for (err, code, flag) in cases {
            let r = err.into_response(false);
            assert_eq!(r.status().as_u16(), code);
            assert_eq!(r.headers()[&RESPONSE_FLAGS], flag);
        }
    }

    #[test]
    fn grpc_callers_get_trailers_only_replies() {
        let r = ProxyError::NoHealthyUpstream.into_response(true);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["grpc-status"], "14");
        assert_eq!(r.headers()["content-type"], "application/grpc");
    }
}
