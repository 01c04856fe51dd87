//! Envoy's cluster circuit breakers: fixed thresholds on the work a cluster takes, failing at once.
//!
//! Policy: a [`Breaker`] counts, per cluster and per priority (one `Breaker` each; the caller picks
//! by the route's priority), open connections, pending requests, active requests and active
//! retries, and admits one more only below its [`Thresholds`]. Retries are limited by
//! `max_retries`, or, when a [`RetryBudget`] is set, by `max(min_retry_concurrency, budget_percent%
//! of (active + pending requests))` instead, rounded down. The counters are atomics shared by
//! clones of the `Breaker`; each `try_*` returns a guard that gives its slot back on drop.
//!
//! Defaults (Envoy's): `max_connections` 1024, `max_pending_requests` 1024, `max_requests` 1024,
//! `max_retries` 3, no retry budget; a budget defaults to 20% with `min_retry_concurrency` 3.
//!
//! Failure: overflow never waits. The attempt fails at once with [`CircuitOpen`] naming the
//! [`Resource`], nothing reaches the upstream, and the resource's overflow counter goes up (see
//! [`Overflows`]: Envoy's `upstream_rq_pending_overflow` counts both pending and request
//! overflows). The proxy maps `CircuitOpen` to a local 503 with `x-mesh-overloaded: true` and the
//! response flag `UO`; as in Envoy, an overflow is not retried.
//!
//! The [`CircuitBreaker`] service (built by [`CircuitBreakerLayer`]) applies the request
//! thresholds:
//! - `poll_ready` drives the inner service. While the inner service is not ready the caller's
//!   request is *pending*: the first `Pending` takes a pending slot, held until the inner service
//!   is ready (or fails, or this `CircuitBreaker` is dropped). With no pending slot left,
//!   `poll_ready` returns `Ready(Ok)` and the next `call` fails at once with
//!   `CircuitOpen(PendingRequests)` without touching the inner service: back-pressure within the
//!   threshold, an immediate failure past it. Because the slot belongs to the service value, clone
//!   it per request (`svc.clone().oneshot(req)`), so that each waiting request counts once.
//! - `call` takes a request slot, or returns a future that fails at once with
//!   `CircuitOpen(Requests)`. The slot is held until the response future resolves or is dropped:
//!   for HTTP that is when the response head arrives. To count a request until its body ends (as
//!   Envoy does), call [`Breaker::try_request`] directly and move the [`RequestGuard`] into the
//!   body.
//!
//! Connections and pending requests elsewhere are counted by whoever holds them: the connection
//! pool takes [`Breaker::try_connection`] per connection, and a pool that queues inside `call`
//! (hyper-util's does) takes [`Breaker::try_pending`] while a request waits for a connection. Such
//! a request holds a request slot too, where Envoy counts it only as pending.
//!
//! Placement: per cluster, outside the balancer (the thresholds bound the whole cluster, and
//! waiting for any ready endpoint is what "pending" means here) and inside the retry layer, so each
//! attempt, retries included, takes a request slot. The retry layer asks the same `Breaker` for
//! each retry through [`RetryAdmission`](crate::RetryAdmission).
//!
//! ```
//! use mesh_filters::circuit_breaker::{Breaker, CircuitBreakerLayer, CircuitOpen, Resource, Thresholds};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let breaker = Breaker::new(Thresholds::builder().max_requests(1).build()?);
//! let svc = CircuitBreakerLayer::new(breaker.clone())
//!     .layer(service_fn(|req: &'static str| async move { Ok::<_, mesh_core::BoxError>(req.len()) }));
//!
//! // The only request slot is taken, so the next request fails at once.
//! let held = breaker.try_request()?;
//! let err = svc.clone().oneshot("hello").await.unwrap_err();
//! assert_eq!(err.downcast_ref::<CircuitOpen>(), Some(&CircuitOpen::new(Resource::Requests)));
//!
//! drop(held);
//! assert_eq!(svc.oneshot("hello").await?, 5);
//! assert_eq!(breaker.remaining().requests, 1);
//! assert_eq!(breaker.overflows().upstream_rq_pending_overflow(), 1);
//! # Ok::<(), mesh_core::BoxError>(())
//! # }).unwrap();
//! ```

mod breaker;
mod error;
mod future;
mod guard;
#[cfg(test)]
mod tests;
mod thresholds;

pub use breaker::{Active, Breaker, Overflows, Remaining};
pub use error::{CircuitOpen, InvalidThresholds, Resource};
pub use future::ResponseFuture;
pub use guard::{ConnectionGuard, PendingGuard, RequestGuard, RetryGuard};
pub use thresholds::{RetryBudget, Thresholds, ThresholdsBuilder};

use mesh_core::BoxError;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Applies a [`Breaker`]'s `max_pending_requests` and `max_requests` to an inner service.
///
/// See the [module docs](self) for the readiness design and failure semantics.
#[derive(Debug)]
pub struct CircuitBreaker<S> {
    inner: S,
    breaker: Breaker,
    // Held from the inner service's first `Pending` until its readiness resolves.
    pending: Option<PendingGuard>,
    // Set by `poll_ready` when no pending slot was left; the next `call` fails with it.
    refused: Option<CircuitOpen>,
}

impl<S> CircuitBreaker<S> {
    pub fn new(inner: S, breaker: Breaker) -> Self {
        CircuitBreaker {
            inner,
            breaker,
            pending: None,
            refused: None,
        }
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
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

// By hand: a clone serves another request, so it must not share this one's pending slot or refusal.
impl<S: Clone> Clone for CircuitBreaker<S> {
    fn clone(&self) -> Self {
        CircuitBreaker::new(self.inner.clone(), self.breaker.clone())
    }
}

impl<S, Req> Service<Req> for CircuitBreaker<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.refused.is_some() {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(ready) => {
                self.pending = None;
                Poll::Ready(ready.map_err(Into::into))
            }
            Poll::Pending if self.pending.is_some() => Poll::Pending,
            Poll::Pending => match self.breaker.try_pending() {
                Ok(guard) => {
                    self.pending = Some(guard);
                    Poll::Pending
                }
                // Ready, so that the caller calls and gets the overflow at once instead of waiting.
                Err(open) => {
                    self.refused = Some(open);
                    Poll::Ready(Ok(()))
                }
            },
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        if let Some(open) = self.refused.take() {
            return ResponseFuture::refused(open);
        }
        match self.breaker.try_request() {
            Ok(guard) => ResponseFuture::admitted(self.inner.call(req), guard),
            Err(open) => ResponseFuture::refused(open),
        }
    }
}

/// Wraps services in a [`CircuitBreaker`] sharing one [`Breaker`].
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    breaker: Breaker,
}

impl CircuitBreakerLayer {
    pub fn new(breaker: Breaker) -> Self {
        CircuitBreakerLayer { breaker }
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker::new(inner, self.breaker.clone())
    }
}
