//! A lock-free log-linear histogram of durations, kept in microseconds.
//!
//! Layout: a value up to 100 µs has a bin of its own (1 µs wide); above, each decade
//! `(10^k, 10^(k+1)]` µs is cut into 450 bins `2·10^(k-2)` µs wide (three significant
//! digits, the last one even; a bin holds `(low, high]`, as Prometheus' `le` counts), up to
//! 10^10 µs (about 2.8 hours; anything longer lands in
//! the last bin). A bin is at most 2% of its lower edge wide, so a quantile read from the
//! bins (interpolated inside its bin) is within 2% (or 1 µs) of a recorded value, like
//! HdrHistogram or Envoy's circllhist. Every bound of Envoy's default buckets
//! ([`ENVOY_BUCKETS_US`], 0.5 ms … 1 h) is a bin edge, so Prometheus buckets derived from the
//! bins count exactly what a fixed-bucket histogram would.
//!
//! Cost: recording is two relaxed atomic adds (the bin and the sum) and an atomic load: no
//! lock, and no allocation but the first time a value lands in a decade (see [`SEGMENTS`]).
//! Reading takes a [`Snapshot`] (a copy), which
//! merges, subtracts (for interval quantiles) and answers quantiles and bucket counts.
//! A snapshot taken while requests are recorded may miss some of them; it never counts one
//! twice, and the count it reports is always the sum of its bins.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Envoy's default histogram bucket bounds, in microseconds (0.5, 1, 5, 10, 25, 50, 100,
/// 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000 ms).
pub(crate) const ENVOY_BUCKETS_US: [u64; 19] = [
    500,
    1_000,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    300_000_000,
    600_000_000,
    1_800_000_000,
    3_600_000_000,
];

/// Values below this many µs get one bin each.
const LINEAR: u64 = 100;
/// Bins per decade above [`LINEAR`].
const PER_DECADE: usize = 450;
/// Decades from 10^2 to 10^10 µs.
const DECADES: usize = 8;
/// The largest value with a bin of its own; larger ones are counted in the last bin.
pub(crate) const MAX_US: u64 = 10_000_000_000 - 1;
pub(crate) const BINS: usize = LINEAR as usize + PER_DECADE * DECADES;

/// The bin of `us` microseconds.
pub(crate) fn bin_of(us: u64) -> usize {
    let us = us.min(MAX_US);
    if us < LINEAR {
        return us as usize;
    }
    let decade = us.ilog10(); // 2..=9
    let scale = 10u64.pow(decade - 2);
    let digits = us / scale; // 100..=999
    LINEAR as usize + (decade as usize - 2) * PER_DECADE + ((digits - 100) / 2) as usize
}

/// The `[low, high)` µs range of bin `i`.
pub(crate) fn bin_range(i: usize) -> (u64, u64) {
    if i < LINEAR as usize {
        return (i as u64, i as u64 + 1);
    }
    let j = i - LINEAR as usize;
    let decade = (j / PER_DECADE) as u32 + 2;
    let scale = 10u64.pow(decade - 2);
    let low = (100 + 2 * (j % PER_DECADE) as u64) * scale;
    (low, low + 2 * scale)
}

/// Bins are kept in segments, the linear one and one per decade, each allocated when a
/// value first lands in it: latencies usually span two or three decades, so a histogram
/// holds about a thousand counters rather than all 3,700.
const SEGMENTS: usize = 1 + DECADES;

/// `(segment, index within it)` of bin `bin`.
fn segment_of(bin: usize) -> (usize, usize) {
    match bin.checked_sub(LINEAR as usize) {
        None => (0, bin),
        Some(j) => (1 + j / PER_DECADE, j % PER_DECADE),
    }
}

fn segment_len(segment: usize) -> usize {
    if segment == 0 { LINEAR as usize } else { PER_DECADE }
}

/// The global bin number of a segment's first bin.
fn segment_start(segment: usize) -> usize {
    match segment {
        0 => 0,
        s => LINEAR as usize + (s - 1) * PER_DECADE,
    }
}

