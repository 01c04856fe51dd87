//! Invariants under random traffic, driving the loop's own steps (`Ejector`) directly: every
//! snapshot the loop publishes is the state after one of these steps, so checking after each
//! step checks every publication.

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

/// Replays `steps` (host, result, repeat, then sweep after this much time in 100 ms) and checks
/// the limit after every step; returns the most hosts ever ejected at once.
fn replay(hosts: usize, percent: u32, split: bool, seed: u64, steps: &[(usize, usize, usize, u8)]) -> usize {
    let OutlierDetector {
        shared,
        mut ejector,
        snapshot,
        ..
    } = OutlierDetector::new("prop", eager(percent, split), hosts).with_seed(seed);
    let recorder = OutlierRecorder::new(shared.clone());
    let mut snap = (**snapshot.borrow()).clone();
    let limit = hosts * percent as usize / 100;
    let mut now = Instant::now();
    let mut most = 0;
    for &(host, result, repeat, advance) in steps {
        for _ in 0..repeat {
            recorder.record(host % hosts, RESULTS[result]).unwrap();
        }
        ejector.detections(&shared.hosts, &mut snap, now);
        check(&snap, limit);
        if advance > 0 {
            now += Duration::from_millis(100 * u64::from(advance));
            ejector.sweep(&shared.hosts, &mut snap, now);
            check(&snap, limit);
        }
        most = most.max(snap.ejected_count());
    }
    most
}

fn check(snap: &EjectionSnapshot, limit: usize) {
    let ejected = snap.hosts().iter().filter(|h| h.ejected).count();
    assert_eq!(ejected, snap.stats().active);
    assert!(ejected <= limit, "{ejected} ejected, at most {limit} allowed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn max_ejection_percent_is_never_exceeded(
        hosts in 1usize..30,
        percent in 0u32..=100,
        split in any::<bool>(),
        seed in any::<u64>(),
        steps in prop::collection::vec((0usize..30, 0usize..RESULTS.len(), 1usize..6, 0u8..15), 1..300),
    ) {
        replay(hosts, percent, split, seed, &steps);
    }
}

#[test]
fn the_random_traffic_does_eject() {
    // A sanity check of the generator's kind of traffic: failures on every host at once.
    let steps: Vec<_> = (0..20).map(|host| (host, 1, 3, 0)).collect();
    assert_eq!(replay(20, 50, false, 1, &steps), 10, "fills the limit, no more");
    assert_eq!(replay(20, 100, true, 1, &steps), 20);
}
