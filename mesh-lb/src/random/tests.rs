use super::*;
use proptest::prelude::{prop, prop_assert, proptest};
use rand::SeedableRng;
use rand::rngs::SmallRng;

fn w(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Picks `draws` times and counts each endpoint (endpoints are their own indices).
fn histogram(lb: &Random<usize>, rng: &mut impl Rng, draws: u32) -> Vec<u32> {
    let mut counts = vec![0; lb.len()];
    for _ in 0..draws {
        counts[*lb.pick(rng).unwrap()] += 1;
    }
    counts
}

/// Each count is within 5 standard deviations of its binomial mean `draws × p`. With a fixed
/// seed the test is deterministic; 5σ means a correct picker fails for fewer than 1 seed in
/// a million per endpoint, while a picker off by a few percent of a share fails at once.
fn assert_proportional(counts: &[u32], weights: &[u32], draws: u32) {
    let total: f64 = weights.iter().map(|&x| f64::from(x)).sum();
    for (i, (&got, &weight)) in counts.iter().zip(weights).enumerate() {
        let p = f64::from(weight) / total;
        let mean = f64::from(draws) * p;
        let sigma = (mean * (1.0 - p)).sqrt();
        let diff = (f64::from(got) - mean).abs();
        assert!(
            diff <= 5.0 * sigma,
            "endpoint {i}: {got} picks, expected {mean:.0} ± {sigma:.0}"
        );
    }
}

#[test]
fn weighted_distribution_follows_weights() {
    let weights = [1, 2, 3, 10, 84];
    let lb = Random::new(weights.iter().map(|&x| w(x)).enumerate());
    let draws = 200_000;
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(42), draws);
    assert_proportional(&counts, &weights, draws);
}

#[test]
fn equal_weights_are_uniform() {
    let weights = [7; 10];
    let lb = Random::new(weights.iter().map(|&x| w(x)).enumerate());
    assert!(lb.cumulative.is_empty(), "uniform fast path");
    let draws = 100_000;
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(3), draws);
    assert_proportional(&counts, &weights, draws);
}

#[test]
fn empty_and_single() {
    let mut rng = SmallRng::seed_from_u64(0);
    let empty = Random::<u8>::new([]);
    assert!(empty.is_empty());
    assert_eq!(empty.pick(&mut rng), None);

    let one = Random::new([("only", w(9))]);
    assert_eq!(one.len(), 1);
    assert!((0..100).all(|_| one.pick(&mut rng) == Some(&"only")));
    let seen: Vec<_> = one.iter().collect();
    assert_eq!(seen, [(&"only", w(9))]);
}

#[test]
fn huge_weights_do_not_overflow() {
    let lb = Random::new([(0, w(u32::MAX)), (1, w(u32::MAX)), (2, w(1))]);
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(5), 10_000);
    assert!(counts[0] > 4000 && counts[1] > 4000, "{counts:?}");
}

#[test]
fn distinct_pair_is_distinct_and_uniform() {
    let mut rng = SmallRng::seed_from_u64(11);
    assert_eq!(distinct_pair(&mut rng, 1), (0, 0));
    let n = 5;
    let mut counts = vec![0u32; n * n];
    for _ in 0..100_000 {
        let (a, b) = distinct_pair(&mut rng, n);
        assert_ne!(a, b);
        counts[a * n + b] += 1;
    }
    // The 20 ordered pairs are equally likely; the diagonal is never drawn.
    let weights: Vec<u32> = (0..n * n).map(|k| u32::from(k / n != k % n)).collect();
    assert_proportional(&counts, &weights, 100_000);
}

proptest! {
    #[test]
    fn picks_stay_in_the_snapshot(weights in prop::collection::vec(1u32..=1000, 1..=50), seed: u64) {
        let lb = Random::new(weights.iter().map(|&x| w(x)).enumerate());
        let mut rng = SmallRng::seed_from_u64(seed);
        for _ in 0..100 {
            let i = lb.pick_index(&mut rng).unwrap();
            prop_assert!(i < weights.len());
        }
    }
}