/// The live, shared histogram the request path records into.
#[derive(Debug)]
pub(crate) struct Histogram {
    segments: [OnceLock<Box<[AtomicU64]>>; SEGMENTS],
    sum_us: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            segments: std::array::from_fn(|_| OnceLock::new()),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub(crate) fn record(&self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    pub(crate) fn record_us(&self, us: u64) {
        // Bins hold `(low, high]`, as Prometheus' `le` buckets count: a value on an edge
        // belongs to the bin below it.
        let (segment, i) = segment_of(bin_of(us.saturating_sub(1)));
        if let Some(cell) = self.segments.get(segment) {
            let bins = cell.get_or_init(|| (0..segment_len(segment)).map(|_| AtomicU64::new(0)).collect());
            if let Some(bin) = bins.get(i) {
                bin.fetch_add(1, Relaxed);
            }
        }
        self.sum_us.fetch_add(us, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            segments: (self.segments.iter())
                .map(|cell| Some(cell.get()?.iter().map(|b| b.load(Relaxed)).collect()))
                .collect(),
            sum_us: self.sum_us.load(Relaxed),
        }
    }
}

/// A copy of a histogram's counts at one moment (or the difference of two), in the same
/// segments (a segment no value reached is absent).
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// `SEGMENTS` long.
    segments: Box<[Option<Box<[u64]>>]>,
    sum_us: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            segments: vec![None; SEGMENTS].into_boxed_slice(),
            sum_us: 0,
        }
    }
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        self.sum_us == other.sum_us && self.nonzero().eq(other.nonzero())
    }
}

impl Snapshot {
    /// `(bin, count)` of every bin with samples, lowest first.
    fn nonzero(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (self.segments.iter().enumerate())
            .filter_map(|(s, bins)| Some((segment_start(s), bins.as_deref()?)))
            .flat_map(|(start, bins)| bins.iter().enumerate().map(move |(i, n)| (start + i, *n)))
            .filter(|(_, n)| *n > 0)
    }

    pub(crate) fn count(&self) -> u64 {
        self.nonzero().map(|(_, n)| n).sum()
    }

    pub(crate) fn sum_us(&self) -> u64 {
        self.sum_us
    }

    /// Samples at or below `bound_us`, exact when `bound_us` is a bin edge (as every
    /// bound of [`ENVOY_BUCKETS_US`] is).
    pub(crate) fn count_at_most(&self, bound_us: u64) -> u64 {
        let end = match bound_us {
            b if b > MAX_US => BINS,
            b => bin_of(b),
        };
        self.nonzero()
            .take_while(|(bin, _)| *bin < end)
            .map(|(_, n)| n)
            .sum()
    }

    /// The `q` quantile (0.0 to 1.0) in µs, interpolated inside its bin; `None` when empty.
    /// 0 is the lowest bin's lower edge, 1 the highest bin's upper edge.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        let mut last = None;
        for (bin, n) in self.nonzero() {
            let (low, high) = bin_range(bin);
            if rank == 0.0 {
                return Some(low as f64);
            }
            if rank <= (below + n) as f64 {
                let within = (rank - below as f64) / n as f64;
                return Some(low as f64 + within * (high - low) as f64);
            }
            below += n;
            last = Some(high);
        }
        // Only reached through rounding at q = 1: the top of the highest bin.
        last.map(|high| high as f64)
    }

    /// Adds `other`'s samples to these.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "for summing histograms (across listeners, say); tested here"
        )
    )]
    pub(crate) fn merge(&mut self, other: &Snapshot) {
        for (mine, theirs) in self.segments.iter_mut().zip(other.segments.iter()) {
            match (mine.as_mut(), theirs) {
                (Some(mine), Some(theirs)) => {
                    for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                        *m += t;
                    }
                }
                (None, Some(theirs)) => *mine = Some(theirs.clone()),
                (_, None) => {}
            }
        }
        self.sum_us += other.sum_us;
    }

    /// The samples recorded after `earlier` was taken (of the same histogram).
    pub(crate) fn since(&self, earlier: &Snapshot) -> Snapshot {
        let mut segments = self.segments.clone();
        for (now, then) in segments.iter_mut().zip(earlier.segments.iter()) {
            if let (Some(now), Some(then)) = (now.as_mut(), then) {
                for (n, t) in now.iter_mut().zip(then.iter()) {
                    *n = n.saturating_sub(*t);
                }
            }
        }
        Snapshot {
            segments,
            sum_us: self.sum_us.saturating_sub(earlier.sum_us),
        }
    }
}

#[cfg(test)]
mod tests;
