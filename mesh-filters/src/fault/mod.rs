//! Fault injection: delays and aborts for a share of requests, to test how callers cope.
//!
//! Policy: Envoy's HTTP fault filter ([`FaultPolicy`]). For each request, in this order:
//! 1. Delay: if the policy has a [`DelayFault`] and the request draws under its percentage,
//!    the request waits out the delay (flag `DI`), then goes on.
//! 2. Abort: if the policy has an [`AbortFault`] and the request draws under its percentage,
//!    it fails with [`FaultAbort`] (flag `FI`) instead of reaching the inner service; after a
//!    delay if there was one.
//!
//! Header control (Envoy's `header_delay` / `header_abort`): with [`DelaySource::Header`] a
//! request is delayed only when it carries `x-mesh-fault-delay-request: <ms>`, an unsigned
//! integer; with [`AbortSource::Header`] it is aborted only when it carries
//! `x-mesh-fault-abort-request: <status>` with a status in 200..600, or else
//! `x-mesh-fault-abort-grpc-request: <code>` (HTTP wins when both are valid). A missing or
//! malformed header, or a delay of 0 ms, injects nothing. The configured percentage still
//! applies to requests that ask (Envoy's `x-envoy-fault-*-percentage` headers, which can only
//! lower it, are not supported). Headers are read only when the policy enables header
//! control; the proxy must then strip `x-mesh-fault-*` from untrusted downstreams.
//!
//! `max_active_faults` (unlimited by default) caps the requests under a fault at once: a
//! request that would start one while the cap is reached goes through untouched and counts
//! in `faults_overflow`. A delayed request is active until its delay ends (and through the
//! abort that may follow); an aborted one until its error is returned. The percentage draws use
//! the layer's RNG, seeded from the OS unless [`with_rng`](FaultInjectionLayer::with_rng)
//! injects one.
//!
//! Failure: the abort is an error, [`FaultAbort`], which the proxy turns into the local reply
//! it describes; a delayed request that is forwarded gets an [`InjectedDelay`] response
//! extension so the proxy can flag it `DI`.
//!
//! Placement: outermost of the route's stack, after the rate limit and before the route
//! timeout, as Envoy's filter runs before its router: the injected delay does not count
//! against the route timeout.
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response, StatusCode};
//! use mesh_filters::fault::{AbortFault, FaultAbort, FaultInjectionLayer, FaultPercentage, FaultPolicy};
//! use rand::{SeedableRng, rngs::SmallRng};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let policy = FaultPolicy::new().with_abort(AbortFault::http(503, FaultPercentage::HUNDRED).unwrap());
//! let layer = FaultInjectionLayer::new(policy).with_rng(SmallRng::seed_from_u64(7));
//! let svc = layer.layer(service_fn(|_req: Request<()>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(()))
//! }));
//!
//! let err = svc.oneshot(Request::new(())).await.unwrap_err();
//! let abort = err.downcast_ref::<FaultAbort>().unwrap();
//! assert_eq!(abort.status, Some(StatusCode::SERVICE_UNAVAILABLE));
//! assert_eq!(layer.stats().aborts_injected(), 1);
//! # }
//! ```

pub mod error;
pub mod future;
mod policy;
mod stats;
#[cfg(test)]
mod tests;

pub use error::{FaultAbort, InjectedDelay};
pub use policy::{
    AbortFault, AbortSource, DelayFault, DelaySource, FaultPercentage, FaultPolicy, InvalidFault,
};

pub use stats::FaultStats;

use future::ResponseFuture;
use http::{HeaderMap, HeaderName, Request, Response};
use mesh_core::BoxError;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service};

/// Delay in milliseconds, when the policy's delay is header-controlled.
pub static FAULT_DELAY_REQUEST: HeaderName = HeaderName::from_static("x-mesh-fault-delay-request");
/// HTTP status to abort with, when the policy's abort is header-controlled.
pub static FAULT_ABORT_REQUEST: HeaderName = HeaderName::from_static("x-mesh-fault-abort-request");
/// gRPC status to abort with, when the policy's abort is header-controlled.
pub static FAULT_ABORT_GRPC_REQUEST: HeaderName = HeaderName::from_static("x-mesh-fault-abort-grpc-request");

/// Shared between clones; a draw holds the lock only for one number.
type SharedRng = Arc<Mutex<dyn RngCore + Send>>;

fn os_seeded_rng() -> SharedRng {
    Arc::new(Mutex::new(SmallRng::from_os_rng()))
}

/// Injects the faults of a [`FaultPolicy`]; see the [module docs](self).
#[derive(Clone)]
pub struct FaultInjection<S> {
    inner: S,
    policy: Arc<FaultPolicy>,
    stats: Arc<FaultStats>,
    rng: SharedRng,
}

