//! Adds `x-mesh-upstream-service-time` to responses: Envoy's `x-envoy-upstream-service-time`.
//!
//! Policy: the value is the whole milliseconds (truncated, as Envoy) from the call of this
//! layer to the arrival of the response headers. Placed just inside the route timeout and
//! outside the retry layer, that is the time from sending the request upstream to the final
//! response, across tries and backoffs, as Envoy measures it. A value the upstream set itself
//! is replaced, so the caller always sees this hop's measurement.
//!
//! Failure: errors pass through untouched (local replies carry no service time).

use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::time::Instant;
use tower::{Layer, Service};

/// `x-mesh-upstream-service-time`: milliseconds spent upstream, set on every response.
pub static UPSTREAM_SERVICE_TIME: http::HeaderName =
    http::HeaderName::from_static("x-mesh-upstream-service-time");

/// Stamps each response with the time it took upstream; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct ServiceTime<S> {
    inner: S,
}

impl<S> ServiceTime<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
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
}

impl<S, Req, ResB> Service<Req> for ServiceTime<S>
where
    S: Service<Req, Response = http::Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<ResB>;
    type Error = BoxError;
    type Future = ServiceTimeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        ServiceTimeFuture {
            start: Instant::now(),
            inner: self.inner.call(req),
        }
    }
}

/// Builds [`ServiceTime`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceTimeLayer;

impl ServiceTimeLayer {
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for ServiceTimeLayer {
    type Service = ServiceTime<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServiceTime::new(inner)
    }
}

pin_project! {
    /// The response future of [`ServiceTime`].
    #[derive(Debug)]
    pub struct ServiceTimeFuture<F> {
        #[pin]
        inner: F,
        start: Instant,
    }
}

impl<F, ResB, E> Future for ServiceTimeFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx)).map_err(Into::into)?;
        let millis = u64::try_from(this.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        response
            .headers_mut()
            .insert(&UPSTREAM_SERVICE_TIME, http::HeaderValue::from(millis));
        Poll::Ready(Ok(response))
    }
}
