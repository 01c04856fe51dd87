//! Envoy's `LEAST_REQUEST` balancer: a lock-free picker over a fixed snapshot of hosts that
//! avoids hosts with many requests in flight.
//!
//! Policy, as in Envoy:
//! - **All weights equal** (the common case): sample `choice_count` hosts at random and pick the
//!   one with the fewest active requests ([`Load::active`]). With the default of 2 this is
//!   power-of-two-choices (P2C): the two samples are distinct, so the busier of the two is never
//!   picked, and a host can only be chosen over an idle one if it is idle too; ties go to either
//!   with equal chance. P2C's maximum queue stays within `O(log log n)` of the mean, close to a
//!   full scan, at O(1) per pick. With `choice_count > 2` the samples are drawn with replacement
//!   (as Envoy does; no allocation per pick), and when `choice_count` reaches the host count
//!   every host is compared instead (ties broken uniformly at random).
//! - **Unequal weights**: each host's *effective weight* is
//!   `weight / (active + 1)^active_request_bias`, and the pick is weighted random over those.
//!   Bias 0 is plain weighted random (precomputed, O(log n)); bias 1 (the default) halves a host's
//!   share with each request it already has in flight; larger biases avoid loaded hosts harder.
//!
//! Trade-off in the weighted mode: Envoy keeps a per-worker earliest-deadline-first scheduler and
//! recomputes a host's effective weight only when it re-enters the schedule (after being picked),
//! so the other hosts' weights are as stale as their last pick, and the scheduler is mutable state
//! that one thread owns. Here the snapshot is shared by every thread through `&self`, where an EDF
//! schedule would need a lock or per-thread copies. Instead each pick reads every host's current
//! count (so weights are never stale) and draws once: no shared writes at all, at O(n) per pick
//! instead of O(log n), and random rather than smoothly interleaved order. The discount factor
//! `(active + 1)^−bias` is precomputed for up to 127 requests in flight, so a pick is `n` relaxed
//! loads, table lookups and multiplications (`powf` only beyond that), a few nanoseconds per host;
//! clusters of thousands of hosts should use equal weights (O(1) P2C).
//!
//! Defaults ([`LeastRequestConfig::default`]): `choice_count` 2, `active_request_bias` 1.0.
//!
//! Failure: [`LeastRequest::new`] refuses `choice_count < 2` and a bias that is negative or not
//! finite with [`InvalidLeastRequestConfig`]. An empty snapshot picks `None` (the proxy answers
//! 503). Picks come only from the snapshot, so building it from the eligible hosts (healthy, not
//! ejected; all of them in panic mode) is what keeps unhealthy hosts out. If a huge bias makes
//! every effective weight underflow to 0, the pick falls back to the least-loaded host.
//!
//! Placement: the proxy's per-request endpoint choice, like
//! [`WeightedRoundRobin`](crate::WeightedRoundRobin); the request path then calls
//! [`Load::start`] on the chosen host. Counts live in each host's `Arc<Load>` and survive snapshot
//! rebuilds.
//!
//! ```
//! use std::{num::NonZeroU32, sync::Arc, time::Instant};
//! use rand::{SeedableRng, rngs::SmallRng};
//! use mesh_lb::{LeastRequest, LeastRequestConfig, Load};
//!
//! let (busy, idle) = (Arc::new(Load::new()), Arc::new(Load::new()));
//! let _in_flight = busy.start(Instant::now());
//! let hosts = [("busy", NonZeroU32::MIN, busy), ("idle", NonZeroU32::MIN, idle)];
//! let lb = LeastRequest::new(hosts, LeastRequestConfig::default())?;
//! let mut rng = SmallRng::seed_from_u64(7);
//! assert!((0..100).all(|_| lb.pick(&mut rng) == Some(&"idle")));
//!
//! let bad = LeastRequestConfig { choice_count: 1, ..LeastRequestConfig::default() };
//! assert!(LeastRequest::<&str>::new([], bad).is_err());
//! # Ok::<(), mesh_lb::InvalidLeastRequestConfig>(())
//! ```

mod config;
#[cfg(test)]
mod tests;

pub use config::{InvalidLeastRequestConfig, LeastRequestConfig};

use crate::load::Load;
use crate::random::{Random, distinct_pair};
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::Arc;

/// How many effective weights a weighted pick keeps on the stack (1 KiB) between its two passes.
const KEPT_WEIGHTS: usize = 128;

/// Least-request balancing over a fixed set of hosts; see the [module docs](self).
#[derive(Debug)]
pub struct LeastRequest<T> {
    hosts: Box<[(T, NonZeroU32, Arc<Load>)]>,
    mode: Mode,
    config: LeastRequestConfig,
}

/// How picks are made, decided once from the weights and the bias.
#[derive(Debug)]
enum Mode {
    /// All weights equal: the fewest active among this many random choices.
    Choices(usize),
    /// Unequal weights, bias 0: load is ignored, so the weighted draw is precomputed.
    Static(Random<usize>),
    /// Unequal weights, bias > 0: effective weight `weight × (active + 1)^−bias`, the factor
    /// looked up in `discount` for the first [`DISCOUNTED`] counts (no division or `powf` on
    /// the pick path) and computed beyond.
    Discounted { bias: f64, discount: Box<[f64]> },
}

/// How many in-flight counts (0, 1, ...) get a precomputed discount factor (1 KiB per picker).
const DISCOUNTED: u32 = 128;

