//! `Retry`, `RetryLayer` and the response future.

use super::body::ReplayBody;
use super::budget::RetryBudget;
use super::driver;
use super::policy::RetryPolicy;
use super::stats::RetryStats;
use crate::admission::{RetryAdmission, Unlimited};
use http::{Request, Response};
use mesh_core::BoxError;
use rand::{RngCore, SeedableRng, rngs::SmallRng};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Everything a layer's services share.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) policy: RetryPolicy,
    pub(super) budget: Arc<RetryBudget>,
    pub(super) admission: Arc<dyn RetryAdmission>,
    pub(super) stats: Arc<RetryStats>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("policy", &self.policy)
            .field("budget", &self.budget)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Builds [`Retry`] services. `K` is the balancer's host key for
/// [`PreviousHosts`](super::PreviousHosts).
pub struct RetryLayer<K = SocketAddr> {
    settings: Arc<Settings>,
    host_key: PhantomData<fn() -> K>,
}

impl RetryLayer {
    /// A layer with the default [`RetryBudget`], no circuit breaker ([`Unlimited`]) and
    /// fresh [`RetryStats`].
    pub fn new(policy: RetryPolicy) -> Self {
        let settings = Settings {
            policy,
            budget: Arc::new(RetryBudget::default()),
            admission: Arc::new(Unlimited),
            stats: Arc::new(RetryStats::default()),
        };
        RetryLayer {
            settings: Arc::new(settings),
            host_key: PhantomData,
        }
    }
}

impl RetryLayer {
    /// A layer over parts the caller already holds (the proxy's per-cluster budget, breaker
    /// and stats): one allocation, where [`new`](Self::new) and the `with_*` calls make and
    /// replace defaults.
    pub fn from_parts(
        policy: RetryPolicy,
        budget: Arc<RetryBudget>,
        admission: Arc<dyn RetryAdmission>,
        stats: Arc<RetryStats>,
    ) -> Self {
        RetryLayer {
            settings: Arc::new(Settings {
                policy,
                budget,
                admission,
                stats,
            }),
            host_key: PhantomData,
        }
    }
}

impl<K> RetryLayer<K> {
    /// Shares `budget`: one per upstream cluster, so all its routes draw on it.
    pub fn with_budget(mut self, budget: Arc<RetryBudget>) -> Self {
        Arc::make_mut(&mut self.settings).budget = budget;
        self
    }

    /// Asks the cluster's circuit breaker before each retry.
    pub fn with_admission(mut self, admission: Arc<dyn RetryAdmission>) -> Self {
        Arc::make_mut(&mut self.settings).admission = admission;
        self
    }

    pub fn with_stats(mut self, stats: Arc<RetryStats>) -> Self {
        Arc::make_mut(&mut self.settings).stats = stats;
        self
    }

    /// The same layer keyed by another host type (an endpoint id, say).
    pub fn host_key<K2>(self) -> RetryLayer<K2> {
        RetryLayer {
            settings: self.settings,
            host_key: PhantomData,
        }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.settings.policy
    }

    pub fn stats(&self) -> &Arc<RetryStats> {
        &self.settings.stats
    }

    pub fn budget(&self) -> &Arc<RetryBudget> {
        &self.settings.budget
    }
}

impl<K> fmt::Debug for RetryLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("settings", &self.settings)
            .finish()
    }
}

impl<K> Clone for RetryLayer<K> {
    fn clone(&self) -> Self {
        RetryLayer {
            settings: self.settings.clone(),
            host_key: PhantomData,
        }
    }
}

impl<S, K> Layer<S> for RetryLayer<K> {
    type Service = Retry<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            settings: self.settings.clone(),
            rng: fresh_rng(),
            host_key: PhantomData,
        }
    }
}

/// Retries requests to `S` under a [`RetryPolicy`]; see the [module docs](super).
pub struct Retry<S, K = SocketAddr> {
    inner: S,
    settings: Arc<Settings>,
    /// Seeds each request's backoff jitter.
    rng: SmallRng,
    host_key: PhantomData<fn() -> K>,
}

impl<S> Retry<S> {
    /// `inner` behind the defaults of [`RetryLayer::new`].
    pub fn new(inner: S, policy: RetryPolicy) -> Self {
        RetryLayer::new(policy).layer(inner)
    }
}

impl<S, K> Retry<S, K> {
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    pub fn stats(&self) -> &Arc<RetryStats> {
        &self.settings.stats
    }
}

impl<S: fmt::Debug, K> fmt::Debug for Retry<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("inner", &self.inner)
            .field("settings", &self.settings)
            .finish()
    }
}

impl<S: Clone, K> Clone for Retry<S, K> {
    /// A clone gets its own jitter seed, so clones do not back off in lockstep.
    fn clone(&self) -> Self {
        Retry {
            inner: self.inner.clone(),
            settings: self.settings.clone(),
            rng: fresh_rng(),
            host_key: PhantomData,
        }
    }
}

impl<S, K, B, RB> Service<Request<B>> for Retry<S, K>
where
    S: Service<Request<ReplayBody<B>>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    RB: Send + 'static,
    K: Clone + PartialEq + Send + Sync + 'static,
{
    type Response = Response<RB>;
    type Error = BoxError;
    type Future = ResponseFuture<RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The first attempt goes to the service that was polled ready; retries use clones.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let seed = self.rng.next_u64();
        ResponseFuture {
            inner: Box::pin(driver::run::<S, B, RB, K>(
                ready,
                self.settings.clone(),
                req,
                seed,
            )),
        }
    }
}

/// The response of the attempt that settled the request.
///
/// Boxed: the attempt loop (backoff, timers, hedged attempts side by side) is far
/// clearer as an `async fn`, and one allocation per request is small next to what a
/// retried request costs anyway.
pub struct ResponseFuture<RB> {
    inner: Pin<Box<dyn Future<Output = Result<Response<RB>, BoxError>> + Send>>,
}

impl<RB> Future for ResponseFuture<RB> {
    type Output = Result<Response<RB>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<RB> fmt::Debug for ResponseFuture<RB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}

/// Jitter needs no cryptographic seed; the OS one just avoids every proxy (and every
/// clone) drawing the same waits. Should the OS refuse, the clock is good enough.
fn fresh_rng() -> SmallRng {
    SmallRng::try_from_os_rng().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        SmallRng::seed_from_u64(u64::from(nanos))
    })
}
