use super::*;
use crate::hash::test_support::{address, moved, request_hashes};
use crate::hash::{DuplicateHostKey, hash_key};
use proptest::prelude::*;

fn w(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn config(table_size: u64) -> MaglevConfig {
    MaglevConfig::new(table_size).unwrap()
}

/// `n` hosts named by their index, keyed by an address, all weight 1.
fn equal_hosts(n: usize) -> Vec<(usize, String, NonZeroU32)> {
    (0..n).map(|i| (i, address(i), w(1))).collect()
}

fn build(hosts: Vec<(usize, String, NonZeroU32)>) -> Maglev<usize> {
    Maglev::new(hosts, MaglevConfig::default()).unwrap()
}

/// The host each of `hashes` goes to.
fn picks(lb: &Maglev<usize>, hashes: &[u64]) -> Vec<usize> {
    hashes.iter().map(|&h| *lb.pick(h).unwrap()).collect()
}

/// How many slots each of `n` hosts owns.
fn slots(lb: &Maglev<usize>, n: usize) -> Vec<u64> {
    let mut counts = vec![0; n];
    for &host in &lb.table {
        counts[host as usize] += 1;
    }
    counts
}

#[test]
fn defaults_are_envoys() {
    assert_eq!(MaglevConfig::default().table_size(), 65_537);
}

#[test]
fn table_size_must_be_a_small_enough_prime() {
    // 5,000,077 is the first prime above the maximum.
    for size in [0, 1, 4, 65_535, 65_536, 5_000_077] {
        assert_eq!(
            MaglevConfig::new(size),
            Err(InvalidTableSize { table_size: size })
        );
    }
    for size in [2, 3, 251, 65_537, 65_539, MAX_TABLE_SIZE] {
        assert_eq!(MaglevConfig::new(size).map(|c| c.table_size()), Ok(size));
    }
}

#[test]
fn no_hosts_pick_none() {
    let lb = Maglev::<usize>::new::<&str>([], MaglevConfig::default()).unwrap();
    assert!(lb.is_empty());
    assert_eq!((lb.len(), lb.table_size()), (0, 65_537));
    assert_eq!((lb.min_entries_per_host(), lb.max_entries_per_host()), (0, 0));
    assert_eq!(lb.pick(0), None);
    assert_eq!(lb.pick(u64::MAX), None);
}

#[test]
fn a_single_host_gets_everything() {
    let lb = build(equal_hosts(1));
    assert_eq!(
        (lb.min_entries_per_host(), lb.max_entries_per_host()),
        (65_537, 65_537)
    );
    assert!(picks(&lb, &request_hashes(10_000)).iter().all(|&h| h == 0));
}

#[test]
fn pick_is_the_slot_of_hash_mod_size() {
    let lb = Maglev::new(equal_hosts(3), config(7)).unwrap();
    for hash in [0, 6, 7, 13, u64::MAX, hash_key(b"x")] {
        let owner = lb.table[(hash % 7) as usize] as usize;
        assert_eq!(lb.pick(hash), Some(&owner), "{hash}");
    }
}

#[test]
fn equal_weights_share_slots_evenly() {
    // Maglev's guarantee: with equal weights every host owns ⌊M/N⌋ or ⌈M/N⌉ slots.
    for n in [3, 10, 50, 1000] {
        let lb = build(equal_hosts(n));
        let fair = 65_537 / n as u64;
        assert!(slots(&lb, n).iter().all(|&s| s == fair || s == fair + 1), "{n}");
    }
}

#[test]
fn weights_1_and_3_split_25_75() {
    let lb = Maglev::new([(0, "a:80", w(1)), (1, "b:80", w(3))], MaglevConfig::default()).unwrap();
    // a takes turns in rounds 1, 3, 6, 9, …, b in every round: 16,385 + 49,152 slots.
    assert_eq!(slots(&lb, 2), [16_385, 49_152]);
    let hashes = request_hashes(100_000);
    let share = picks(&lb, &hashes).iter().filter(|&&h| h == 0).count() as f64 / 1e5;
    // Slots split exactly 25.0/75.0; 100,000 keys sample that with a standard deviation of
    // √(0.25 × 0.75 / 100,000) ≈ 0.0014: ±0.01 is 7 of them.
    assert!((share - 0.25).abs() < 0.01, "{share}");
}

#[test]
fn slots_and_keys_follow_weights() {
    let hosts: Vec<_> = (0..10).map(|i| (i, address(i), w(i as u32 + 1))).collect();
    let lb = build(hosts);
    let hashes = request_hashes(200_000);
    let mut keys = [0usize; 10];
    for host in picks(&lb, &hashes) {
        keys[host] += 1;
    }
    for (i, &owned) in slots(&lb, 10).iter().enumerate() {
        let expected = (i + 1) as f64 / 55.0;
        // Slots are dealt in whole rounds, so a host is at most one turn (of 65,537 / 10 ≈
        // 6,554 rounds) off its share: well under 0.1% relative.
        let slot_share = owned as f64 / 65_537.0;
        assert!(
            (slot_share / expected - 1.0).abs() < 0.001,
            "host {i}: {slot_share}"
        );
        // Keys sample the slots: the lightest host gets ≈ 3,636 of 200,000, so its count
        // deviates by about 1/√3636 ≈ 1.7% relative; 7% is 4 standard deviations.
        let key_share = keys[i] as f64 / hashes.len() as f64;
        assert!((key_share / expected - 1.0).abs() < 0.07, "host {i}: {key_share}");
    }
}

/// Removes hosts of `n` in turn: about 1/N of the keys move, between 0.5/N and 1.5/N.
///
/// The leaving host owns exactly 1/N of the slots (±1), and they must move; its keys sample
/// that with a standard deviation under 1% relative (50,000 keys). Maglev's refill moves a few
/// more: a remaining host that lost a contested slot to the leaving one may now take it, and
/// the slots it would have taken later go to others. Measured here: 0.2–0.6% of keys move
/// between remaining hosts, for N = 10 and 50 alike; the bound of 0.5/N (1% for N = 50) leaves
/// room for other host names.
fn check_churn(n: usize) {
    let hashes = request_hashes(50_000);
    let before = picks(&build(equal_hosts(n)), &hashes);
    for leaving in (0..n).step_by((n / 10).max(1)) {
        let rest: Vec<_> = equal_hosts(n)
            .into_iter()
            .filter(|(i, ..)| *i != leaving)
            .collect();
        let after = picks(&build(rest), &hashes);
        let fraction = moved(&before, &after);
        let others_moved = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| **b != leaving && b != a)
            .count() as f64
            / hashes.len() as f64;
        let n = n as f64;
        assert!(
            (0.5 / n..=1.5 / n).contains(&fraction),
            "host {leaving}: {fraction}"
        );
        assert!(others_moved <= 0.5 / n, "host {leaving}: {others_moved}");
    }
}

