use super::*;
use crate::load::InFlight;
use proptest::prelude::{prop, prop_assert, proptest};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Instant;

fn w(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

type Hosts = Vec<(usize, NonZeroU32, Arc<Load>)>;

/// Hosts `0..n` with the given weights and that many requests in flight each; the guards must
/// be kept alive for the counts to stay.
fn hosts(weights: &[u32], actives: &[u64]) -> (Hosts, Vec<InFlight>) {
    let now = Instant::now();
    let mut guards = Vec::new();
    let hosts = weights
        .iter()
        .zip(actives)
        .enumerate()
        .map(|(i, (&weight, &active))| {
            let load = Arc::new(Load::new());
            guards.extend((0..active).map(|_| load.start(now)));
            (i, w(weight), load)
        })
        .collect();
    (hosts, guards)
}

fn config(choice_count: u32, active_request_bias: f64) -> LeastRequestConfig {
    LeastRequestConfig {
        choice_count,
        active_request_bias,
    }
}

fn histogram(lb: &LeastRequest<usize>, rng: &mut impl Rng, draws: u32) -> Vec<u32> {
    let mut counts = vec![0; lb.len()];
    for _ in 0..draws {
        counts[*lb.pick(rng).unwrap()] += 1;
    }
    counts
}

/// Each count within 5 binomial standard deviations of `draws × p_i`, `p = shares / Σ shares`
/// (fixed seeds: deterministic; a correct picker fails for under 1 seed in a million).
fn assert_shares(counts: &[u32], shares: &[f64], draws: u32) {
    let total: f64 = shares.iter().sum();
    for (i, (&got, &share)) in counts.iter().zip(shares).enumerate() {
        let p = share / total;
        let mean = f64::from(draws) * p;
        let sigma = (mean * (1.0 - p)).sqrt();
        let diff = (f64::from(got) - mean).abs();
        assert!(
            diff <= 5.0 * sigma + 1e-9,
            "host {i}: {got}, expected {mean:.0} ± {sigma:.0} in {counts:?}"
        );
    }
}

#[test]
fn never_picks_the_busier_of_two() {
    let (two, _guards) = hosts(&[1, 1], &[1, 0]);
    let lb = LeastRequest::new(two, LeastRequestConfig::default()).unwrap();
    let mut rng = SmallRng::seed_from_u64(1);
    assert!((0..10_000).all(|_| lb.pick(&mut rng) == Some(&1)));
}

#[test]
fn p2c_never_picks_the_unique_busiest_and_favours_the_idle_in_proportion() {
    // Actives 0..9: a host ranked r-th least busy wins when it is sampled (2/n) and its partner
    // is busier ((n − 1 − r)/(n − 1)): shares 9, 8, ..., 1, 0.
    let actives: Vec<u64> = (0..10).collect();
    let (ten, _guards) = hosts(&[1; 10], &actives);
    let lb = LeastRequest::new(ten, LeastRequestConfig::default()).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(2), 100_000);
    assert_eq!(counts[9], 0, "the busiest host is never picked");
    let shares: Vec<f64> = (0..10).map(|r| f64::from(9 - r)).collect();
    assert_shares(&counts, &shares, 100_000);
}

#[test]
fn spreads_evenly_when_idle() {
    let (ten, _guards) = hosts(&[3; 10], &[0; 10]);
    let lb = LeastRequest::new(ten, LeastRequestConfig::default()).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(3), 100_000);
    assert_shares(&counts, &[1.0; 10], 100_000);
}

/// Keeps 200 requests in flight over 20 hosts for 20,000 steps: each step starts a request on
/// the host `pick` names and ends a random one. Returns the mean over the last half of the
/// spread between the longest and the shortest queue.
fn mean_queue_spread(mut pick: impl FnMut(&mut SmallRng) -> usize, loads: &[Arc<Load>], seed: u64) -> f64 {
    let mut rng = SmallRng::seed_from_u64(seed);
    let now = Instant::now();
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut spreads = 0;
    for step in 0..20_000 {
        in_flight.push(loads[pick(&mut rng)].start(now));
        if in_flight.len() > 200 {
            drop(in_flight.swap_remove(rng.random_range(0..in_flight.len())));
        }
        if step >= 10_000 {
            let actives = loads.iter().map(|load| load.active());
            spreads += actives.clone().max().unwrap() - actives.min().unwrap();
        }
    }
    spreads as f64 / 10_000.0
}

