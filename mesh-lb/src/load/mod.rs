//! Per-host load: in-flight requests and a peak-EWMA latency estimate, shared by the request
//! path and the load-aware balancers ([`LeastRequest`](crate::LeastRequest),
//! [`PeakEwma`](crate::PeakEwma)).
//!
//! Policy: [`Load::start`] counts a request in flight and returns an [`InFlight`] guard that
//! counts it out when dropped; [`InFlight::finish`] also records the request's latency. The
//! latency estimate is Linkerd's (Finagle's) *peak EWMA*:
//!
//! - a sample above the current estimate replaces it at once (the *peak*: a host that turns slow
//!   is avoided from its first slow response);
//! - a sample at or below it pulls the estimate toward itself with weight `1 − e^(−Δt/decay)`,
//!   where `Δt` is the time since the previous sample;
//! - between samples the estimate decays toward zero, `e^(−Δt/decay)`, so a host that looked slow
//!   and was therefore avoided is tried again after a few `decay`s instead of starving;
//! - [`Load::ewma_cost`] is `estimate × (active + 1)`, in nanoseconds: latency scaled by the queue
//!   a new request would join.
//!
//! Defaults ([`EwmaConfig::default`]): `decay` 10 s and a 30 ms estimate for a host with no sample
//! yet, Linkerd's values. Unlike Linkerd's, that default does not decay (there is no sample time
//! to decay from, and a fresh host should not look free merely for being new); the first sample
//! replaces it outright.
//!
//! Time is a parameter (`now: Instant`) everywhere, so tests are deterministic and the proxy can
//! pass `tokio::time::Instant::now().into_std()` (paused clocks included). Reads never write:
//! [`ewma_cost`](Load::ewma_cost) computes the decay on the fly, so picks do not bounce cache lines
//! between cores. A side effect, and a deliberate difference from Finagle, whose reads store the
//! decayed value: a sample's weight depends only on the time since the previous *sample*, not on
//! how often a balancer happened to look.
//!
//! Concurrency: lock-free. The count is one atomic; the estimate is two (its `f64` bits and the
//! time of its last update). A sample is a load-compute-store, not a compare-and-swap, so two
//! samples finishing at the same instant may lose one, and a reader racing a writer may pair the
//! new estimate with the old time (a slightly over-decayed value, for one read). Both are
//! transient errors in a heuristic, and cheaper than a lock on the hot path.
//!
//! Failure: none; nothing here can fail. An `InFlight` dropped without `finish` (an abandoned or
//! failed request) counts out without a sample; to make failures count, `finish` them at the time
//! the failure was seen (a timeout then yields a peak at the timeout).
//!
//! Placement: one `Arc<Load>` per host, owned by the host and outliving snapshot rebuilds; each
//! snapshot's picker holds clones of it, and the request path calls `start` on the picked host.
//!
//! ```
//! use std::sync::{Arc, OnceLock};
//! use std::time::{Duration, Instant};
//! use mesh_lb::Load;
//!
//! let load = Arc::new(Load::new());
//! let t0 = Instant::now();
//! assert_eq!(load.ewma_cost(t0), 30e6); // default 30 ms, nothing in flight
//!
//! let request = load.start(t0);
//! assert_eq!(load.active(), 1);
//! assert_eq!(load.ewma_cost(t0), 60e6); // 30 ms × (1 + 1)
//! request.finish(t0 + Duration::from_millis(80));
//! assert_eq!(load.active(), 0);
//! assert_eq!(load.latency(t0 + Duration::from_millis(80)), Duration::from_millis(80)); // peak
//!
//! drop(load.start(t0)); // an abandoned request counts out too
//! assert_eq!(load.active(), 0);
//! ```

mod config;
#[cfg(test)]
mod tests;

pub use config::{EwmaConfig, ZeroDecay};

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// `estimate` before the first sample (a NaN pattern no arithmetic here produces).
const NO_SAMPLE: u64 = u64::MAX;

/// One host's load. Share it as `Arc<Load>`; see the [module docs](self).
///
/// Aligned to a cache line so that hosts updated from different cores do not share one.
#[derive(Debug)]
#[repr(align(64))]
pub struct Load {
    active: AtomicU64,
    /// The latency estimate in nanoseconds as `f64` bits, or [`NO_SAMPLE`].
    estimate: AtomicU64,
    /// When `estimate` was last set: [`Stamp`] nanoseconds.
    stamp: AtomicI64,
    /// `−1 / decay` in 1/ns, so that the decay weight is `exp(elapsed × neg_inv_decay)`.
    neg_inv_decay: f64,
    default_rtt_ns: f64,
    config: EwmaConfig,
}

impl Load {
    /// No requests in flight, no samples, the default [`EwmaConfig`].
    pub fn new() -> Self {
        Self::with_config(EwmaConfig::default())
    }

    /// No requests in flight, no samples, the given configuration.
    pub fn with_config(config: EwmaConfig) -> Self {
        Self {
            active: AtomicU64::new(0),
            estimate: AtomicU64::new(NO_SAMPLE),
            // Earlier than any instant, so the first sample's time always replaces it.
            stamp: AtomicI64::new(i64::MIN),
            // The config refuses a zero decay, so this is finite and negative.
            neg_inv_decay: -1.0 / nanos(config.decay()),
            default_rtt_ns: nanos(config.default_rtt()),
            config,
        }
    }

