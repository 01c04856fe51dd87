//! A lock-free weighted random picker over a fixed snapshot of endpoints.
//!
//! Policy: Envoy's `RANDOM`, weighted: each pick is independent, and endpoint `i` is chosen with
//! probability `weight_i / Σ weight`. It keeps no state between picks, so it needs no coordination
//! at all between threads or proxies; the price is variance: over `n` picks a host's count is
//! binomial, `n p ± √(n p (1 − p))`, where round robin's is exact per cycle.
//!
//! How: the running sums of the weights are computed once, when the snapshot is built; a pick
//! draws `r` in `0..Σ weight` and binary-searches the first running sum above it, O(log n) with
//! no allocation. When all weights are equal the search is skipped: one bounded draw. (Walker's
//! alias method would make weighted picks O(1), at twice the memory and a float draw; at a few
//! hundred endpoints the search is already a handful of nanoseconds.)
//!
//! Defaults: none; the caller passes the RNG (a per-thread `SmallRng` in the proxy, a seeded
//! one in tests).
//!
//! Failure: an empty snapshot picks `None`; the caller decides (the proxy answers 503). The
//! endpoint set never changes: on an update, build a new picker and swap it in.
//!
//! Placement: the proxy's per-request endpoint choice, below routing and above the connection
//! pool, like [`WeightedRoundRobin`](crate::WeightedRoundRobin).
//!
//! ```
//! use std::num::NonZeroU32;
//! use rand::{SeedableRng, rngs::SmallRng};
//! use mesh_lb::Random;
//!
//! let w = |n| NonZeroU32::new(n).unwrap();
//! let lb = Random::new([("a", w(3)), ("b", w(1))]);
//! let mut rng = SmallRng::seed_from_u64(1);
//! let a = (0..4000).filter(|_| lb.pick(&mut rng) == Some(&"a")).count();
//! assert!((2800..3200).contains(&a)); // about 3/4
//!
//! assert_eq!(Random::<&str>::new([]).pick(&mut rng), None);
//! ```

#[cfg(test)]
mod tests;

use rand::Rng;
use std::num::NonZeroU32;

/// Weighted random choice over a fixed set of endpoints; see the [module docs](self).
#[derive(Debug)]
pub struct Random<T> {
    endpoints: Box<[(T, NonZeroU32)]>,
    /// `cumulative[i]` is the sum of the weights of endpoints `0..=i`; empty when all weights
    /// are equal (then picks are uniform).
    cumulative: Box<[u64]>,
}

impl<T> Random<T> {
    /// Builds the picker over `endpoints` and their weights.
    pub fn new(endpoints: impl IntoIterator<Item = (T, NonZeroU32)>) -> Self {
        let endpoints: Box<[(T, NonZeroU32)]> = endpoints.into_iter().collect();
        let uniform = endpoints.windows(2).all(|pair| match pair {
            [(_, a), (_, b)] => a == b,
            _ => true,
        });
        let cumulative = if uniform {
            Box::default()
        } else {
            endpoints
                .iter()
                .scan(0u64, |sum, (_, w)| {
                    *sum = sum.saturating_add(u64::from(w.get()));
                    Some(*sum)
                })
                .collect()
        };
        Self {
            endpoints,
            cumulative,
        }
    }

    /// A random endpoint, each with probability proportional to its weight; `None` when there
    /// are none. Lock-free: reads the snapshot and draws from `rng`.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<&T> {
        self.pick_index(rng)
            .and_then(|i| self.endpoints.get(i))
            .map(|(endpoint, _)| endpoint)
    }

    /// The index [`pick`](Self::pick) would return the endpoint of.
    pub(crate) fn pick_index<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<usize> {
        let n = self.endpoints.len();
        if n == 0 {
            return None;
        }
        let Some(&total) = self.cumulative.last() else {
            return Some(rng.random_range(0..n));
        };
        let r = rng.random_range(0..total);
        Some(self.cumulative.partition_point(|&sum| sum <= r))
    }

    /// The number of endpoints.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are no endpoints (then [`pick`](Self::pick) is always `None`).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The endpoints with their weights, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32)> {
        self.endpoints.iter().map(|(endpoint, w)| (endpoint, *w))
    }
}

/// Two distinct indices in `0..n`, uniformly among the `n (n − 1)` ordered pairs; `n` must be at
/// least 2 (for smaller `n` both are 0). The sampling step of power-of-two-choices.
pub(crate) fn distinct_pair<R: Rng + ?Sized>(rng: &mut R, n: usize) -> (usize, usize) {
    if n < 2 {
        return (0, 0);
    }
    let first = rng.random_range(0..n);
    let second = rng.random_range(0..n - 1);
    (first, second + usize::from(second >= first))
}
