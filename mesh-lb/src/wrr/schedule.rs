//! Building the pick cycle of a [`WeightedRoundRobin`](super::WeightedRoundRobin).
//!
//! The cycle is the sequence of endpoint indices one full round produces. It is built once per
//! snapshot, off the request path, in three steps:
//!
//! 1. **Reduce** the weights by their gcd (`10/10/20` is the same policy as `1/1/2`, with a cycle
//!    a tenth as long).
//! 2. **Cap** the cycle length at [`cycle_cap`]: `CYCLE_PER_ENDPOINT` slots per endpoint, at most
//!    `MAX_CYCLE` in all (but never fewer than one slot per endpoint). Above the cap the weights are
//!    apportioned onto `cap − n` slots by largest remainder, then any weight that got 0 is raised
//!    to 1. Trade-off: proportions are then exact for the *apportioned* weights, each within one
//!    slot of its exact share, so an endpoint's relative error is at most one over its slot count:
//!    ≈0.025% at 4096 slots per endpoint (clusters up to 256 endpoints), ≈1% for an endpoint
//!    among 10,000 average ones sharing 2^20 slots. In exchange a snapshot never costs more than
//!    4 MiB nor takes long to build, and an endpoint with a tiny weight is never starved (it keeps
//!    a slot per cycle, as any weight ≥ 1 keeps traffic in Envoy).
//! 3. **Order** the slots. Smooth weighted round robin (nginx's SWRR) is O(len × n) to build, so
//!    it is used while `len × n` stays under `SWRR_BUILD_BUDGET` (every cluster of up to 64
//!    endpoints whatever its weights, and larger ones with small weights). Above that the
//!    cycle comes from an earliest-deadline-first schedule with staggered deadlines, O(len ×
//!    log n): just as exact per cycle, each endpoint's picks evenly spaced at `1/w` of the cycle,
//!    but runs are less tightly bounded: an endpoint with weight `w` of `total` may run
//!    `1 + (n − 1) × w / (total − w)` times in a row, where SWRR stays within
//!    `ceil(w / (total − w)) + 1`. The two coincide for the large clusters with similar
//!    weights that end up here (both give runs of at most 2); a few heavy hosts among many light
//!    ones get somewhat burstier ordering. (Exact SWRR in O(log n) per slot needs a kinetic
//!    heap, since every score grows at its own rate; not worth it for a fallback.)

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Slots per endpoint before the cycle is scaled down.
pub const CYCLE_PER_ENDPOINT: usize = 4096;

/// Longest cycle (in slots of 4 bytes) regardless of the endpoint count, unless there are more
/// endpoints than this, in which case every endpoint gets exactly one slot.
pub const MAX_CYCLE: usize = 1 << 20;

/// The most `len × n` steps the exact SWRR construction may take (~16M additions, a few ms).
const SWRR_BUILD_BUDGET: u64 = 1 << 24;

/// The cycle length cap for `n` endpoints: see the module docs.
pub fn cycle_cap(n: usize) -> usize {
    n.saturating_mul(CYCLE_PER_ENDPOINT).min(MAX_CYCLE).max(n)
}

