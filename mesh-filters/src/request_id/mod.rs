//! Request IDs: one ID per call chain, passed upstream, and the trace-sampling decision derived
//! from it so every hop of the chain agrees.
//!
//! Policy ([`RequestIdPolicy`], Envoy's knobs and defaults). The first value of the ID header
//! (`x-request-id`) is kept when it is *acceptable* (1..=128 visible ASCII characters) and
//! *trusted*: the request carries the [`TrustedPeer`] extension, which the proxy inserts for
//! peers inside the mesh (Envoy's non-edge requests), or `preserve_external` is on. Otherwise,
//! with `generate` on (the default), a new UUIDv4 replaces it. The chosen ID is written back as
//! the header's only value, so the upstream sees exactly one.
//!
//! Extensions: a request with a chosen ID gets [`RequestIdValue`] (for access logs and spans)
//! and [`Sampled`], computed by [`sampled`] from the ID and `sampling` (default 1%); the same
//! ID gives the same decision in every process, so 1% of call chains are traced whole.
//!
//! With `generate` off the layer never writes the header: an ID it would have replaced goes
//! upstream untouched (as in Envoy), but the layer does not vouch for it, so the request gets
//! no [`RequestIdValue`] and `Sampled(false)`, as does a request without an ID. An untrusted
//! caller thus never picks its own sampling decision.
//!
//! Response: with `echo_in_response` the chosen ID is copied onto the response, unless the
//! inner service's response already carries the header (its own ID wins).
//!
//! Failure: none of its own; the inner service's errors pass through as [`BoxError`].
//!
//! Without a tower stack: [`assign`] does to a request what the layer does, and returns what to
//! echo; the proxy's router calls it before dispatching.
//!
//! Placement: outermost of the HTTP stack, right after the listener has marked trusted peers
//! and before the access log, tracing, and anything that reads the extensions. Not covered:
//! Envoy's forced tracing (`x-envoy-force-trace`, `x-client-trace-id`), which it records by
//! rewriting a digit of the UUID; IDs here are never rewritten.
//!
//! ```
//! use http::{Request, Response};
//! use mesh_filters::request_id::{RequestIdLayer, RequestIdPolicy, RequestIdValue, Sampled, TrustedPeer};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let upstream = service_fn(|req: Request<()>| async move {
//!     let id = req.extensions().get::<RequestIdValue>().map(|id| id.0.clone());
//!     assert_eq!(id.as_ref(), req.headers().get("x-request-id"));
//!     assert!(req.extensions().get::<Sampled>().is_some());
//!     Ok::<_, std::convert::Infallible>(Response::new(id))
//! });
//! let policy = RequestIdPolicy { echo_in_response: true, ..RequestIdPolicy::default() };
//! let svc = RequestIdLayer::new(policy).layer(upstream);
//!
//! // From a trusted peer, the caller's ID is kept and echoed.
//! let mut req = Request::builder().header("x-request-id", "chain-7").body(()).unwrap();
//! req.extensions_mut().insert(TrustedPeer);
//! let res = svc.clone().oneshot(req).await.unwrap();
//! assert_eq!(res.headers()["x-request-id"], "chain-7");
//!
//! // From anyone else, a fresh UUIDv4 replaces it.
//! let req = Request::builder().header("x-request-id", "chain-7").body(()).unwrap();
//! let res = svc.oneshot(req).await.unwrap();
//! assert_ne!(res.headers()["x-request-id"], "chain-7");
//! assert_eq!(res.headers()["x-request-id"].len(), 36);
//! # }
//! ```

pub mod future;
mod id;
mod policy;
mod sampling;
#[cfg(test)]
mod tests;

pub use id::MAX_ID_LEN;
pub use policy::{RequestIdPolicy, X_REQUEST_ID};
pub use sampling::sampled;

use future::ResponseFuture;
use http::{HeaderName, HeaderValue, Request, Response};
use mesh_core::BoxError;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Request extension set by the proxy for peers it trusts (inside the mesh): their request ID
/// is kept. Requests without it are treated as coming from outside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustedPeer;

/// Request extension: the request ID this layer kept or generated, as sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIdValue(pub HeaderValue);

/// Request extension: whether this call chain is traced; see [`sampled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampled(pub bool);

/// Keeps or assigns request IDs and derives the sampling decision; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct RequestId<S> {
    inner: S,
    policy: Arc<RequestIdPolicy>,
}

impl<S> RequestId<S> {
    pub fn new(inner: S, policy: RequestIdPolicy) -> Self {
        RequestIdLayer::new(policy).layer(inner)
    }

    pub fn policy(&self) -> &RequestIdPolicy {
        &self.policy
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

impl<S, ReqB, ResB> Service<Request<ReqB>> for RequestId<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let echo = assign(&self.policy, &mut req);
        ResponseFuture::new(self.inner.call(req), echo)
    }
}

/// What the layer does to a request, for a caller that is not a tower stack (a proxy's
/// handler): chooses the ID, writes it as the header's only value, inserts [`RequestIdValue`]
/// and [`Sampled`]. Returns the header and value to echo on the response, when configured.
pub fn assign<B>(policy: &RequestIdPolicy, req: &mut Request<B>) -> Option<(HeaderName, HeaderValue)> {
    let chosen = choose(policy, req);
    let sampled = chosen
        .as_ref()
        .is_some_and(|id| sampled(id.as_bytes(), policy.sampling));
    req.extensions_mut().insert(Sampled(sampled));
    let id = chosen?;
    // `insert` drops every other value: the upstream must see one ID, not a list.
    req.headers_mut().insert(policy.header.clone(), id.clone());
    let echo = policy
        .echo_in_response
        .then(|| (policy.header.clone(), id.clone()));
    req.extensions_mut().insert(RequestIdValue(id));
    echo
}

/// The ID this request goes on with, when the policy vouches for one.
fn choose<B>(policy: &RequestIdPolicy, req: &Request<B>) -> Option<HeaderValue> {
    let trusted = policy.preserve_external || req.extensions().get::<TrustedPeer>().is_some();
    match req.headers().get(&policy.header) {
        Some(value) if trusted && id::is_acceptable(value) => Some(value.clone()),
        _ if policy.generate => Some(id::generate()),
        _ => None,
    }
}

/// Builds [`RequestId`]s sharing one policy.
#[derive(Debug, Clone, Default)]
pub struct RequestIdLayer {
    policy: Arc<RequestIdPolicy>,
}

impl RequestIdLayer {
    pub fn new(policy: RequestIdPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestId {
            inner,
            policy: Arc::clone(&self.policy),
        }
    }
}
