//! The interval sweep: return times, backoff, statistics, and when readers are woken.

use super::*;
use RequestResult::*;
use tokio::time::{Instant, sleep_until};

/// Waits for the next publication; returns when it came and the snapshot.
async fn next(rx: &mut watch::Receiver<Arc<EjectionSnapshot>>) -> (Instant, Arc<EjectionSnapshot>) {
    rx.changed().await.unwrap();
    (Instant::now(), rx.borrow_and_update().clone())
}

#[tokio::test(start_paused = true)]
async fn ejections_last_base_times_ejected_capped_and_end_at_a_sweep() {
    let t0 = Instant::now();
    // interval 10s, base_ejection_time 30s (defaults); cap at 60s.
    let (recorder, mut rx, _handle) =
        start(policy("{ max_ejection_percent: 100, max_ejection_time: 60s }"), 1);
    sleep_until(t0 + 1 * S).await;
    record(&recorder, 0, Status(500), 5);
    let (at, snap) = next(&mut rx).await;
    assert_eq!(
        (at, snap.get(&addr(0)).unwrap().ejection_time),
        (t0 + 1 * S, 30 * S)
    );
    sleep_until(t0 + 35 * S).await;
    assert!(
        now_snapshot(&rx).is_ejected(&addr(0)),
        "30s have passed, but no sweep since"
    );
    let (at, snap) = next(&mut rx).await;
    assert_eq!(at, t0 + 40 * S, "the first sweep after the ejection time");
    let host = snap.get(&addr(0)).unwrap();
    assert!(!host.ejected);
    assert_eq!(host.returned_at, Some(at));
    // Ejected again at once each time: 2 × 30s, then capped at 60s (the backoff stops at 3,
    // where 3 × 30s reaches max + base).
    let mut back = at;
    for (times, backoff, returns) in [(2, 2, 100), (3, 3, 160), (4, 3, 220)] {
        record(&recorder, 0, Status(500), 5);
        let (at, snap) = next(&mut rx).await;
        let host = *snap.get(&addr(0)).unwrap();
        assert_eq!(at, back);
        assert_eq!(
            (host.times_ejected, host.backoff, host.ejection_time),
            (times, backoff, 60 * S)
        );
        let (at, snap) = next(&mut rx).await;
        assert_eq!(at, t0 + returns * S);
        assert!(!snap.is_ejected(&addr(0)));
        back = at;
    }
}

#[tokio::test(start_paused = true)]
async fn the_backoff_decays_while_the_host_stays_back() {
    let t0 = Instant::now();
    let (recorder, mut rx, _handle) = start(policy("{ max_ejection_percent: 100 }"), 1);
    record(&recorder, 0, Status(500), 5);
    assert_eq!(next(&mut rx).await.0, t0);
    assert_eq!(next(&mut rx).await.0, t0 + 30 * S);
    record(&recorder, 0, Status(500), 5);
    let (_, snap) = next(&mut rx).await;
    assert_eq!(snap.get(&addr(0)).unwrap().ejection_time, 60 * S);
    assert_eq!(next(&mut rx).await.0, t0 + 90 * S);
    sleep_until(t0 + 95 * S).await;
    assert_eq!(now_snapshot(&rx).get(&addr(0)).unwrap().backoff, 2);
    // At the sweep at 100s the host has been back for an interval: one step down, silently.
    sleep_until(t0 + 101 * S).await;
    assert!(!rx.has_changed().unwrap());
    assert_eq!(now_snapshot(&rx).get(&addr(0)).unwrap().backoff, 1);
    record(&recorder, 0, Status(500), 5);
    let (_, snap) = next(&mut rx).await;
    let host = snap.get(&addr(0)).unwrap();
    assert_eq!(
        (host.times_ejected, host.backoff, host.ejection_time),
        (3, 2, 60 * S)
    );
}

#[tokio::test(start_paused = true)]
async fn readers_wake_only_when_the_ejected_set_changes() {
    let t0 = Instant::now();
    let (recorder, rx, _handle) = start(policy("{ enforcing_consecutive_5xx: 0 }"), 10);
    record(&recorder, 0, Status(500), 5);
    sleep_until(t0 + 15 * S).await;
    assert!(
        !rx.has_changed().unwrap(),
        "a detection that was not enforced, and a sweep"
    );
    assert_eq!(
        now_snapshot(&rx).stats().detected.total(),
        1,
        "counters are fresh all the same"
    );
}