impl<T> LeastRequest<T> {
    /// Builds the picker over `hosts` (endpoint, weight, shared load), or refuses `config`.
    pub fn new(
        hosts: impl IntoIterator<Item = (T, NonZeroU32, Arc<Load>)>,
        config: LeastRequestConfig,
    ) -> Result<Self, InvalidLeastRequestConfig> {
        config.validate()?;
        let hosts: Box<[(T, NonZeroU32, Arc<Load>)]> = hosts.into_iter().collect();
        let equal = hosts.windows(2).all(|pair| match pair {
            [(_, a, _), (_, b, _)] => a == b,
            _ => true,
        });
        let bias = config.active_request_bias;
        let mode = if equal {
            Mode::Choices(usize::try_from(config.choice_count).unwrap_or(usize::MAX))
        } else if bias == 0.0 {
            Mode::Static(Random::new(
                hosts.iter().enumerate().map(|(i, (_, w, _))| (i, *w)),
            ))
        } else {
            let discount = (0..DISCOUNTED)
                .map(|active| discount(bias, f64::from(active) + 1.0))
                .collect();
            Mode::Discounted { bias, discount }
        };
        Ok(Self { hosts, mode, config })
    }

    /// A host by the policy in the [module docs](self); `None` when there are none.
    ///
    /// Lock-free: relaxed loads of the hosts' counts and draws from `rng`.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<&T> {
        let index = match &self.mode {
            Mode::Choices(k) => self.fewest_active(*k, rng),
            Mode::Static(random) => random.pick_index(rng),
            Mode::Discounted { bias, discount } => self.weighted(*bias, discount, rng),
        };
        index.and_then(|i| self.hosts.get(i)).map(|(host, _, _)| host)
    }

    /// The number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are no hosts (then [`pick`](Self::pick) is always `None`).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The validated configuration.
    pub fn config(&self) -> &LeastRequestConfig {
        &self.config
    }

    /// The hosts with their weights and loads, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32, &Arc<Load>)> {
        self.hosts.iter().map(|(host, w, load)| (host, *w, load))
    }

    fn active(&self, i: usize) -> u64 {
        self.hosts.get(i).map_or(u64::MAX, |(_, _, load)| load.active())
    }

    /// The fewest-active of `k` random choices (see the module docs for `k = 2`, `k > 2` and
    /// `k ≥ n`).
    fn fewest_active<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Option<usize> {
        let n = self.hosts.len();
        match n {
            0 => None,
            1 => Some(0),
            _ if k >= n => Some(self.full_scan(rng)),
            _ if k == 2 => {
                let (a, b) = distinct_pair(rng, n);
                Some(if self.active(b) < self.active(a) { b } else { a })
            }
            _ => {
                let mut best = rng.random_range(0..n);
                let mut best_active = self.active(best);
                for _ in 1..k {
                    let candidate = rng.random_range(0..n);
                    let active = self.active(candidate);
                    if active < best_active {
                        (best, best_active) = (candidate, active);
                    }
                }
                Some(best)
            }
        }
    }

    /// The host with the fewest active requests, ties broken uniformly (reservoir sampling).
    fn full_scan<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let (mut best, mut best_active, mut ties) = (0, u64::MAX, 0u32);
        for (i, (_, _, load)) in self.hosts.iter().enumerate() {
            let active = load.active();
            if active < best_active {
                (best, best_active, ties) = (i, active, 1);
            } else if active == best_active {
                ties = ties.saturating_add(1);
                if rng.random_range(0..ties) == 0 {
                    best = i;
                }
            }
        }
        best
    }

    /// Weighted random over the current effective weights: one pass to compute and sum them,
    /// one draw, one pass to find the host. The first [`KEPT_WEIGHTS`] effective weights are kept
    /// on the stack between the passes; beyond those they are computed again, and counts may
    /// have changed meanwhile: if the second pass ends short of the draw, the last host is taken
    /// (a rare, tiny bias, for no lock).
    fn weighted<R: Rng + ?Sized>(&self, bias: f64, discount: &[f64], rng: &mut R) -> Option<usize> {
        let effective_weight = |weight: &NonZeroU32, load: &Load| {
            let active = load.active();
            let factor = usize::try_from(active)
                .ok()
                .and_then(|i| discount.get(i))
                .copied()
                // u64 → f64 rounds above 2^53 requests in flight, which cannot happen.
                .unwrap_or_else(|| self::discount(bias, active as f64 + 1.0));
            f64::from(weight.get()) * factor
        };
        let last = self.hosts.len().checked_sub(1)?;
        let mut kept = [0.0f64; KEPT_WEIGHTS];
        let mut total = 0.0;
        for (i, (_, w, load)) in self.hosts.iter().enumerate() {
            let effective = effective_weight(w, load);
            if let Some(slot) = kept.get_mut(i) {
                *slot = effective;
            }
            total += effective;
        }
        if !(total > 0.0 && total.is_finite()) {
            // Every weight underflowed: the limit of a huge bias is the least-loaded host.
            return Some(self.full_scan(rng));
        }
        let target = rng.random::<f64>() * total;
        let mut sum = 0.0;
        for (i, (_, w, load)) in self.hosts.iter().enumerate() {
            sum += match kept.get(i) {
                Some(&effective) => effective,
                None => effective_weight(w, load),
            };
            if target < sum {
                return Some(i);
            }
        }
        Some(last)
    }
}

/// The factor `queue^−bias` that discounts a host's weight (`queue` is active requests + 1).
fn discount(bias: f64, queue: f64) -> f64 {
    if bias == 1.0 {
        1.0 / queue
    } else {
        queue.powf(-bias)
    }
}