#[test]
fn keeps_queues_level_under_sustained_load() {
    let (twenty, _) = hosts(&[1; 20], &[0; 20]);
    let loads: Vec<Arc<Load>> = twenty.iter().map(|(_, _, load)| Arc::clone(load)).collect();
    let lb = LeastRequest::new(twenty, LeastRequestConfig::default()).unwrap();
    let p2c = mean_queue_spread(|rng| *lb.pick(rng).unwrap(), &loads, 14);
    // The same run with uniform random choice, for scale. Over seeds 1..=10 the means were
    // 5.0..5.2 for P2C and 11.1..12.2 for random (queues of about 10 ± 3).
    let uniform = mean_queue_spread(|rng| rng.random_range(0..20), &loads, 14);
    assert!(p2c < 6.0 && p2c * 2.0 < uniform, "P2C {p2c} vs random {uniform}");
}

#[test]
fn choice_count_at_or_above_host_count_scans_them_all() {
    let (three, _guards) = hosts(&[1, 1, 1], &[2, 0, 0]);
    let lb = LeastRequest::new(three, config(3, 1.0)).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(5), 30_000);
    assert_eq!(counts[0], 0);
    assert_shares(&counts, &[0.0, 1.0, 1.0], 30_000); // ties broken evenly
}

#[test]
fn more_choices_sample_with_replacement_as_envoy_does() {
    // With k = 3 of n = 10, the busiest host wins only if all three draws are it: (1/10)^3.
    let mut actives = vec![0; 10];
    actives[0] = 5;
    let (ten, _guards) = hosts(&[1; 10], &actives);
    let lb = LeastRequest::new(ten, config(3, 1.0)).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(6), 200_000);
    let p = 1e-3;
    let mut shares = vec![(1.0 - p) / 9.0; 10];
    shares[0] = p;
    assert_shares(&counts, &shares, 200_000);
}

#[test]
fn weighted_with_bias_zero_ignores_load() {
    let (four, _guards) = hosts(&[1, 2, 3, 4], &[0, 0, 0, 10]);
    let lb = LeastRequest::new(four, config(2, 0.0)).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(7), 100_000);
    assert_shares(&counts, &[1.0, 2.0, 3.0, 4.0], 100_000);
}

#[test]
fn weighted_with_bias_one_shifts_away_from_loaded_hosts() {
    // Effective weights 1/1, 2/1, 3/1, 4/(3 + 1).
    let (four, _guards) = hosts(&[1, 2, 3, 4], &[0, 0, 0, 3]);
    let lb = LeastRequest::new(four, LeastRequestConfig::default()).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(8), 100_000);
    assert_shares(&counts, &[1.0, 2.0, 3.0, 1.0], 100_000);
}

#[test]
fn weighted_beyond_the_kept_weights_recomputes_them() {
    // 200 hosts: the first 128 effective weights are kept between passes, the rest recomputed.
    let weights: Vec<u32> = (0..200).map(|i| 1 + i % 2).collect();
    let actives: Vec<u64> = (0..200).map(|i| i % 3).collect();
    let (many, _guards) = hosts(&weights, &actives);
    let lb = LeastRequest::new(many, LeastRequestConfig::default()).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(15), 50_000);
    let shares: Vec<f64> = weights
        .iter()
        .zip(&actives)
        .map(|(&w, &a)| f64::from(w) / (a as f64 + 1.0))
        .collect();
    assert_shares(&counts, &shares, 50_000);
}

#[test]
fn weighted_with_other_biases_uses_the_power() {
    // Bias 2: 4 / (1 + 1)^2 = 1. Bias 0.5: 4 / (3 + 1)^0.5 = 2.
    let (four, _guards) = hosts(&[1, 2, 3, 4], &[0, 0, 0, 1]);
    let lb = LeastRequest::new(four, config(2, 2.0)).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(9), 100_000);
    assert_shares(&counts, &[1.0, 2.0, 3.0, 1.0], 100_000);

    let (four, _guards) = hosts(&[1, 2, 3, 4], &[0, 0, 0, 3]);
    let lb = LeastRequest::new(four, config(2, 0.5)).unwrap();
    let counts = histogram(&lb, &mut SmallRng::seed_from_u64(10), 100_000);
    assert_shares(&counts, &[1.0, 2.0, 3.0, 2.0], 100_000);
}