impl<S> FaultInjection<S> {
    /// Injects `policy`'s faults in front of `inner`, with its own counters.
    pub fn new(inner: S, policy: FaultPolicy) -> Self {
        FaultInjectionLayer::new(policy).layer(inner)
    }

    /// Draws percentages from `rng` (seeded, in tests) instead of an OS-seeded one.
    pub fn with_rng(mut self, rng: impl RngCore + Send + 'static) -> Self {
        self.rng = Arc::new(Mutex::new(rng));
        self
    }

    pub fn policy(&self) -> &FaultPolicy {
        &self.policy
    }

    pub fn stats(&self) -> &Arc<FaultStats> {
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

    fn draw(&self, percentage: FaultPercentage) -> bool {
        match percentage.get() {
            0 => false,
            FaultPercentage::MILLION => true,
            share => {
                // A poisoned lock only means another thread panicked mid-draw; any state of
                // an RNG is as good as another.
                let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
                rng.random_range(0..FaultPercentage::MILLION) < share
            }
        }
    }

    fn delay_for(&self, headers: &HeaderMap) -> Option<Duration> {
        let delay = self.policy.delay()?;
        let length = match delay.source() {
            DelaySource::Fixed(length) => length,
            DelaySource::Header => Duration::from_millis(header_number(headers, &FAULT_DELAY_REQUEST)?),
        };
        (!length.is_zero() && self.draw(delay.percentage())).then_some(length)
    }

    fn abort_for(&self, headers: &HeaderMap) -> Option<FaultAbort> {
        let abort = self.policy.abort()?;
        let (status, grpc_status) = match abort.source() {
            AbortSource::Http(status) => (Some(status), None),
            AbortSource::Grpc(code) => (None, Some(code)),
            AbortSource::Header => {
                let status = header_number(headers, &FAULT_ABORT_REQUEST)
                    .and_then(|n| u16::try_from(n).ok())
                    .and_then(policy::abort_status);
                match status {
                    Some(status) => (Some(status), None),
                    None => {
                        let code = header_number(headers, &FAULT_ABORT_GRPC_REQUEST)?;
                        (None, Some(u32::try_from(code).ok()?))
                    }
                }
            }
        };
        self.draw(abort.percentage()).then_some(FaultAbort {
            status,
            grpc_status,
            delayed: None,
        })
    }
}

/// An unsigned decimal header value; anything else counts as absent, as in Envoy.
fn header_number(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl<S, B, ResB> Service<Request<B>> for FaultInjection<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let max = self.policy.max_active_faults();
        let delay = self.delay_for(req.headers());
        // Decided now, applied after the delay: the draw is independent of the wait.
        let abort = self.abort_for(req.headers());
        if let Some(delay) = delay
            && let Some(active) = self.stats.try_begin(max)
        {
            self.stats.delays_injected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(?delay, "fault: delaying request");
            // The ready service goes with the request into the future; its clone stays
            // behind and will be polled ready before the next call.
            let clone = self.inner.clone();
            let service = std::mem::replace(&mut self.inner, clone);
            return ResponseFuture::delay(delay, service, req, abort, active);
        }
        if let Some(abort) = abort
            && let Some(active) = self.stats.try_begin(max)
        {
            active.record_abort();
            tracing::debug!(?abort, "fault: aborting request");
            return ResponseFuture::abort(abort, active);
        }
        ResponseFuture::call(self.inner.call(req))
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for FaultInjection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultInjection")
            .field("inner", &self.inner)
            .field("policy", &self.policy)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Builds [`FaultInjection`]s sharing one policy, one set of counters and one RNG.
#[derive(Clone)]
pub struct FaultInjectionLayer {
    policy: Arc<FaultPolicy>,
    stats: Arc<FaultStats>,
    rng: SharedRng,
}

impl FaultInjectionLayer {
    pub fn new(policy: FaultPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
            stats: Arc::default(),
            rng: os_seeded_rng(),
        }
    }

    /// Draws percentages from `rng` (seeded, in tests) instead of an OS-seeded one.
    pub fn with_rng(mut self, rng: impl RngCore + Send + 'static) -> Self {
        self.rng = Arc::new(Mutex::new(rng));
        self
    }

    pub fn policy(&self) -> &FaultPolicy {
        &self.policy
    }

    pub fn stats(&self) -> &Arc<FaultStats> {
        &self.stats
    }
}

impl std::fmt::Debug for FaultInjectionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultInjectionLayer")
            .field("policy", &self.policy)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for FaultInjectionLayer {
    type Service = FaultInjection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultInjection {
            inner,
            policy: self.policy.clone(),
            stats: self.stats.clone(),
            rng: self.rng.clone(),
        }
    }
}
