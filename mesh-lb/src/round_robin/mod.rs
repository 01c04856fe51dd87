//! Weighted round robin as a tower [`Service`] over a [`Discover`] stream.
//!
//! Policy: smooth weighted round robin (nginx's SWRR) among the endpoints that are *ready*.
//! Each endpoint's weight comes from the [`Weight`] trait (wrap a service in [`Weighted`] to
//! attach one). Each pick adds every ready endpoint's weight to its running score, takes the
//! highest score (the earliest discovered on ties) and charges it the sum of the weights; with a
//! stable ready set that gives exact proportions per cycle, interleaved (`5/1/1` →
//! `a a b a c a a`). Scores are kept per key, so an endpoint that is briefly not ready neither
//! earns credit nor loses its place. A pick costs O(ready endpoints); for a lock-free picker over
//! a fixed snapshot see [`WeightedRoundRobin`](crate::WeightedRoundRobin).
//!
//! Readiness is driven by tower's [`ReadyCache`], as in tower's P2C `Balance`: `poll_ready` takes
//! discovery changes, polls pending endpoints, and selects a ready one; an endpoint whose
//! `poll_ready` fails is dropped (logged at debug) until discovery inserts it again.
//!
//! Defaults: none to set; a re-inserted key restarts its score at 0 with the new weight.
//!
//! Failure:
//! - No endpoints at all: `poll_ready` is `Ready(Ok)` and the request fails at once with
//!   [`NoEndpoints`], which the proxy maps to 503. (tower's `Balance` stays `Pending` instead,
//!   which hangs a request on an empty cluster until a timeout fires; failing fast is Envoy's
//!   behaviour. The error is per request, not from `poll_ready`, so the balancer is not
//!   "failed" in tower's sense and serves again once discovery yields an endpoint.) Note that
//!   this includes the moment before discovery's first update.
//! - Endpoints exist but none is ready: `Pending` (back-pressure) until one is.
//! - Discovery errors: `poll_ready` returns it boxed as [`BoxError`] and the balancer should be
//!   dropped, per tower's contract. A discovery stream that ends is not an error: the last set
//!   keeps being served.
//! - Errors of the chosen endpoint's future are boxed and returned unchanged.
//!
//! Placement: inside retries and the per-try timeout (so each attempt picks again), above the
//! per-endpoint stacks (connection pool, circuit breaker, outlier detection).
//!
//! The request type is a parameter of the struct (`RoundRobin<D, Req>`), as in tower's
//! `Balance<D, Req>`, because the [`ReadyCache`] inside is generic over it.
//!
//! ```
//! use std::num::NonZeroU32;
//! use mesh_lb::{RoundRobin, Weighted};
//! use tower::{discover::ServiceList, service_fn, Service, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let endpoint = |name: &'static str, weight| {
//!     let svc = service_fn(move |_req: ()| async move { Ok::<_, mesh_core::BoxError>(name) });
//!     Weighted::new(svc, NonZeroU32::new(weight).unwrap())
//! };
//! let endpoints = vec![endpoint("a", 2), endpoint("b", 1)];
//! let mut lb = RoundRobin::new(ServiceList::new::<()>(endpoints));
//! let mut got = Vec::new();
//! for _ in 0..6 {
//!     got.push(lb.ready().await.unwrap().call(()).await.unwrap());
//! }
//! assert_eq!(got, ["a", "b", "a", "a", "b", "a"]);
//! # });
//! ```

mod error;
#[cfg(test)]
mod tests;
mod weight;

pub use error::{NoEndpoints, NotReady};
pub use weight::{Weight, Weighted};

use futures_util::future::{self, Either, MapErr, Ready, TryFutureExt};
use mesh_core::BoxError;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{fmt, mem};
use tower::Service;
use tower::discover::{Change, Discover};
use tower::ready_cache::{ReadyCache, error::Failed};
use tracing::{debug, trace};

/// Smooth weighted round robin over the ready endpoints of a [`Discover`] stream.
///
/// See the [module docs](self) for the policy and its failure semantics.
pub struct RoundRobin<D, Req>
where
    D: Discover,
    D::Key: Hash,
{
    discover: D,
    discover_ended: bool,
    services: ReadyCache<D::Key, D::Service, Req>,
    scores: HashMap<D::Key, Score>,
    /// Discovery order of the next new key; breaks ties between equal scores.
    next_order: u64,
    selected: Selected,
    _req: PhantomData<fn(Req)>,
}

/// An endpoint's SWRR state.
#[derive(Debug, Clone, Copy)]
struct Score {
    current: i64,
    order: u64,
}

/// What `poll_ready` decided for the following `call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    Nothing,
    /// An index into the ready set, checked ready in this `poll_ready`.
    Ready(usize),
    /// The endpoint set is empty: fail the call with `NoEndpoints`.
    NoEndpoints,
}

/// The future of [`RoundRobin`]: the endpoint's future with its error boxed, or an immediate
/// [`NoEndpoints`] or [`NotReady`] error.
pub type ResponseFuture<F, T, E> = Either<MapErr<F, fn(E) -> BoxError>, Ready<Result<T, BoxError>>>;

impl<D, Req> RoundRobin<D, Req>
where
    D: Discover,
    D::Key: Hash,
    D::Service: Service<Req>,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// Balances over the services `discover` yields, starting from an empty set.
    pub fn new(discover: D) -> Self {
        Self {
            discover,
            discover_ended: false,
            services: ReadyCache::default(),
            scores: HashMap::new(),
            next_order: 0,
            selected: Selected::Nothing,
            _req: PhantomData,
        }
    }

    /// The number of endpoints, ready or not.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether there are no endpoints at all (requests then fail with [`NoEndpoints`]).
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