#[test]
fn one_of_10_leaving_moves_about_a_tenth() {
    check_churn(10);
}

#[test]
fn one_of_50_leaving_moves_about_a_fiftieth() {
    check_churn(50);
}

#[test]
fn a_host_coming_back_restores_the_table() {
    let full = build(equal_hosts(10));
    let without: Vec<_> = equal_hosts(10).into_iter().filter(|(i, ..)| *i != 3).collect();
    let mut back = without.clone();
    back.push((3, address(3), w(1))); // back at the end of the list
    let smaller = build(without);
    let again = build(back);
    let hashes = request_hashes(20_000);
    assert_ne!(picks(&full, &hashes), picks(&smaller, &hashes));
    assert_eq!(picks(&full, &hashes), picks(&again, &hashes));
}

#[test]
fn same_hosts_in_any_order_build_the_same_table() {
    let hosts: Vec<_> = (0..20).map(|i| (i, address(i), w(i as u32 % 4 + 1))).collect();
    let forward = build(hosts.clone());
    let backward = build(hosts.into_iter().rev().collect());
    // Compare owners, not positions: the positions differ with the input order.
    let owners = |lb: &Maglev<usize>| -> Vec<usize> { (0..65_537).map(|s| *lb.pick(s).unwrap()).collect() };
    assert_eq!(owners(&forward), owners(&backward));
    assert_eq!(forward.iter().next(), Some((&0, w(1))));
}

#[test]
fn duplicate_keys_are_rejected() {
    let hosts = [(0, "a:80", w(1)), (1, "b:80", w(1)), (2, "b:80", w(2))];
    let err = Maglev::new(hosts, MaglevConfig::default()).unwrap_err();
    assert_eq!(
        err,
        MaglevBuildError::DuplicateHostKey(DuplicateHostKey { first: 1, second: 2 })
    );
}

#[test]
fn more_hosts_than_slots_are_rejected() {
    let err = Maglev::new(equal_hosts(3), config(2)).unwrap_err();
    assert_eq!(
        err,
        MaglevBuildError::TableTooSmall(TableTooSmall {
            hosts: 3,
            table_size: 2
        })
    );
    assert_eq!(err.to_string(), "3 hosts do not fit a maglev table of 2 slots");
    // As many hosts as slots: one slot each.
    let lb = Maglev::new(equal_hosts(3), config(3)).unwrap();
    assert_eq!((lb.min_entries_per_host(), lb.max_entries_per_host()), (1, 1));
}

#[test]
fn debug_shows_the_size_not_the_table() {
    let debug = format!("{:?}", build(equal_hosts(2)));
    assert!(debug.contains("table_size: 65537"), "{debug}");
    assert!(debug.len() < 200, "{debug}");
}

proptest! {
    #[test]
    fn picks_a_given_host_deterministically(
        weights in prop::collection::vec(1u32..=1000, 0..=20),
        hashes in prop::collection::vec(any::<u64>(), 1..=50),
        size in prop::sample::select(vec![23u64, 251, 4099]),
    ) {
        let hosts: Vec<_> = weights.iter().enumerate().map(|(i, &x)| (i, address(i), w(x))).collect();
        let lb = Maglev::new(hosts.clone(), config(size)).unwrap();
        let reversed = Maglev::new(hosts.into_iter().rev(), config(size)).unwrap();
        if !weights.is_empty() {
            // Every host takes a turn in the first round.
            prop_assert!(lb.min_entries_per_host() >= 1);
        }
        for &h in &hashes {
            match lb.pick(h) {
                Some(&i) => prop_assert!(i < weights.len()),
                None => prop_assert!(weights.is_empty()),
            }
            prop_assert_eq!(lb.pick(h), reversed.pick(h));
        }
    }
}