#[test]
fn discounts_beyond_the_table_are_computed() {
    // 199 and 255 in flight are past the 128 precomputed factors: 2 / 200 and 2 / 256^0.5.
    for (bias, active, share) in [(1.0, 199, 0.01), (0.5, 255, 0.125)] {
        let (two, _guards) = hosts(&[1, 2], &[0, active]);
        let lb = LeastRequest::new(two, config(2, bias)).unwrap();
        let counts = histogram(&lb, &mut SmallRng::seed_from_u64(16), 100_000);
        assert_shares(&counts, &[1.0, share], 100_000);
    }
}

#[test]
fn a_huge_bias_that_underflows_picks_the_least_loaded() {
    let (two, _guards) = hosts(&[1, 2], &[6, 5]);
    let lb = LeastRequest::new(two, config(2, 1e6)).unwrap();
    let mut rng = SmallRng::seed_from_u64(11);
    assert!((0..1000).all(|_| lb.pick(&mut rng) == Some(&1)));
}

#[test]
fn picks_only_from_the_snapshot() {
    // Hosts 1, 3, 5, ... are ejected and idle; the snapshot holds only the even, busy ones.
    let actives: Vec<u64> = (0..10).map(|i| if i % 2 == 0 { 3 } else { 0 }).collect();
    for weights in [[1; 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] {
        for cfg in [
            LeastRequestConfig::default(),
            config(2, 0.0),
            config(20, 1.0),
            config(3, 2.5),
        ] {
            let (all, _guards) = hosts(&weights, &actives);
            let eligible = all.into_iter().filter(|(i, _, _)| i % 2 == 0);
            let lb = LeastRequest::new(eligible, cfg).unwrap();
            assert_eq!(lb.len(), 5);
            let mut rng = SmallRng::seed_from_u64(12);
            for _ in 0..2_000 {
                let host = *lb.pick(&mut rng).unwrap();
                assert_eq!(host % 2, 0, "picked ejected host {host} with {cfg:?}");
            }
        }
    }
}

#[test]
fn empty_and_single() {
    let mut rng = SmallRng::seed_from_u64(13);
    for cfg in [LeastRequestConfig::default(), config(2, 0.0), config(5, 3.0)] {
        let empty = LeastRequest::<u8>::new([], cfg).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.pick(&mut rng), None);
        let (one, _guards) = hosts(&[4], &[9]);
        let one = LeastRequest::new(one, cfg).unwrap();
        assert!((0..100).all(|_| one.pick(&mut rng) == Some(&0)));
    }
}

#[test]
fn config_is_validated() {
    let default = LeastRequestConfig::default();
    assert_eq!((default.choice_count, default.active_request_bias), (2, 1.0));
    for bad in [0, 1] {
        let err = LeastRequest::<u8>::new([], config(bad, 1.0)).unwrap_err();
        assert_eq!(err, InvalidLeastRequestConfig::TooFewChoices(bad));
    }
    for bad in [-0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = LeastRequest::<u8>::new([], config(2, bad)).unwrap_err();
        assert!(
            matches!(err, InvalidLeastRequestConfig::BadActiveRequestBias(_)),
            "{bad}"
        );
    }
    assert_eq!(
        InvalidLeastRequestConfig::TooFewChoices(1).to_string(),
        "least_request_lb_config.choice_count: 1 is below the minimum of 2"
    );
    let lb = LeastRequest::<u8>::new([], config(7, 0.0)).unwrap();
    assert_eq!(lb.config(), &config(7, 0.0));
}

proptest! {
    #[test]
    fn p2c_never_picks_a_unique_busiest_host(
        actives in prop::collection::vec(0u64..8, 3..12),
        seed: u64,
    ) {
        let (all, _guards) = hosts(&vec![1; actives.len()], &actives);
        let lb = LeastRequest::new(all, LeastRequestConfig::default()).unwrap();
        let max = *actives.iter().max().unwrap();
        let unique_max = actives.iter().filter(|&&a| a == max).count() == 1;
        let mut rng = SmallRng::seed_from_u64(seed);
        for _ in 0..200 {
            let host = *lb.pick(&mut rng).unwrap();
            prop_assert!(host < actives.len());
            prop_assert!(!(unique_max && actives[host] == max));
        }
    }
}