    /// The configuration this load was built with.
    pub fn config(&self) -> &EwmaConfig {
        &self.config
    }

    /// The number of requests in flight: started and not yet dropped or finished.
    pub fn active(&self) -> u64 {
        self.active.load(Relaxed)
    }

    /// Counts a request in flight from `now` until the returned guard is dropped or finished.
    pub fn start(self: &Arc<Self>, now: Instant) -> InFlight {
        self.active.fetch_add(1, Relaxed);
        InFlight {
            load: Arc::clone(self),
            started: now,
        }
    }

    /// Records a latency sample `rtt` observed at `now` (see the module docs for the rule).
    ///
    /// [`InFlight::finish`] calls this; call it directly for latencies measured elsewhere.
    pub fn observe(&self, rtt: Duration, now: Instant) {
        let rtt = nanos(rtt);
        let now = Stamp::from(now).0;
        let stamp = self.stamp.load(Relaxed);
        let bits = self.estimate.load(Relaxed);
        let next = if bits == NO_SAMPLE {
            rtt
        } else {
            let weight = self.decay_weight(stamp, now);
            let decayed = f64::from_bits(bits) * weight;
            if rtt > decayed {
                rtt
            } else {
                decayed + rtt * (1.0 - weight)
            }
        };
        // Racy by design (see the module docs): a concurrent sample may be lost.
        self.stamp.store(now.max(stamp), Relaxed);
        self.estimate.store(next.to_bits(), Relaxed);
    }

    /// The latency estimate at `now`, in nanoseconds, decayed since the last sample.
    fn latency_ns(&self, now: Stamp) -> f64 {
        let bits = self.estimate.load(Relaxed);
        if bits == NO_SAMPLE {
            return self.default_rtt_ns;
        }
        let weight = self.decay_weight(self.stamp.load(Relaxed), now.0);
        f64::from_bits(bits) * weight
    }

    /// The peak-EWMA latency estimate at `now`; the configured default before any sample.
    pub fn latency(&self, now: Instant) -> Duration {
        // Float-to-int `as` saturates (and maps NaN to 0), which is what we want here.
        Duration::from_nanos(self.latency_ns(now.into()).round() as u64)
    }

    /// Peak-EWMA cost at `now`: the latency estimate in nanoseconds × (active requests + 1).
    /// Lower is better; [`PeakEwma`](crate::PeakEwma) compares these.
    pub fn ewma_cost(&self, now: Instant) -> f64 {
        self.cost_at(now.into())
    }

    /// [`ewma_cost`](Self::ewma_cost) for an instant already converted, so that a balancer
    /// comparing several hosts converts `now` once.
    pub(crate) fn cost_at(&self, now: Stamp) -> f64 {
        // u64 → f64 rounds above 2^53 requests in flight, which cannot happen.
        self.latency_ns(now) * (self.active() as f64 + 1.0)
    }

    /// `e^(−Δt/decay)` for the time from `stamp` to `now` (both offsets; no decay backwards,
    /// which threads reading the clock at slightly different moments can ask for).
    fn decay_weight(&self, stamp: i64, now: i64) -> f64 {
        let elapsed = now.saturating_sub(stamp);
        if elapsed <= 0 {
            return 1.0;
        }
        (elapsed as f64 * self.neg_inv_decay).exp()
    }
}

/// An instant as signed nanoseconds from a process-wide epoch (the first conversion), which is
/// how instants fit in an atomic. The epoch is only a reference point: nothing depends on
/// its value, only on differences, so time stays injectable. Saturates at ±292 years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(i64);

impl From<Instant> for Stamp {
    fn from(t: Instant) -> Self {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(|| t);
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        Stamp(match t.checked_duration_since(epoch) {
            Some(after) => nanos(after),
            None => -nanos(epoch.saturating_duration_since(t)),
        })
    }
}

impl Default for Load {
    fn default() -> Self {
        Self::new()
    }
}

/// `d` in nanoseconds, as `f64` (exact up to 2^53 ns, about 104 days).
fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// A request in flight on a host: counted in [`Load::active`] until this is dropped.
///
/// Dropping it counts the request out without a latency sample; [`finish`](Self::finish) counts
/// it out and records the latency.
#[derive(Debug)]
#[must_use = "the request counts as in flight only while this guard lives"]
pub struct InFlight {
    load: Arc<Load>,
    started: Instant,
}

impl InFlight {
    /// When the request started (the `now` given to [`Load::start`]).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The host's load this request counts in.
    pub fn load(&self) -> &Arc<Load> {
        &self.load
    }

    /// Ends the request at `now`: records `now − started` as a latency sample (zero if `now`
    /// is earlier), then counts the request out.
    pub fn finish(self, now: Instant) {
        let rtt = now.saturating_duration_since(self.started);
        self.load.observe(rtt, now);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Each guard was counted in once by `start`, so this cannot go below zero.
        self.load.active.fetch_sub(1, Relaxed);
    }
}