#[tokio::test(start_paused = true)]
async fn success_rate_ejects_the_outlier_at_the_sweep() {
    let t0 = Instant::now();
    // 5 hosts: 20% lets one be ejected. Runs of 5xx out of the way.
    let (recorder, mut rx, _handle) = start(policy("{ max_ejection_percent: 20, consecutive_5xx: 1000 }"), 5);
    for host in 0..4 {
        traffic(&recorder, host, 100, 0);
    }
    // Envoy's example: {100, 100, 100, 100, 50}: mean 90, stdev 20, threshold 52.
    traffic(&recorder, 4, 50, 50);
    let (at, snap) = next(&mut rx).await;
    assert_eq!(at, t0 + 10 * S);
    assert_eq!(snap.ejected().collect::<Vec<_>>(), vec![addr(4)]);
    assert_eq!(
        snap.get(&addr(4)).unwrap().reason,
        Some(EjectionReason::SuccessRate)
    );
    assert_eq!(snap.stats().detected.total(), 1);
}

#[tokio::test(start_paused = true)]
async fn success_rate_needs_the_volume_and_the_hosts_within_one_interval() {
    let t0 = Instant::now();
    let (recorder, rx, _handle) = start(policy("{ max_ejection_percent: 20, consecutive_5xx: 1000 }"), 5);
    // Record mid-interval only, so that no sweep races the recording.
    // Interval 1: every host just under success_rate_request_volume (100).
    for host in 0..4 {
        traffic(&recorder, host, 99, 0);
    }
    traffic(&recorder, 4, 49, 50);
    sleep_until(t0 + 11 * S).await;
    // Interval 2: host 0 under the volume leaves four hosts, under success_rate_minimum_hosts.
    traffic(&recorder, 0, 99, 0);
    for host in 1..4 {
        traffic(&recorder, host, 100, 0);
    }
    traffic(&recorder, 4, 50, 50);
    // Intervals 3 and 4: 60 requests each; counts do not carry over.
    for start in [21, 31] {
        sleep_until(t0 + start * S).await;
        for host in 0..4 {
            traffic(&recorder, host, 60, 0);
        }
        traffic(&recorder, 4, 30, 30);
    }
    sleep_until(t0 + 41 * S).await;
    let snap = now_snapshot(&rx);
    assert_eq!((snap.ejected_count(), snap.stats().detected.total()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn local_origin_success_rate_with_the_split() {
    let split = "{ max_ejection_percent: 20, split_external_local_origin_errors: true }";
    let (recorder, mut rx, _handle) = start(policy(split), 5);
    for host in 0..4 {
        traffic_of(&recorder, host, (100, Connected), (0, ConnectFailed));
    }
    traffic_of(&recorder, 4, (50, Connected), (50, ConnectFailed));
    let (_, snap) = next(&mut rx).await;
    assert_eq!(snap.ejected().collect::<Vec<_>>(), vec![addr(4)]);
    assert_eq!(
        snap.get(&addr(4)).unwrap().reason,
        Some(EjectionReason::LocalOriginSuccessRate)
    );
}

#[tokio::test(start_paused = true)]
async fn failure_percentage_ejects_only_when_enforced_with_volume_and_hosts() {
    let t0 = Instant::now();
    let base = "max_ejection_percent: 20, consecutive_5xx: 1000";
    let fp = EjectionReason::FailurePercentage;
    // 5 hosts with failure_percentage_request_volume (50); host 2 fails 90% (threshold 85%).
    let traffic_all = |recorder: &OutlierRecorder, volume: usize| {
        for host in [0, 1, 3, 4] {
            traffic(recorder, host, volume, 0);
        }
        traffic(recorder, 2, 5, 45);
    };
    let (recorder, mut rx, _handle) = start(
        policy(&format!("{{ {base}, enforcing_failure_percentage: 100 }}")),
        5,
    );
    traffic_all(&recorder, 50);
    let (at, snap) = next(&mut rx).await;
    assert_eq!(at, t0 + 10 * S);
    assert_eq!(snap.ejected().collect::<Vec<_>>(), vec![addr(2)]);
    assert_eq!(snap.get(&addr(2)).unwrap().reason, Some(fp));

    // Not enforced by default: detected only.
    let (recorder, rx, _handle) = start(policy(&format!("{{ {base} }}")), 5);
    traffic_all(&recorder, 50);
    sleep_until(t0 + 21 * S).await;
    let snap = now_snapshot(&rx);
    assert_eq!((snap.ejected_count(), snap.stats().detected.get(fp)), (0, 1));

    // Host 4 under the volume leaves four hosts: under failure_percentage_minimum_hosts.
    let (recorder, rx, _handle) = start(
        policy(&format!("{{ {base}, enforcing_failure_percentage: 100 }}")),
        5,
    );
    for host in [0, 1, 3] {
        traffic(&recorder, host, 50, 0);
    }
    traffic(&recorder, 4, 49, 0);
    traffic(&recorder, 2, 5, 45);
    sleep_until(Instant::now() + 11 * S).await;
    assert_eq!(now_snapshot(&rx).stats().detected.total(), 0);
}
