//! Consecutive runs: prompt ejection, resets, gateway failures, local origin, enforcement.

use super::*;
use RequestResult::*;
use tokio::time::{Instant, sleep_until};

#[tokio::test(start_paused = true)]
async fn five_5xx_in_a_row_eject_at_once_not_at_the_sweep() {
    let t0 = Instant::now();
    // Envoy's defaults: 10 hosts, so max_ejection_percent (10%) allows one ejection.
    let (recorder, mut rx, _handle) = start(policy("{}"), 10);
    sleep_until(t0 + 1 * S).await;
    record(&recorder, 3, Status(500), 4);
    settle().await;
    assert!(!rx.has_changed().unwrap(), "four are not enough");
    record(&recorder, 3, Status(500), 1);
    rx.changed().await.unwrap();
    assert_eq!(Instant::now(), t0 + 1 * S, "ejected when the run completed");
    let snap = rx.borrow_and_update().clone();
    assert_eq!(snap.ejected().collect::<Vec<_>>(), vec![addr(3)]);
    let host = snap.get(&addr(3)).unwrap();
    assert_eq!(host.ejected_since, Some(t0 + 1 * S));
    assert_eq!(host.ejection_time, 30 * S);
    assert_eq!((host.times_ejected, host.backoff), (1, 1));
    assert_eq!(host.reason, Some(EjectionReason::Consecutive5xx));
    let stats = snap.stats();
    assert_eq!(stats.active, 1);
    assert_eq!(stats.enforced.get(EjectionReason::Consecutive5xx), 1);
    assert_eq!(stats.enforced.total(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_success_ends_the_run() {
    let (recorder, rx, _handle) = start(policy("{}"), 10);
    record(&recorder, 0, Status(500), 4);
    record(&recorder, 0, Status(404), 1);
    record(&recorder, 0, Status(500), 4);
    settle().await;
    assert_eq!(now_snapshot(&rx).stats().detected.total(), 0);
    record(&recorder, 0, Status(500), 1);
    settle().await;
    assert!(now_snapshot(&rx).is_ejected(&addr(0)));
}

#[tokio::test(start_paused = true)]
async fn gateway_failures_eject_only_when_enforced() {
    // consecutive_5xx out of the way, so only the gateway run can fire.
    let (recorder, rx, _handle) = start(policy("{ consecutive_5xx: 1000 }"), 10);
    record(&recorder, 0, Status(503), 5);
    settle().await;
    let snap = now_snapshot(&rx);
    assert!(
        !snap.is_ejected(&addr(0)),
        "enforcing_consecutive_gateway_failure defaults to 0"
    );
    let gateway = EjectionReason::ConsecutiveGatewayFailure;
    assert_eq!(
        (
            snap.stats().detected.get(gateway),
            snap.stats().enforced.get(gateway)
        ),
        (1, 0)
    );

    let enforced = "{ consecutive_5xx: 1000, enforcing_consecutive_gateway_failure: 100 }";
    let (recorder, rx, _handle) = start(policy(enforced), 10);
    // A 500 is a 5xx but not a gateway failure: it ends the gateway run.
    record(&recorder, 0, Status(502), 4);
    record(&recorder, 0, Status(500), 1);
    record(&recorder, 0, Status(504), 4);
    settle().await;
    assert!(!now_snapshot(&rx).is_ejected(&addr(0)));
    record(&recorder, 0, Status(503), 1);
    settle().await;
    let snap = now_snapshot(&rx);
    assert!(snap.is_ejected(&addr(0)));
    assert_eq!(snap.get(&addr(0)).unwrap().reason, Some(gateway));
}

#[tokio::test(start_paused = true)]
async fn without_the_split_local_origin_failures_are_5xx() {
    let (recorder, rx, _handle) = start(policy("{}"), 10);
    for result in [ConnectFailed, Reset, Timeout, ConnectFailed, Reset] {
        recorder.record(addr(0), result).unwrap();
    }
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(
        snap.get(&addr(0)).unwrap().reason,
        Some(EjectionReason::Consecutive5xx)
    );
    // 503, 503, 504, 503, 503 are also a gateway run (detected, not enforced by default).
    assert_eq!(
        snap.stats()
            .detected
            .get(EjectionReason::ConsecutiveGatewayFailure),
        1
    );
    // A TCP connection that worked is a 200: it ends the run.
    record(&recorder, 1, ConnectFailed, 4);
    record(&recorder, 1, Connected, 1);
    record(&recorder, 1, Timeout, 4);
    settle().await;
    assert!(!now_snapshot(&rx).is_ejected(&addr(1)));
}

#[tokio::test(start_paused = true)]
async fn with_the_split_local_origin_failures_have_their_own_run() {
    let split = "{ split_external_local_origin_errors: true, max_ejection_percent: 100 }";
    let (recorder, rx, _handle) = start(policy(split), 4);
    // Local-origin failures neither add to nor break the 5xx run.
    record(&recorder, 0, Status(500), 4);
    record(&recorder, 0, ConnectFailed, 3);
    record(&recorder, 0, Status(500), 1);
    settle().await;
    assert_eq!(
        now_snapshot(&rx).get(&addr(0)).unwrap().reason,
        Some(EjectionReason::Consecutive5xx)
    );
    // Any response or working connection ends the local-origin run...
    record(&recorder, 1, Reset, 4);
    record(&recorder, 1, Status(503), 1);
    record(&recorder, 1, Timeout, 4);
    record(&recorder, 1, Connected, 1);
    record(&recorder, 1, ConnectFailed, 4);
    settle().await;
    assert!(!now_snapshot(&rx).is_ejected(&addr(1)));
    // ...and five in a row eject.
    record(&recorder, 1, Timeout, 1);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(
        snap.get(&addr(1)).unwrap().reason,
        Some(EjectionReason::ConsecutiveLocalOriginFailure)
    );
    assert_eq!(
        snap.stats().detected.get(EjectionReason::Consecutive5xx),
        1,
        "no 5xx from host 1"
    );
}

#[tokio::test(start_paused = true)]
async fn enforcing_0_never_ejects_100_always_does_and_50_about_half() {
    let runs = |recorder: &OutlierRecorder, hosts: usize| {
        for host in 0..hosts {
            record(recorder, host, Status(500), 5);
        }
    };
    let (recorder, rx, _handle) = start(policy("{ enforcing_consecutive_5xx: 0 }"), 10);
    for _ in 0..20 {
        runs(&recorder, 10);
        settle().await;
    }
    let stats = *now_snapshot(&rx).stats();
    assert_eq!(
        stats.detected.get(EjectionReason::Consecutive5xx),
        200,
        "each run is detected"
    );
    assert_eq!((stats.enforced.total(), stats.active), (0, 0));

    let (recorder, rx, _handle) = start(policy("{ max_ejection_percent: 100 }"), 40);
    runs(&recorder, 40);
    settle().await;
    assert_eq!(now_snapshot(&rx).ejected_count(), 40);

    let half = "{ max_ejection_percent: 100, enforcing_consecutive_5xx: 50 }";
    let (recorder, rx, _handle) = start(policy(half), 40);
    runs(&recorder, 40);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(snap.stats().detected.total(), 40);
    assert!(
        (10..=30).contains(&snap.ejected_count()),
        "{} of 40",
        snap.ejected_count()
    );
}

#[tokio::test(start_paused = true)]
async fn the_default_10_percent_ejects_nothing_below_10_hosts() {
    // Envoy since 1.31 (always_eject_one_host off): one more ejection must stay within 10%.
    let (recorder, rx, _handle) = start(policy("{}"), 9);
    record(&recorder, 0, Status(500), 5);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!((snap.max_ejected(), snap.ejected_count()), (0, 0));
    assert_eq!((snap.stats().detected.total(), snap.stats().overflow), (1, 1));

    let (recorder, rx, _handle) = start(policy("{}"), 10);
    record(&recorder, 0, Status(500), 5);
    record(&recorder, 1, Status(500), 5);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(snap.ejected().collect::<Vec<_>>(), vec![addr(0)]);
    assert_eq!((snap.max_ejected(), snap.stats().overflow), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn concurrent_recording_is_consistent() {
    let (_hosts_tx, hosts) = watch::channel(addrs(0..3));
    let detector = OutlierDetector::new("web", policy("{ max_ejection_percent: 100 }"), hosts).with_seed(1);
    let recorder = detector.recorder();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let recorder = recorder.clone();
            scope.spawn(move || {
                for i in 0..10_000 {
                    recorder.record(addr(0), Status(503)).unwrap();
                    let status = if (i + thread) % 4 == 0 { 500 } else { 200 };
                    recorder.record(addr(1), Status(status)).unwrap();
                }
            });
        }
    });
    let windows: Vec<_> = detector
        .members
        .stats()
        .iter()
        .map(|h| h.take_windows().0)
        .collect();
    assert_eq!((windows[0].total, windows[0].successes), (40_000, 0));
    assert_eq!((windows[1].total, windows[1].successes), (40_000, 30_000));
    assert_eq!(windows[2].total, 0);
    // 40,000 503s from four threads: each run passed its threshold exactly once (host 1's
    // 500s may interleave into runs too, but they are not gateway failures).
    let (rx, _handle) = detector.start();
    settle().await;
    let snap = now_snapshot(&rx);
    assert!(snap.is_ejected(&addr(0)));
    assert_eq!(
        snap.get(&addr(0)).unwrap().reason,
        Some(EjectionReason::Consecutive5xx)
    );
    assert_eq!(
        snap.stats()
            .detected
            .get(EjectionReason::ConsecutiveGatewayFailure),
        1
    );
}
