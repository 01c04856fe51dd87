//! What a call through the local proxy can fail with, and how the proxy's answers map to it.
//!
//! Policy: a response is an error only when the proxy made it itself and said why in
//! `x-mesh-response-flags` (Envoy's response flags) or `x-mesh-overloaded`: `UO` or the
//! overload header → [`Error::Overloaded`], `UT` (route timeout) and `SI` (stream idle
//! timeout) → [`Error::Timeout`], `UH` → [`Error::NoHealthyUpstream`], `UF` (with or without
//! `URX`, retries exhausted) → [`Error::ConnectFailure`], `UR` → [`Error::UpstreamReset`],
//! `NR` → [`Error::NoRoute`], `RL` → [`Error::RateLimited`]. Every other response, an
//! upstream's 5xx and an injected fault (`FI`) included, is the app's to judge and comes back
//! as `Ok`. A proxy further along the path (the callee's sidecar) answers with the same
//! flags, so its failures map the same way.
//! Failure semantics: no connection to the egress → [`Error::ProxyUnreachable`]; no response
//! headers within the local deadline → [`Error::Timeout`] with [`TimeoutCause::LocalDeadline`].

use http::{HeaderMap, StatusCode};
use std::fmt;
use std::time::Duration;

/// Errors at the client's boundary carry the underlying cause boxed, as elsewhere in mesh.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The header the proxy's local replies carry their response flags in.
pub const RESPONSE_FLAGS: &str = "x-mesh-response-flags";
/// The header a circuit-breaker overflow reply carries (`true`).
pub const OVERLOADED: &str = "x-mesh-overloaded";

/// A reply the proxy made itself: its status and response flags (`UF,URX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyReply {
    pub status: StatusCode,
    pub flags: String,
}

impl fmt::Display for ProxyReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.flags.is_empty() { "-" } else { &self.flags };
        write!(f, "proxy replied {}, flags {flags}", self.status.as_u16())
    }
}

/// Why a call timed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeoutCause {
    /// The proxy's timeout fired (the `x-mesh-upstream-rq-timeout-ms` the client sent, or the
    /// route's): the upstream was too slow.
    Proxy(ProxyReply),
    /// No response headers came back within the local deadline (the timeout plus a grace):
    /// the proxy itself is stuck or gone.
    LocalDeadline(Duration),
}

impl fmt::Display for TimeoutCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeoutCause::Proxy(reply) => reply.fmt(f),
            TimeoutCause::LocalDeadline(d) => write!(f, "no response from the proxy within {d:?}"),
        }
    }
}

/// A failed call. Match on it, or on [`Error::kind`] to branch without the details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("call to {service:?} timed out: {cause}")]
    Timeout { service: String, cause: TimeoutCause },
    #[error("call to {service:?} refused: the upstream is overloaded (circuit breaker open): {reply}")]
    Overloaded { service: String, reply: ProxyReply },
    #[error("call to {service:?} failed: no healthy upstream: {reply}")]
    NoHealthyUpstream { service: String, reply: ProxyReply },
    #[error("call to {service:?} failed: could not connect to the upstream: {reply}")]
    ConnectFailure { service: String, reply: ProxyReply },
    #[error("call to {service:?} failed: the upstream reset the request: {reply}")]
    UpstreamReset { service: String, reply: ProxyReply },
    #[error("call to {service:?} failed: the proxy has no route for it: {reply}")]
    NoRoute { service: String, reply: ProxyReply },
    #[error("call to {service:?} was rate limited: {reply}")]
    RateLimited { service: String, reply: ProxyReply },
    #[error("call to {service:?} failed: the local proxy at {egress} is unreachable: {source}")]
    ProxyUnreachable {
        service: String,
        egress: String,
        #[source]
        source: BoxError,
    },
    /// The connection to the proxy failed after it was made (closed mid-request, bad framing).
    #[error("call to {service:?} failed talking to the local proxy: {source}")]
    Transport {
        service: String,
        #[source]
        source: BoxError,
    },
    /// The request could not be built (the service name is not a valid host, say).
    #[error("call to {service:?} is not a valid request: {reason}")]
    InvalidRequest { service: String, reason: String },
}