/// The full pick cycle for `weights` (each ≥ 1): indices into `weights`.
///
/// Every index `i` appears exactly `weights[i] / gcd` times when the reduced sum fits the cap,
/// or its scaled weight's count otherwise. Empty when `weights` is empty.
pub fn build(weights: &[u32]) -> Vec<u32> {
    let reduced = reduce(weights.iter().map(|&w| u64::from(w.max(1))).collect());
    let total: u64 = reduced.iter().sum();
    let cap = cycle_cap(reduced.len()) as u64;
    let reduced = if total > cap {
        reduce(scale(&reduced, total, cap))
    } else {
        reduced
    };
    let total: u64 = reduced.iter().sum();
    if total.saturating_mul(reduced.len() as u64) <= SWRR_BUILD_BUDGET {
        swrr(&reduced)
    } else {
        edf(&reduced)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Divides every weight by the gcd of all of them.
fn reduce(mut weights: Vec<u64>) -> Vec<u64> {
    let g = weights.iter().fold(0, |g, &w| gcd(g, w)).max(1);
    weights.iter_mut().for_each(|w| *w /= g);
    weights
}

/// Apportions `weights` (summing to `total > cap`) onto at most `cap` slots, keeping ratios as
/// closely as whole slots allow and every weight ≥ 1.
///
/// Largest remainder (Hamilton): each weight gets `floor(w × t / total)` of `t = cap − n` slots,
/// the slots left over go to the largest remainders (lower index first on ties), and a weight
/// left at 0 is raised to 1; so the sum is at most `t + n = cap`.
fn scale(weights: &[u64], total: u64, cap: u64) -> Vec<u64> {
    let target = u128::from(cap.saturating_sub(weights.len() as u64));
    let total = u128::from(total.max(1));
    let mut scaled: Vec<(u64, u128)> = weights
        .iter()
        .map(|&w| {
            let exact = u128::from(w) * target;
            let slots = u64::try_from(exact / total).unwrap_or(u64::MAX);
            (slots, exact % total)
        })
        .collect();
    let given: u128 = scaled.iter().map(|&(slots, _)| u128::from(slots)).sum();
    let left = usize::try_from(target.saturating_sub(given)).unwrap_or(0);
    let mut by_remainder: Vec<usize> = (0..scaled.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(scaled.get(i).map_or(0, |&(_, r)| r)));
    for &i in by_remainder.iter().take(left) {
        if let Some((slots, _)) = scaled.get_mut(i) {
            *slots += 1;
        }
    }
    scaled.into_iter().map(|(slots, _)| slots.max(1)).collect()
}

/// Index as stored in the cycle. `WeightedRoundRobin` keeps at most `u32::MAX` endpoints.
fn slot(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// nginx's smooth weighted round robin, one full cycle: each step adds every weight to its
/// endpoint's current weight, picks the largest (the first on ties) and takes the total off it.
pub fn swrr(weights: &[u64]) -> Vec<u32> {
    let total: u64 = weights.iter().sum();
    let total_i = i64::try_from(total).unwrap_or(i64::MAX);
    let mut current = vec![0i64; weights.len()];
    let mut cycle = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        let (mut best, mut best_current) = (0, i64::MIN);
        for (i, (cur, &w)) in current.iter_mut().zip(weights).enumerate() {
            *cur = cur.saturating_add(i64::try_from(w).unwrap_or(i64::MAX));
            if *cur > best_current {
                (best, best_current) = (i, *cur);
            }
        }
        if let Some(cur) = current.get_mut(best) {
            *cur = cur.saturating_sub(total_i);
        }
        cycle.push(slot(best));
    }
    cycle
}

/// Earliest-deadline-first with staggered phases: endpoint `j` of `n` has its `p`-th pick
/// (counting from one) due at `(p − 1 + φ_j) / w_j` of the cycle, with phase `φ_j = (2j + 1) / 2n`; ties go to the
/// lower index. Every `φ_j` is in `(0, 1]`, so all `w_j` deadlines of every endpoint fall inside
/// the cycle and the next one after it: one cycle of `Σw` picks is exact. The phases spread the
/// light endpoints across the cycle; with equal phases (`p − ½`) all weight-1 endpoints would be
/// due at once and the heavy ones would run in long streaks around them.
pub fn edf(weights: &[u64]) -> Vec<u32> {
    let total: u64 = weights.iter().sum();
    let n = weights.len() as u64;
    let mut heap: BinaryHeap<Reverse<Deadline>> = (0u64..)
        .zip(weights)
        .map(|(j, &w)| {
            Reverse(Deadline {
                num: 2 * j + 1,
                den: 2 * n * w.max(1),
                step: 2 * n,
                index: j,
            })
        })
        .collect();
    let len = usize::try_from(total).unwrap_or(0);
    let mut cycle = Vec::with_capacity(len);
    while cycle.len() < len {
        let Some(Reverse(next)) = heap.pop() else {
            break;
        };
        cycle.push(u32::try_from(next.index).unwrap_or(u32::MAX));
        heap.push(Reverse(Deadline {
            num: next.num + next.step,
            ..next
        }));
    }
    cycle
}

/// The rational deadline `num / den` of an endpoint's next pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Deadline {
    num: u64,
    den: u64,
    /// Added to `num` for the following pick: one whole period, `1 / w` of the cycle.
    step: u64,
    index: u64,
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> Ordering {
        let lhs = u128::from(self.num) * u128::from(other.den);
        let rhs = u128::from(other.num) * u128::from(self.den);
        lhs.cmp(&rhs).then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
