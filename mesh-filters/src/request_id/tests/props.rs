//! The sampling rule over many IDs: the share sampled matches the target, and a decision never
//! depends on anything but the ID and the percentage.

use super::super::id::from_random_bytes;
use super::super::sampled;
use mesh_core::policy::Percent;
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const IDS: u32 = 100_000;

/// The sampled share must be within this of the target: five standard deviations of a
/// binomial over `IDS` draws (0.16 points at 1%, 0.79 at 50%), plus a floor for tiny shares.
fn tolerance(fraction: f64) -> f64 {
    5.0 * (fraction * (1.0 - fraction) / f64::from(IDS)).sqrt() + 0.000_1
}

/// Shares an operator would configure, from the finest Envoy allows to all.
fn shares() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![0.01, 0.1, 1.0, 5.0, 12.5, 50.0, 99.0, 100.0])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_share_of_random_uuids_sampled_is_the_target(seed: u64, share in shares()) {
        let percent = Percent::new(share).unwrap();
        let mut rng = SmallRng::seed_from_u64(seed);
        let hits = (0..IDS)
            .filter(|_| sampled(from_random_bytes(rng.random()).as_bytes(), percent))
            .count();
        let observed = hits as f64 / f64::from(IDS);
        let target = percent.fraction();
        prop_assert!(
            (observed - target).abs() <= tolerance(target),
            "{observed} sampled at {percent}"
        );
    }

    #[test]
    fn a_decision_depends_only_on_the_id(bytes: [u8; 16], share in 0.0..=100.0f64) {
        let percent = Percent::new(share).unwrap();
        let id = from_random_bytes(bytes);
        let text = id.to_str().unwrap();
        // A copy from another hop, in another buffer, and its uppercase spelling agree.
        let copy = text.as_bytes().to_vec();
        prop_assert_eq!(sampled(id.as_bytes(), percent), sampled(&copy, percent));
        prop_assert_eq!(sampled(id.as_bytes(), percent), sampled(text.to_uppercase().as_bytes(), percent));
    }

    #[test]
    fn raising_the_share_only_adds_chains(id: Vec<u8>, a in 0.0..=100.0f64, b in 0.0..=100.0f64) {
        let (low, high) = (Percent::new(a.min(b)).unwrap(), Percent::new(a.max(b)).unwrap());
        prop_assert!(!sampled(&id, low) || sampled(&id, high));
    }
}

#[test]
fn sequential_non_uuid_ids_are_spread_too() {
    // IDs from a peer's counter take the FNV-1a path; a poor mix would sample whole runs.
    for share in [1.0, 10.0, 50.0] {
        let percent = Percent::new(share).unwrap();
        let hits = (0..IDS)
            .filter(|n| sampled(format!("req-{n}").as_bytes(), percent))
            .count();
        let observed = hits as f64 / f64::from(IDS);
        let target = percent.fraction();
        assert!(
            (observed - target).abs() <= tolerance(target),
            "{observed} sampled at {percent}"
        );
    }
}
