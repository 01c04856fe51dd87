use super::*;
use proptest::prelude::*;

#[test]
fn every_envoy_bound_is_a_bin_edge() {
    for bound in ENVOY_BUCKETS_US {
        assert_eq!(bin_range(bin_of(bound)).0, bound, "{bound} µs");
    }
}

#[test]
fn bins_tile_the_range_without_gaps() {
    let mut next = 0;
    for i in 0..BINS {
        let (low, high) = bin_range(i);
        assert_eq!(low, next, "bin {i}");
        assert_eq!(bin_of(low), i);
        assert_eq!(bin_of(high - 1), i);
        assert!(
            high - low <= (low / 50).max(1),
            "bin {i} [{low}, {high}) is wider than 2%"
        );
        next = high;
    }
    assert_eq!(next, MAX_US + 1);
}

#[test]
fn empty_has_no_quantiles_and_counts_nothing() {
    let s = Histogram::default().snapshot();
    assert_eq!(s.count(), 0);
    assert_eq!(s.quantile(0.5), None);
    assert_eq!(s.quantile(0.0), None);
    assert_eq!(s.count_at_most(3_600_000_000), 0);
}

#[test]
fn buckets_count_exactly_at_their_bounds() {
    let h = Histogram::default();
    for us in [
        499,
        500,
        501,
        24_999,
        25_000,
        25_001,
        3_600_000_000,
        20_000_000_000,
    ] {
        h.record_us(us);
    }
    let s = h.snapshot();
    assert_eq!(s.count(), 8);
    assert_eq!(s.count_at_most(498), 0);
    assert_eq!(
        s.count_at_most(500),
        2,
        "a value on a bound is counted in its bucket (le)"
    );
    assert_eq!(s.count_at_most(25_000), 5);
    assert_eq!(s.count_at_most(3_600_000_000), 7);
    assert_eq!(s.count_at_most(u64::MAX), 8, "longer than the range still counts");
    assert_eq!(
        s.sum_us(),
        499 + 500 + 501 + 24_999 + 25_000 + 25_001 + 3_600_000_000 + 20_000_000_000
    );
}

#[test]
fn quantiles_of_two_latencies_in_known_proportions() {
    let h = Histogram::default();
    for _ in 0..90 {
        h.record(Duration::from_millis(20));
    }
    for _ in 0..10 {
        h.record(Duration::from_millis(200));
    }
    let s = h.snapshot();
    let near = |q: f64, want: f64| {
        let got = s.quantile(q).unwrap_or(f64::NAN);
        assert!(
            (got - want).abs() <= want * 0.02,
            "p{q}: {got} µs, want about {want}"
        );
    };
    near(0.5, 20_000.0);
    near(0.9, 20_000.0);
    near(0.91, 200_000.0);
    near(0.99, 200_000.0);
    near(1.0, 200_000.0);
}

#[test]
fn since_and_merge_are_inverse() {
    let h = Histogram::default();
    h.record_us(70);
    let first = h.snapshot();
    h.record_us(7_000);
    h.record_us(7_000);
    let second = h.snapshot();
    let interval = second.since(&first);
    assert_eq!(interval.count(), 2);
    assert_eq!(interval.sum_us(), 14_000);
    let mut merged = first.clone();
    merged.merge(&interval);
    assert_eq!(merged, second);
    assert_eq!(second.since(&second).quantile(0.5), None);
}

proptest! {
    /// The quantile lies in the bin of the sample at its rank: within 2% (or 1 µs) of it.
    #[test]
    fn quantile_error_is_bounded(
        samples in prop::collection::vec(0u64..5_000_000_000, 1..300),
        q in 0.0f64..=1.0,
    ) {
        let h = Histogram::default();
        for &s in &samples {
            h.record_us(s);
        }
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
        let want = sorted[rank.min(sorted.len()) - 1] as f64;
        let got = h.snapshot().quantile(q).unwrap_or(f64::NAN);
        prop_assert!((got - want).abs() <= (want * 0.02).max(1.0), "q {q}: got {got}, want {want}");
    }

    /// Merging snapshots of two histograms equals one histogram of both sample sets.
    #[test]
    fn merge_equals_recording_together(
        a in prop::collection::vec(0u64..20_000_000_000, 0..100),
        b in prop::collection::vec(0u64..20_000_000_000, 0..100),
    ) {
        let (ha, hb, both) = (Histogram::default(), Histogram::default(), Histogram::default());
        for &s in &a { ha.record_us(s); both.record_us(s); }
        for &s in &b { hb.record_us(s); both.record_us(s); }
        let mut merged = ha.snapshot();
        merged.merge(&hb.snapshot());
        prop_assert_eq!(merged.count(), (a.len() + b.len()) as u64);
        prop_assert_eq!(merged, both.snapshot());
    }

    /// Quantiles never decrease with q.
    #[test]
    fn quantiles_are_monotonic(samples in prop::collection::vec(0u64..1_000_000, 1..200)) {
        let h = Histogram::default();
        for &s in &samples { h.record_us(s); }
        let s = h.snapshot();
        let qs: Vec<f64> = [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0].iter().filter_map(|q| s.quantile(*q)).collect();
        prop_assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
    }
}

#[test]
fn only_the_decades_used_are_allocated() {
    let h = Histogram::default();
    h.record(Duration::from_millis(30));
    h.record(Duration::from_millis(300));
    h.record(Duration::from_millis(31));
    let allocated = h.segments.iter().filter(|s| s.get().is_some()).count();
    assert_eq!(allocated, 2, "(10, 100] ms and (100, 1000] ms");
    let s = h.snapshot();
    assert_eq!(s.count(), 3);
    assert_eq!(s.segments.iter().flatten().count(), 2, "snapshots are as sparse");
}
