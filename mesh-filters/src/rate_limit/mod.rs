//! Local rate limits: a token bucket per route or listener for requests, and a cap on
//! concurrent and new connections for TCP listeners.
//!
//! Policy: Envoy's `local_rate_limit`. A [`TokenBucket`] starts full with `max_tokens`; every
//! `fill_interval` (at least 50 ms) it gains `tokens_per_fill`, up to `max_tokens`. Each
//! request takes one token. The limit is local to this proxy: N replicas admit N times as
//! much (a global limit needs a rate limit service).
//!
//! Defaults: none; the bucket is always configured. `tokens_per_fill` is 1 in Envoy's config
//! when unset, which `mesh_core::policy` fills in.
//!
//! Failure: with no token, [`LocalRateLimit`] fails the request at once with [`RateLimited`]
//! without calling the inner service; the proxy answers 429 with `retry-after` (flag `RL`).
//! The inner service's readiness was already reserved by `poll_ready`; tower services keep it
//! for the next call, so nothing leaks. [`ConnectionLimit::try_accept`] refuses with
//! [`ConnectionRefused`] and the listener closes the socket.
//!
//! Placement: outermost on a route or listener, before any work is done for the request
//! (Envoy puts its filter first in the chain). Services built by one [`LocalRateLimitLayer`]
//! share its bucket and [`LocalRateLimitStats`], so one layer per route gives one limit per
//! route however many connections clone the stack.
//!
//! ```
//! use std::time::Duration;
//! use mesh_filters::rate_limit::{LocalRateLimitLayer, RateLimited, TokenBucket};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let bucket = TokenBucket::new(2, 2, Duration::from_secs(1)).unwrap();
//! let layer = LocalRateLimitLayer::new(bucket);
//! let svc = layer.layer(service_fn(|req: &'static str| async move {
//!     Ok::<_, std::convert::Infallible>(req)
//! }));
//!
//! assert!(svc.clone().oneshot("a").await.is_ok());
//! assert!(svc.clone().oneshot("b").await.is_ok());
//! let err = svc.clone().oneshot("c").await.unwrap_err();
//! let limited = err.downcast_ref::<RateLimited>().unwrap();
//! assert_eq!(limited.retry_after_secs(), 1);
//!
//! tokio::time::advance(Duration::from_secs(1)).await;
//! assert!(svc.oneshot("d").await.is_ok());
//! assert_eq!((layer.stats().ok(), layer.stats().rate_limited()), (3, 1));
//! # }
//! ```

mod bucket;
mod connection;
pub mod error;
pub mod future;
#[cfg(test)]
mod tests;

pub use bucket::{InvalidTokenBucket, MIN_FILL_INTERVAL, TokenBucket};
pub use connection::{ConnectionLimit, ConnectionLimitStats, ConnectionPermit};
pub use error::{ConnectionRefused, RateLimited};

use future::ResponseFuture;
use mesh_core::BoxError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Envoy's `local_rate_limit` counters for one bucket.
#[derive(Debug, Default)]
pub struct LocalRateLimitStats {
    ok: AtomicU64,
    rate_limited: AtomicU64,
}

impl LocalRateLimitStats {
    /// Requests admitted.
    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Requests refused for want of a token.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
}

/// Admits requests while its token bucket has tokens; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct LocalRateLimit<S> {
    inner: S,
    bucket: Arc<TokenBucket>,
    stats: Arc<LocalRateLimitStats>,
}

impl<S> LocalRateLimit<S> {
    /// A limiter with its own bucket and counters.
    pub fn new(inner: S, bucket: TokenBucket) -> Self {
        LocalRateLimitLayer::new(bucket).layer(inner)
    }

    pub fn bucket(&self) -> &TokenBucket {
        &self.bucket
    }

    pub fn stats(&self) -> &Arc<LocalRateLimitStats> {
        &self.stats
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

impl<S, Req> Service<Req> for LocalRateLimit<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The token is taken in `call`, not here: a rate-limited request must fail fast, not
        // wait for readiness, and a readiness check that is never followed by a call must not
        // spend a token.
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.bucket.try_acquire() {
            Ok(()) => {
                self.stats.ok.fetch_add(1, Ordering::Relaxed);
                ResponseFuture::admitted(self.inner.call(req))
            }
            Err(limited) => {
                self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(retry_after = ?limited.retry_after, "local rate limit");
                ResponseFuture::limited(limited)
            }
        }
    }
}

/// Builds [`LocalRateLimit`]s that share one bucket and one set of counters.
#[derive(Debug, Clone)]
pub struct LocalRateLimitLayer {
    bucket: Arc<TokenBucket>,
    stats: Arc<LocalRateLimitStats>,
}

impl LocalRateLimitLayer {
    pub fn new(bucket: TokenBucket) -> Self {
        Self {
            bucket: Arc::new(bucket),
            stats: Arc::default(),
        }
    }

    pub fn bucket(&self) -> &TokenBucket {
        &self.bucket
    }

    pub fn stats(&self) -> &Arc<LocalRateLimitStats> {
        &self.stats
    }
}

impl<S> Layer<S> for LocalRateLimitLayer {
    type Service = LocalRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LocalRateLimit {
            inner,
            bucket: self.bucket.clone(),
            stats: self.stats.clone(),
        }
    }
}
