//! Takes the incoming request's context into the task-local for the time it is handled.
//!
//! Policy: for every `http::Request<B>` (any body, so hyper, axum and tonic servers alike),
//! [`MeshContextService`] reads the propagated headers ([`PROPAGATED`](super::PROPAGATED))
//! into a [`MeshContext`] and runs the inner service's `call` and its response future inside
//! that context, so [`MeshClient`](crate::MeshClient) calls made while handling the request
//! carry its request ID and trace context without the handler passing them.
//! Defaults: nothing to configure; a request without those headers runs with an empty context.
//! Failure: never fails; the inner service's errors pass through unchanged.
//! Placement: outermost in the app's server stack, so every handler sees the context. The
//! response body is streamed after the future completes, outside the scope: work done while
//! producing a streaming body must be wrapped in [`scope`](super::scope).
//!
//! ```
//! use mesh_client::context::{MeshContext, MeshContextLayer};
//! use std::convert::Infallible;
//! use tower::{Layer, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Infallible> {
//! let handler = service_fn(|_req: http::Request<()>| async {
//!     // What a MeshClient call made here would carry.
//!     let ctx = MeshContext::current().unwrap_or_default();
//!     Ok::<_, Infallible>(ctx.request_id().unwrap_or("none").to_owned())
//! });
//! let mut svc = MeshContextLayer::new().layer(handler);
//! let req = http::Request::builder().header("x-request-id", "abc").body(()).unwrap();
//! assert_eq!(svc.ready().await?.call(req).await?, "abc");
//! # Ok(()) }
//! ```
//!
//! A tonic server takes the same layer: `Server::builder().layer(MeshContextLayer::new())`;
//! for hyper, wrap the service with `hyper_util::service::TowerToHyperService`.

use super::MeshContext;
use std::task::{Context, Poll};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

/// Makes [`MeshContextService`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeshContextLayer {
    _private: (),
}

impl MeshContextLayer {
    pub fn new() -> MeshContextLayer {
        MeshContextLayer::default()
    }
}

impl<S> Layer<S> for MeshContextLayer {
    type Service = MeshContextService<S>;

    fn layer(&self, inner: S) -> MeshContextService<S> {
        MeshContextService::new(inner)
    }
}

/// Runs `S` inside the incoming request's [`MeshContext`].
#[derive(Debug, Clone)]
pub struct MeshContextService<S> {
    inner: S,
}

impl<S> MeshContextService<S> {
    pub fn new(inner: S) -> MeshContextService<S> {
        MeshContextService { inner }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<http::Request<B>> for MeshContextService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<MeshContext, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let ctx = MeshContext::from_headers(req.headers());
        // `call` itself may start work before returning its future (a closure-based handler
        // does), so it runs in the scope too.
        let inner = &mut self.inner;
        let fut = ctx.clone().sync_scope(|| inner.call(req));
        ctx.scope(fut)
    }
}