/// The condition of an [`Error`], without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    Timeout,
    Overloaded,
    NoHealthyUpstream,
    ConnectFailure,
    UpstreamReset,
    NoRoute,
    RateLimited,
    ProxyUnreachable,
    Transport,
    InvalidRequest,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Overloaded { .. } => ErrorKind::Overloaded,
            Error::NoHealthyUpstream { .. } => ErrorKind::NoHealthyUpstream,
            Error::ConnectFailure { .. } => ErrorKind::ConnectFailure,
            Error::UpstreamReset { .. } => ErrorKind::UpstreamReset,
            Error::NoRoute { .. } => ErrorKind::NoRoute,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::ProxyUnreachable { .. } => ErrorKind::ProxyUnreachable,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
        }
    }

    /// The proxy's reply behind the error, when the proxy answered.
    pub fn reply(&self) -> Option<&ProxyReply> {
        match self {
            Error::Timeout {
                cause: TimeoutCause::Proxy(reply),
                ..
            }
            | Error::Overloaded { reply, .. }
            | Error::NoHealthyUpstream { reply, .. }
            | Error::ConnectFailure { reply, .. }
            | Error::UpstreamReset { reply, .. }
            | Error::NoRoute { reply, .. }
            | Error::RateLimited { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The HTTP status of the proxy's reply, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.reply().map(|r| r.status)
    }

    /// The response flags of the proxy's reply, when it answered.
    pub fn flags(&self) -> Option<&str> {
        self.reply().map(|r| r.flags.as_str())
    }
}

/// The condition a proxy reply stands for, or `None` for a response the app should see.
pub fn classify(status: StatusCode, headers: &HeaderMap) -> Option<ErrorKind> {
    // A 2xx never maps: a flag on a success (`URX` after a retry that worked, say) is
    // informational. gRPC's trailers-only replies are 200s and go through `classify_flags`.
    if status.is_success() && !is_overloaded(headers) {
        return None;
    }
    classify_flags(headers)
}

fn is_overloaded(headers: &HeaderMap) -> bool {
    headers
        .get(OVERLOADED)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// The condition the proxy's flags (or its overload header) name in `headers`, if any.
pub(crate) fn classify_flags(headers: &HeaderMap) -> Option<ErrorKind> {
    let flags = headers
        .get(RESPONSE_FLAGS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let has = |flag: &str| flags.split(',').any(|f| f.trim() == flag);
    if is_overloaded(headers) || has("UO") {
        Some(ErrorKind::Overloaded)
    } else if has("UT") || has("SI") {
        Some(ErrorKind::Timeout)
    } else if has("UH") {
        Some(ErrorKind::NoHealthyUpstream)
    } else if has("UF") {
        Some(ErrorKind::ConnectFailure)
    } else if has("UR") {
        Some(ErrorKind::UpstreamReset)
    } else if has("NR") {
        Some(ErrorKind::NoRoute)
    } else if has("RL") {
        Some(ErrorKind::RateLimited)
    } else {
        None
    }
}

/// The error for a proxy reply of kind `kind` (from [`classify`]).
pub(crate) fn from_reply(kind: ErrorKind, service: &str, status: StatusCode, headers: &HeaderMap) -> Error {
    let service = service.to_owned();
    let flags = headers
        .get(RESPONSE_FLAGS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let reply = ProxyReply { status, flags };
    match kind {
        ErrorKind::Timeout => Error::Timeout {
            service,
            cause: TimeoutCause::Proxy(reply),
        },
        ErrorKind::Overloaded => Error::Overloaded { service, reply },
        ErrorKind::NoHealthyUpstream => Error::NoHealthyUpstream { service, reply },
        ErrorKind::ConnectFailure => Error::ConnectFailure { service, reply },
        ErrorKind::UpstreamReset => Error::UpstreamReset { service, reply },
        ErrorKind::NoRoute => Error::NoRoute { service, reply },
        // `classify` yields only the reply kinds above and `RateLimited`.
        _ => Error::RateLimited { service, reply },
    }
}

#[cfg(test)]
mod tests;
