//! Bounds how long a request may wait for its response headers: the route timeout and the
//! per-try timeout, plus the `x-mesh-upstream-service-time` response header.
//!
//! Policy: [`Timeout::new`] (the route timeout) fails the request with [`RouteTimeout`] when no
//! response headers arrived within the route's `timeout` (Envoy's default
//! [`DEFAULT_ROUTE_TIMEOUT`], 15 s); [`Timeout::per_try`] fails one attempt with
//! [`PerTryTimeout`] after `per_try_timeout` (no default: unset means only the route timeout
//! bounds a try). `None` or a zero duration disables a timeout, as `0s` does in Envoy.
//!
//! Overrides: a request may carry a [`TimeoutOverride`] extension, which replaces the
//! configured value for that request only (`Some(Duration::ZERO)` disables it). The proxy
//! fills it from `x-mesh-upstream-rq-timeout-ms` and `x-mesh-upstream-rq-per-try-timeout-ms`
//! (Envoy's `x-envoy-upstream-rq-*`), and only for trusted peers; this layer never reads
//! headers itself, so an untrusted client cannot stretch a timeout by sending one. A per-try
//! override longer than the route timeout is harmless here: the route timeout fires first
//! (Envoy drops such an override, to the same effect).
//!
//! Scope: the clock starts when the layer is called and stops at the response headers. Unlike
//! Envoy, which starts at the end of the downstream request, a slow request upload counts
//! against the timeout; a response body, once started, is bounded by the stream idle timeout,
//! not this one. Only the response future is bounded: waiting for the inner service to become
//! ready is the inner stack's business (the circuit breaker's pending limit).
//!
//! Failure: the inner future is dropped (which cancels the upstream exchange) and the error is
//! returned; the proxy answers 504 with flag `UT` (see the error types).
//!
//! Placement: the route timeout wraps the retry layer, so it bounds every try and backoff;
//! the per-try timeout sits inside the retry layer, above the balancer. [`ServiceTime`] goes
//! between the route timeout and the retry layer, so it measures across tries as Envoy does.
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response};
//! use mesh_filters::timeout::{RouteTimeout, TimeoutLayer, TimeoutOverride};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let slow = service_fn(|_req: Request<()>| async {
//!     tokio::time::sleep(Duration::from_secs(5)).await;
//!     Ok::<_, std::convert::Infallible>(Response::new(()))
//! });
//! let svc = TimeoutLayer::route(Some(Duration::from_secs(15))).layer(slow);
//! assert!(svc.clone().oneshot(Request::new(())).await.is_ok());
//!
//! // A trusted caller asked for 1 s on this request.
//! let mut req = Request::new(());
//! req.extensions_mut().insert(TimeoutOverride { route: Some(Duration::from_secs(1)), per_try: None });
//! let err = svc.oneshot(req).await.unwrap_err();
//! assert_eq!(err.downcast_ref(), Some(&RouteTimeout { after: Duration::from_secs(1) }));
//! # }
//! ```

pub mod error;
pub mod future;
mod service_time;
#[cfg(test)]
mod tests;

pub use error::{PerTryTimeout, RouteTimeout};
pub use service_time::{ServiceTime, ServiceTimeLayer, UPSTREAM_SERVICE_TIME};

use future::ResponseFuture;
use mesh_core::BoxError;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service};

/// Envoy's route timeout when a route sets none.
pub const DEFAULT_ROUTE_TIMEOUT: Duration = Duration::from_secs(15);

/// Per-request timeouts set by a trusted caller; see the [module docs](self).
///
/// `None` keeps the configured value; `Some(Duration::ZERO)` disables that timeout for this
/// request (Envoy's header value `0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeoutOverride {
    /// Replaces the route timeout (`x-mesh-upstream-rq-timeout-ms`).
    pub route: Option<Duration>,
    /// Replaces the per-try timeout (`x-mesh-upstream-rq-per-try-timeout-ms`).
    pub per_try: Option<Duration>,
}

/// Which timeout a [`Timeout`] enforces: it picks the override field and the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Route,
    PerTry,
}

/// Fails a request whose response headers do not arrive in time; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    timeout: Option<Duration>,
    scope: Scope,
}

impl<S> Timeout<S> {
    /// The route timeout: `None` (or zero) disables it.
    pub fn new(inner: S, timeout: Option<Duration>) -> Self {
        Self {
            inner,
            timeout,
            scope: Scope::Route,
        }
    }

    /// The per-try timeout: `None` (or zero) disables it.
    pub fn per_try(inner: S, timeout: Option<Duration>) -> Self {
        Self {
            inner,
            timeout,
            scope: Scope::PerTry,
        }
    }

    /// The configured timeout, before any per-request override; `None` when disabled.
    pub fn timeout(&self) -> Option<Duration> {
        enabled(self.timeout)
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The timeout for this request: the override when the caller set one, else the config.
    fn effective<B>(&self, req: &http::Request<B>) -> Option<Duration> {
        let over = req
            .extensions()
            .get::<TimeoutOverride>()
            .and_then(|o| match self.scope {
                Scope::Route => o.route,
                Scope::PerTry => o.per_try,
            });
        enabled(over.or(self.timeout))
    }
}

/// Zero means "no timeout" everywhere, as in Envoy; a zero-length sleep would fail every request.
fn enabled(timeout: Option<Duration>) -> Option<Duration> {
    timeout.filter(|t| !t.is_zero())
}

impl<S, B> Service<http::Request<B>> for Timeout<S>
where
    S: Service<http::Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let timeout = self.effective(&req);
        ResponseFuture::new(self.inner.call(req), timeout, self.scope)
    }
}

/// Builds [`Timeout`]s; the default is Envoy's 15 s route timeout.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    timeout: Option<Duration>,
    scope: Scope,
}

impl TimeoutLayer {
    /// Route timeouts of `timeout` (`None` or zero: disabled).
    pub fn route(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            scope: Scope::Route,
        }
    }

    /// Per-try timeouts of `timeout` (`None` or zero: disabled).
    pub fn per_try(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            scope: Scope::PerTry,
        }
    }
}

impl Default for TimeoutLayer {
    fn default() -> Self {
        Self::route(Some(DEFAULT_ROUTE_TIMEOUT))
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            timeout: self.timeout,
            scope: self.scope,
        }
    }
}
