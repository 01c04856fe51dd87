//! Timeouts and retries for calls through the local proxy: the client's defaults, a call's
//! [`CallOptions`], and the `x-mesh-*` headers that carry the result to the proxy.
//!
//! Policy: the egress listener trusts its app (`trusted_cidrs: [127.0.0.0/8]`) and honours
//! `x-mesh-upstream-rq-timeout-ms`, `x-mesh-upstream-rq-per-try-timeout-ms`,
//! `x-mesh-max-retries` and `x-mesh-retry-on` (Envoy's `x-envoy-*` controls). A call's options
//! win over the client's defaults; a control header the caller set on the request wins over both.
//!
//! Defaults: a 15 s timeout (Envoy's route default) and [`Retries::Safe`], at most 2 retries:
//! `connect-failure,refused-stream` for every method, since the upstream provably never saw
//! the request, plus `reset,gateway-error` for idempotent methods (RFC 9110: GET, HEAD,
//! OPTIONS, TRACE, PUT, DELETE), where a repeat cannot do harm although the first try may have
//! reached the upstream. A POST is therefore never retried after it may have been processed.
//! Besides the proxy's timeout the client keeps a local deadline, the timeout plus a grace
//! (1 s by default), so a stuck or vanished proxy cannot hang the caller.
//! Failure: none here; an out-of-range duration is clamped to `u64::MAX` ms.
//!
//! ```
//! use mesh_client::CallOptions;
//! use std::time::Duration;
//!
//! // A report that may take a minute, and must not be retried.
//! let slow = CallOptions::new().timeout(Duration::from_secs(60)).no_retries();
//! # let _ = slow;
//! ```

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use mesh_core::policy::RetryOn;
use std::time::Duration;

/// The timeout when neither the client nor the call sets one: Envoy's route default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Retries after the first try under the default policy.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// How much longer than the timeout the client waits for the proxy's answer.
pub const DEFAULT_DEADLINE_GRACE: Duration = Duration::from_secs(1);

pub(crate) const RQ_TIMEOUT: HeaderName = HeaderName::from_static("x-mesh-upstream-rq-timeout-ms");
pub(crate) const PER_TRY_TIMEOUT: HeaderName =
    HeaderName::from_static("x-mesh-upstream-rq-per-try-timeout-ms");
pub(crate) const MAX_RETRIES: HeaderName = HeaderName::from_static("x-mesh-max-retries");
pub(crate) const RETRY_ON: HeaderName = HeaderName::from_static("x-mesh-retry-on");

/// Which failures the proxy retries for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    /// The default: failures the upstream never saw, and for idempotent methods also resets
    /// and gateway errors (502/503/504); at most `max` retries.
    Safe { max: u32 },
    /// No retries, not even the route's own (`x-mesh-max-retries: 0`).
    Off,
    /// Exactly these conditions (HTTP and gRPC names alike), at most `max` retries.
    On { on: RetryOn, max: u32 },
}

impl Default for Retries {
    fn default() -> Retries {
        Retries::Safe {
            max: DEFAULT_MAX_RETRIES,
        }
    }
}

/// Settings for one call, overriding the client's. Pass them to
/// [`MeshClient::request_with`](crate::MeshClient::request_with), or put them in the request's
/// extensions for [`MeshClient::request`](crate::MeshClient::request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct CallOptions {
    timeout: Option<Option<Duration>>,
    per_try_timeout: Option<Duration>,
    retries: Option<Retries>,
}

impl CallOptions {
    /// Everything as the client's defaults.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// The whole call, retries included, must answer within `timeout` (zero: no timeout).
    pub fn timeout(mut self, timeout: Duration) -> CallOptions {
        self.timeout = Some(Some(timeout).filter(|d| !d.is_zero()));
        self
    }

    /// No timeout at the proxy (the route's is lifted too) and no local deadline.
    pub fn no_timeout(mut self) -> CallOptions {
        self.timeout = Some(None);
        self
    }

    /// Each try must answer within `timeout`; a try that does not is retried if retries allow.
    pub fn per_try_timeout(mut self, timeout: Duration) -> CallOptions {
        self.per_try_timeout = Some(timeout);
        self
    }

    /// Which failures to retry, and how often.
    pub fn retries(mut self, retries: Retries) -> CallOptions {
        self.retries = Some(retries);
        self
    }

    /// Shorthand for `retries(Retries::Off)`.
    pub fn no_retries(self) -> CallOptions {
        self.retries(Retries::Off)
    }
}

/// A client's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Defaults {
    pub(crate) timeout: Option<Duration>,
    pub(crate) per_try_timeout: Option<Duration>,
    pub(crate) retries: Retries,
    pub(crate) grace: Duration,
}

impl Default for Defaults {
    fn default() -> Defaults {
        Defaults {
            timeout: Some(DEFAULT_TIMEOUT),
            per_try_timeout: None,
            retries: Retries::default(),
            grace: DEFAULT_DEADLINE_GRACE,
        }
    }
}

/// What one call runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effective {
    pub(crate) timeout: Option<Duration>,
    per_try_timeout: Option<Duration>,
    retries: Retries,
    grace: Duration,
}

impl Defaults {
    pub(crate) fn resolve(&self, call: Option<&CallOptions>) -> Effective {
        let call = call.cloned().unwrap_or_default();
        Effective {
            timeout: call.timeout.unwrap_or(self.timeout),
            per_try_timeout: call.per_try_timeout.or(self.per_try_timeout),
            retries: call.retries.unwrap_or(self.retries),
            grace: self.grace,
        }
    }
}

impl Effective {
    /// How long the client waits for response headers before giving up on the proxy.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        self.timeout.map(|t| t.saturating_add(self.grace))
    }

    /// The timeout of a gRPC call that set its own deadline (`grpc-timeout`) is that deadline.
    #[cfg(feature = "grpc")]
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Effective {
        self.timeout = Some(timeout);
        self
    }

    /// Writes the control headers for a `method` request, keeping any the caller set.
    pub(crate) fn apply(&self, method: &Method, headers: &mut HeaderMap) {
        set(headers, RQ_TIMEOUT, || {
            millis(self.timeout.unwrap_or(Duration::ZERO))
        });
        if let Some(per_try) = self.per_try_timeout {
            set(headers, PER_TRY_TIMEOUT, || millis(per_try));
        }
        let (on, max) = match self.retries {
            Retries::Off => (None, 0),
            Retries::On { on, max } => (Some(on), max),
            Retries::Safe { max } => (Some(safe_retry_on(method)), max),
        };
        if let Some(on) = on.filter(|on| !on.is_empty()) {
            set(headers, RETRY_ON, || HeaderValue::from_str(&on.to_string()).ok());
        }
        set(headers, MAX_RETRIES, || Some(HeaderValue::from(max)));
    }
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: impl FnOnce() -> Option<HeaderValue>) {
    if !headers.contains_key(&name)
        && let Some(value) = value()
    {
        headers.insert(name, value);
    }
}

fn millis(d: Duration) -> Option<HeaderValue> {
    Some(HeaderValue::from(
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
    ))
}

/// See the module doc for why these.
fn safe_retry_on(method: &Method) -> RetryOn {
    use mesh_core::policy::Condition::{ConnectFailure, GatewayError, RefusedStream, Reset};
    let unseen = RetryOn::NONE.with(ConnectFailure).with(RefusedStream);
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    );
    if idempotent {
        unseen.with(Reset).with(GatewayError)
    } else {
        unseen
    }
}

#[cfg(test)]
mod tests;
