//! Linkerd's balancer: power-of-two-choices over peak-EWMA cost, a lock-free picker over a fixed
//! snapshot of hosts that prefers fast, unloaded hosts.
//!
//! Policy: each pick samples two distinct hosts at random and takes the one with the lower cost;
//! ties go to either with equal chance. A host's cost is [`Load::ewma_cost`]: its peak-EWMA
//! latency estimate × (requests in flight + 1), so a host that turns slow is avoided from its
//! first slow response (the peak), and one that is merely busy is avoided in proportion to its
//! queue. See [`load`](crate::load) for the estimate (decay, default RTT).
//!
//! Weights: Linkerd's balancer has none; here the cost is divided by the host's weight, so a host
//! of weight 2 looks half as expensive as an equally fast, equally loaded host of weight 1 and
//! wins their comparisons until it carries about twice the queue. With equal weights that is
//! exactly Linkerd's policy.
//!
//! Time: `now` is a parameter of [`pick`](PeakEwma::pick) (costs decay with time); the proxy
//! passes `tokio::time::Instant::now().into_std()`, tests pass fixed instants.
//!
//! Defaults: none here; the estimate's parameters belong to each host's [`Load`]
//! ([`EwmaConfig`](crate::EwmaConfig): decay 10 s, default RTT 30 ms).
//!
//! Failure: an empty snapshot picks `None` (the proxy answers 503). Picks come only from the
//! snapshot, so building it from the eligible hosts (healthy, not ejected; all of them in panic
//! mode) is what keeps unhealthy hosts out. A cost that is NaN (impossible from `Load`, but
//! compared defensively) never wins.
//!
//! Placement: the proxy's per-request endpoint choice; the request path calls [`Load::start`]
//! on the chosen host and [`InFlight::finish`](crate::InFlight::finish) when the response ends,
//! which feeds the estimate this balancer reads.
//!
//! ```
//! use std::{num::NonZeroU32, sync::Arc, time::{Duration, Instant}};
//! use rand::{SeedableRng, rngs::SmallRng};
//! use mesh_lb::{Load, PeakEwma};
//!
//! let (fast, slow) = (Arc::new(Load::new()), Arc::new(Load::new()));
//! let t0 = Instant::now();
//! fast.observe(Duration::from_millis(5), t0);
//! slow.observe(Duration::from_millis(200), t0);
//! let lb = PeakEwma::new([("fast", NonZeroU32::MIN, fast), ("slow", NonZeroU32::MIN, slow)]);
//! let mut rng = SmallRng::seed_from_u64(7);
//! assert!((0..100).all(|_| lb.pick(&mut rng, t0) == Some(&"fast")));
//! ```

#[cfg(test)]
mod tests;

use crate::load::{Load, Stamp};
use crate::random::distinct_pair;
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

/// Power-of-two-choices over peak-EWMA cost; see the [module docs](self).
#[derive(Debug)]
pub struct PeakEwma<T> {
    hosts: Box<[(T, NonZeroU32, Arc<Load>)]>,
}

impl<T> PeakEwma<T> {
    /// Builds the picker over `hosts` (endpoint, weight, shared load).
    pub fn new(hosts: impl IntoIterator<Item = (T, NonZeroU32, Arc<Load>)>) -> Self {
        Self {
            hosts: hosts.into_iter().collect(),
        }
    }

    /// The cheaper of two distinct random hosts at `now`; the only host when there is one;
    /// `None` when there are none.
    ///
    /// Lock-free: relaxed loads of the two hosts' loads and two draws from `rng`.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R, now: Instant) -> Option<&T> {
        let index = match self.hosts.len() {
            0 => return None,
            1 => 0,
            n => {
                let (a, b) = distinct_pair(rng, n);
                let now = Stamp::from(now);
                let (cost_a, cost_b) = (self.cost_at(a, now), self.cost_at(b, now));
                if cost_b < cost_a || cost_a.is_nan() { b } else { a }
            }
        };
        self.hosts.get(index).map(|(host, _, _)| host)
    }

    /// Host `i`'s cost at `now` divided by its weight (lower is better); +∞ if out of range.
    pub fn cost(&self, i: usize, now: Instant) -> f64 {
        self.cost_at(i, now.into())
    }

    fn cost_at(&self, i: usize, now: Stamp) -> f64 {
        self.hosts.get(i).map_or(f64::INFINITY, |(_, weight, load)| {
            load.cost_at(now) / f64::from(weight.get())
        })
    }

    /// The number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are no hosts (then [`pick`](Self::pick) is always `None`).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The hosts with their weights and loads, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32, &Arc<Load>)> {
        self.hosts.iter().map(|(host, w, load)| (host, *w, load))
    }
}
