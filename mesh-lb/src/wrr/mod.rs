//! A lock-free weighted round-robin picker over a fixed snapshot of endpoints.
//!
//! Policy: smooth weighted round robin (nginx's SWRR). Over every full cycle each endpoint is
//! picked exactly `weight / gcd(weights)` times, and the picks interleave instead of coming in
//! runs: weights `a=5, b=1, c=1` give `a a b a c a a`, then the same again.
//!
//! How: the cycle is computed once, when the snapshot is built, and stored as a table of endpoint
//! indices; [`pick`](WeightedRoundRobin::pick) is one `fetch_add(1, Relaxed)` on a shared counter
//! and a table lookup. So picks from many threads never lock or wait, and together they walk the
//! same cycle (each counter value is handed out once, so any `k × cycle_len` consecutive picks are
//! exact whichever threads made them). Huge weight sums are capped (4096 slots per endpoint, at
//! most 2^20 slots in all) by apportioning the weights onto the slots, which keeps each endpoint
//! within one slot of its exact share; clusters of more than 64 endpoints with large weights get
//! an earliest-deadline-first ordering (exact, evenly spaced, somewhat burstier for a few heavy
//! hosts among many light ones) because SWRR costs O(slots × endpoints) to build. The `schedule`
//! module's source has the numbers.
//!
//! Defaults: [`new`](WeightedRoundRobin::new) starts the counter at a random point of the cycle
//! (OS entropy), as Envoy does, so proxies that load the same snapshot at the same moment do not
//! all send their first requests to the first host. [`with_rng`](WeightedRoundRobin::with_rng)
//! and [`with_offset`](WeightedRoundRobin::with_offset) make the start deterministic.
//!
//! Failure: an empty snapshot picks `None`; the caller decides (the proxy answers 503). The
//! endpoint set never changes: on an update, build a new picker and swap it in (e.g. with
//! `arc-swap`). The counter is a `usize`; when it wraps (after 2^64 picks) the cycle restarts
//! from an arbitrary point, once.
//!
//! Placement: the proxy's per-request endpoint choice, below routing and above the connection
//! pool. For a tower stack that also tracks endpoint readiness, see
//! [`RoundRobin`](crate::RoundRobin).
//!
//! ```
//! use std::num::NonZeroU32;
//! use mesh_lb::WeightedRoundRobin;
//!
//! let w = |n| NonZeroU32::new(n).unwrap();
//! let lb = WeightedRoundRobin::with_offset([("a", w(5)), ("b", w(1)), ("c", w(1))], 0);
//! let picks: Vec<&str> = (0..7).map(|_| *lb.pick().unwrap()).collect();
//! assert_eq!(picks, ["a", "a", "b", "a", "c", "a", "a"]);
//! assert_eq!(lb.pick(), Some(&"a")); // the next cycle starts over
//!
//! let empty = WeightedRoundRobin::<&str>::new([]);
//! assert_eq!(empty.pick(), None);
//! ```

mod schedule;
#[cfg(test)]
mod tests;

pub use schedule::{CYCLE_PER_ENDPOINT, MAX_CYCLE};

use rand::{Rng, SeedableRng, rngs::SmallRng};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Smooth weighted round robin over a fixed set of endpoints, shared by reference across threads.
///
/// See the [module docs](self) for the policy.
pub struct WeightedRoundRobin<T> {
    endpoints: Box<[(T, NonZeroU32)]>,
    /// One full cycle of indices into `endpoints`.
    cycle: Box<[u32]>,
    /// The next position in `cycle`, modulo its length.
    next: AtomicUsize,
}

impl<T> WeightedRoundRobin<T> {
    /// Builds the picker, starting at a random point of the cycle (OS entropy; offset 0 if the
    /// OS has none to give).
    pub fn new(endpoints: impl IntoIterator<Item = (T, NonZeroU32)>) -> Self {
        match SmallRng::try_from_os_rng() {
            Ok(mut rng) => Self::with_rng(endpoints, &mut rng),
            Err(_) => Self::with_offset(endpoints, 0),
        }
    }

    /// Builds the picker, starting at a point of the cycle drawn from `rng`.
    pub fn with_rng<R: Rng + ?Sized>(
        endpoints: impl IntoIterator<Item = (T, NonZeroU32)>,
        rng: &mut R,
    ) -> Self {
        let mut lb = Self::with_offset(endpoints, 0);
        if !lb.cycle.is_empty() {
            *lb.next.get_mut() = rng.random_range(0..lb.cycle.len());
        }
        lb
    }

    /// Builds the picker with the first pick at position `offset` (modulo the cycle length) of
    /// the cycle; offset 0 starts with the first pick of nginx's SWRR.
    ///
    /// Endpoints past the `u32::MAX`-th are ignored.
    pub fn with_offset(endpoints: impl IntoIterator<Item = (T, NonZeroU32)>, offset: usize) -> Self {
        let endpoints: Box<[(T, NonZeroU32)]> = endpoints.into_iter().take(u32::MAX as usize).collect();
        let weights: Vec<u32> = endpoints.iter().map(|(_, w)| w.get()).collect();
        let cycle = schedule::build(&weights).into_boxed_slice();
        Self {
            endpoints,
            cycle,
            next: AtomicUsize::new(offset),
        }
    }

    /// The next endpoint of the cycle, or `None` when there are no endpoints.
    ///
    /// Lock-free and wait-free: one relaxed atomic increment and a table lookup.
    pub fn pick(&self) -> Option<&T> {
        let len = self.cycle.len();
        if len == 0 {
            return None;
        }
        let position = self.next.fetch_add(1, Ordering::Relaxed) % len;
        let index = *self.cycle.get(position)?;
        self.endpoints.get(index as usize).map(|(endpoint, _)| endpoint)
    }

    /// The number of endpoints.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are no endpoints (then [`pick`](Self::pick) is always `None`).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The endpoints with their configured weights, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32)> {
        self.endpoints.iter().map(|(endpoint, w)| (endpoint, *w))
    }

    /// The number of picks in one full cycle: the sum of the weights divided by their gcd, or
    /// the capped length when that sum is too large (see the module docs).
    pub fn cycle_len(&self) -> usize {
        self.cycle.len()
    }
}

impl<T: fmt::Debug> fmt::Debug for WeightedRoundRobin<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cycle can hold a million entries; show its length only.
        f.debug_struct("WeightedRoundRobin")
            .field("endpoints", &self.endpoints)
            .field("cycle_len", &self.cycle.len())
            .field("next", &self.next.load(Ordering::Relaxed))
            .finish()
    }
}
