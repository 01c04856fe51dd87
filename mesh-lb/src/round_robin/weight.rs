//! How a discovered service tells the balancer its weight.

use std::num::NonZeroU32;
use std::task::{Context, Poll};
use tower::Service;

/// A service's share of traffic relative to its peers: weight 2 gets twice the requests of
/// weight 1. Read by [`RoundRobin`](super::RoundRobin) on every pick, so it may change while
/// the service is in use.
pub trait Weight {
    /// The current weight.
    fn weight(&self) -> NonZeroU32;
}

impl<W: Weight + ?Sized> Weight for Box<W> {
    fn weight(&self) -> NonZeroU32 {
        (**self).weight()
    }
}

/// A service with a fixed weight attached; a [`Service`] by delegation.
#[derive(Debug, Clone)]
pub struct Weighted<S> {
    inner: S,
    weight: NonZeroU32,
}

impl<S> Weighted<S> {
    /// Attaches `weight` to `inner`.
    pub fn new(inner: S, weight: NonZeroU32) -> Self {
        Self { inner, weight }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Weight for Weighted<S> {
    fn weight(&self) -> NonZeroU32 {
        self.weight
    }
}

impl<S: Service<Req>, Req> Service<Req> for Weighted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        self.inner.call(req)
    }
}
