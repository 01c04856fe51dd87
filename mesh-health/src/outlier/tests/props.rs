//! Invariants under random traffic and membership changes, driving the loop's own steps
//! (`Members`, `Ejector`) directly: every snapshot the loop publishes is the state after one of
//! these steps, so checking after each step checks every publication.

use super::*;
use proptest::prelude::*;
use tokio::time::Instant;

const RESULTS: [RequestResult; 7] = [
    RequestResult::Status(200),
    RequestResult::Status(500),
    RequestResult::Status(503),
    RequestResult::Connected,
    RequestResult::ConnectFailed,
    RequestResult::Reset,
    RequestResult::Timeout,
];

/// Low thresholds and volumes, every detection enforced, so that ejections are frequent.
fn eager(max_ejection_percent: u32, split: bool) -> OutlierDetection {
    policy(&format!(
        "{{ max_ejection_percent: {max_ejection_percent}, split_external_local_origin_errors: {split},
            consecutive_5xx: 2, consecutive_gateway_failure: 2, consecutive_local_origin_failure: 2,
            enforcing_consecutive_gateway_failure: 100, enforcing_failure_percentage: 100,
            enforcing_failure_percentage_local_origin: 100, failure_percentage_threshold: 30,
            success_rate_request_volume: 4, success_rate_minimum_hosts: 2, success_rate_stdev_factor: 500,
            failure_percentage_request_volume: 4, failure_percentage_minimum_hosts: 2,
            interval: 1s, base_ejection_time: 2s, max_ejection_time: 5s }}"
    ))
}

/// One step: a host number, a result, how many times, then sweep after this much time in 100 ms;
/// first, if the flag is set, the host joins the members (at the end) or leaves them.
type Step = (usize, usize, usize, u8, bool);

/// Replays `steps` over hosts `0..hosts` (all members at first) and checks the invariants after
/// every step; returns the most hosts ever ejected at once.
fn replay(hosts: usize, percent: u32, split: bool, seed: u64, steps: &[Step]) -> usize {
    let universe = addrs(0..hosts);
    let (_hosts_tx, hosts_rx) = watch::channel(universe.clone());
    let OutlierDetector {
        mut members,
        mut ejector,
        snapshot,
        ..
    } = OutlierDetector::new("prop", eager(percent, split), hosts_rx).with_seed(seed);
    let recorder = OutlierRecorder::new(members.shared.clone());
    let mut snap = (**snapshot.borrow()).clone();
    let mut listed = universe.clone();
    let mut shrunk = false;
    let mut now = Instant::now();
    let mut most = 0;
    for &(host, result, repeat, advance, toggle) in steps {
        let host = universe[host % hosts];
        if toggle {
            if let Some(at) = listed.iter().position(|a| *a == host) {
                listed.remove(at);
                shrunk = true;
            } else {
                listed.push(host);
            }
            assert!(members.sync(&listed, &mut snap));
            if listed.contains(&host) {
                assert_eq!(
                    snap.get(&host),
                    Some(&HostEjection::default()),
                    "a new member starts fresh"
                );
            }
            check(&snap, &listed, percent, !shrunk);
        }
        for _ in 0..repeat {
            let recorded = recorder.record(host, RESULTS[result]);
            assert_eq!(
                recorded.is_ok(),
                listed.contains(&host),
                "the recorder knows the members"
            );
        }
        let enforced = snap.stats().enforced.total();
        ejector.detections(members.stats(), &mut snap, now);
        check(
            &snap,
            &listed,
            percent,
            !shrunk || snap.stats().enforced.total() > enforced,
        );
        if advance > 0 {
            let enforced = snap.stats().enforced.total();
            now += Duration::from_millis(100 * u64::from(advance));
            ejector.sweep(members.stats(), &mut snap, now);
            check(
                &snap,
                &listed,
                percent,
                !shrunk || snap.stats().enforced.total() > enforced,
            );
        }
        most = most.max(snap.ejected_count());
    }
    most
}

/// `active` counts the ejected members, the limit follows the member count, and ejections stay
/// within it when `within_limit` (always, until a removal lowers the limit under hosts already
/// out; after that, at least whenever the step ejected someone, since each ejection needs room).
fn check(snap: &EjectionSnapshot, members: &[SocketAddr], percent: u32, within_limit: bool) {
    let ejected = snap.hosts().filter(|(_, h)| h.ejected).count();
    assert_eq!(ejected, snap.stats().active);
    assert!(
        snap.hosts().map(|(addr, _)| addr).eq(members.iter().copied()),
        "member order"
    );
    let limit = members.len() * percent as usize / 100;
    assert_eq!(snap.max_ejected(), limit);
    if within_limit {
        assert!(ejected <= limit, "{ejected} ejected, at most {limit} allowed");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn max_ejection_percent_is_never_exceeded(
        hosts in 1usize..30,
        percent in 0u32..=100,
        split in any::<bool>(),
        seed in any::<u64>(),
        steps in prop::collection::vec(
            (0usize..30, 0usize..RESULTS.len(), 1usize..6, 0u8..15, Just(false)), 1..300),
    ) {
        replay(hosts, percent, split, seed, &steps);
    }

    #[test]
    fn membership_changes_keep_the_books_straight(
        hosts in 1usize..30,
        percent in 0u32..=100,
        split in any::<bool>(),
        seed in any::<u64>(),
        steps in prop::collection::vec(
            (0usize..30, 0usize..RESULTS.len(), 1usize..6, 0u8..15, prop::bool::weighted(0.15)), 1..300),
    ) {
        replay(hosts, percent, split, seed, &steps);
    }
}

#[test]
fn the_random_traffic_does_eject() {
    // A sanity check of the generator's kind of traffic: failures on every host at once.
    let steps: Vec<_> = (0..20).map(|host| (host, 1, 3, 0, false)).collect();
    assert_eq!(replay(20, 50, false, 1, &steps), 10, "fills the limit, no more");
    assert_eq!(replay(20, 100, true, 1, &steps), 20);
}