impl<D, Req> RoundRobin<D, Req>
where
    D: Discover + Unpin,
    D::Key: Hash + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Weight,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    /// Applies every change discovery has ready.
    fn update_from_discover(&mut self, cx: &mut Context<'_>) -> Result<(), BoxError> {
        while !self.discover_ended {
            match Pin::new(&mut self.discover).poll_discover(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => {
                    debug!("discovery ended; keeping the current endpoints");
                    self.discover_ended = true;
                }
                Poll::Ready(Some(Err(error))) => return Err(error.into()),
                Poll::Ready(Some(Ok(Change::Insert(key, service)))) => {
                    trace!("insert");
                    let fresh = self.next_order;
                    let order = self.scores.get(&key).map_or(fresh, |score| score.order);
                    self.next_order += u64::from(order == fresh);
                    self.scores.insert(key.clone(), Score { current: 0, order });
                    self.services.push(key, service);
                }
                Poll::Ready(Some(Ok(Change::Remove(key)))) => {
                    trace!("remove");
                    self.services.evict(&key);
                    self.scores.remove(&key);
                    // Eviction swap-removes from the ready set, so a selected index may now
                    // name another endpoint; select again.
                    self.selected = Selected::Nothing;
                }
            }
        }
        Ok(())
    }

    /// Moves endpoints that have become ready into the ready set, dropping failed ones.
    fn promote_pending_to_ready(&mut self, cx: &mut Context<'_>) {
        while let Poll::Ready(Err(Failed(key, error))) = self.services.poll_pending(cx) {
            debug!(%error, "dropping failed endpoint");
            self.scores.remove(&key);
        }
    }

    /// The ready index SWRR would pick next, without charging anyone.
    fn select(&self) -> Option<usize> {
        let mut best: Option<(usize, i64, u64)> = None;
        for (index, (key, service)) in self.services.iter_ready().enumerate() {
            let score = self.scores.get(key);
            let current = score.map_or(0, |s| s.current) + i64::from(service.weight().get());
            let order = score.map_or(u64::MAX, |s| s.order);
            if best.is_none_or(|(_, c, o)| current > c || (current == c && order < o)) {
                best = Some((index, current, order));
            }
        }
        best.map(|(index, _, _)| index)
    }

    /// Commits the SWRR step that picked `chosen`: every ready endpoint earns its weight and
    /// the chosen one is charged the total.
    fn charge(&mut self, chosen: usize) {
        let mut total = 0i64;
        for (key, service) in self.services.iter_ready() {
            let weight = i64::from(service.weight().get());
            total = total.saturating_add(weight);
            let score = self.scores.entry(key.clone()).or_insert(Score {
                current: 0,
                order: u64::MAX,
            });
            score.current = score.current.saturating_add(weight);
        }
        if let Some((key, _)) = self.services.get_ready_index(chosen)
            && let Some(score) = self.scores.get_mut(key)
        {
            score.current = score.current.saturating_sub(total);
        }
    }
}

impl<D, Req> Service<Req> for RoundRobin<D, Req>
where
    D: Discover + Unpin,
    D::Key: Hash + Clone,
    D::Error: Into<BoxError>,
    D::Service: Service<Req> + Weight,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    type Response = <D::Service as Service<Req>>::Response;
    type Error = BoxError;
    type Future = ResponseFuture<
        <D::Service as Service<Req>>::Future,
        Self::Response,
        <D::Service as Service<Req>>::Error,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.update_from_discover(cx)?;
        self.promote_pending_to_ready(cx);
        loop {
            // An endpoint selected by an earlier poll_ready must still be ready now, in the same
            // task turn as the call; if it is not, it goes back to pending and we pick again.
            if let Selected::Ready(index) = mem::replace(&mut self.selected, Selected::Nothing) {
                match self.services.check_ready_index(cx, index) {
                    Ok(true) => {
                        self.selected = Selected::Ready(index);
                        return Poll::Ready(Ok(()));
                    }
                    Ok(false) => trace!("selected endpoint is no longer ready"),
                    Err(Failed(key, error)) => {
                        debug!(%error, "dropping failed endpoint");
                        self.scores.remove(&key);
                    }
                }
            }
            // Each turn of the loop either returns or shrinks the ready set, so it ends.
            match self.select() {
                Some(index) => self.selected = Selected::Ready(index),
                None if self.services.is_empty() => {
                    self.selected = Selected::NoEndpoints;
                    return Poll::Ready(Ok(()));
                }
                None => {
                    trace!(pending = self.services.pending_len(), "no endpoint ready");
                    return Poll::Pending;
                }
            }
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match mem::replace(&mut self.selected, Selected::Nothing) {
            Selected::Ready(index) => {
                self.charge(index);
                let boxed: fn(<D::Service as Service<Req>>::Error) -> BoxError = Into::into;
                Either::Left(self.services.call_ready_index(index, request).map_err(boxed))
            }
            Selected::NoEndpoints => Either::Right(future::ready(Err(NoEndpoints.into()))),
            Selected::Nothing => Either::Right(future::ready(Err(NotReady.into()))),
        }
    }
}

impl<D, Req> fmt::Debug for RoundRobin<D, Req>
where
    D: Discover,
    D::Key: Hash,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoundRobin")
            .field("ready", &self.services.ready_len())
            .field("pending", &self.services.pending_len())
            .field("discover_ended", &self.discover_ended)
            .field("selected", &self.selected)
            .finish_non_exhaustive()
    }
}
