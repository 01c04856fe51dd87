//! Membership: hosts joining and leaving while the loop runs, and what each keeps or loses.

use super::*;
use RequestResult::*;
use tokio::time::{Instant, sleep_until};

#[tokio::test(start_paused = true)]
async fn a_host_added_later_is_recorded_and_ejected_after_the_loop_syncs() {
    let (hosts, (recorder, mut rx, _handle)) = start_watching(policy("{}"), addrs(0..10));
    let new = addr(10);
    tx_send(&hosts, addrs(0..11));
    // The loop has not run since the list changed: the new host is not a member yet, and what
    // is recorded for it meanwhile counts for nothing.
    for _ in 0..5 {
        assert_eq!(recorder.record(new, Status(500)), Err(UnknownHost { host: new }));
    }
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!((snap.len(), recorder.hosts(), snap.max_ejected()), (11, 11, 1));
    assert_eq!(snap.get(&new), Some(&HostEjection::default()));
    assert_eq!(
        snap.hosts().last().map(|(addr, _)| addr),
        Some(new),
        "member order"
    );
    record(&recorder, 10, Status(500), 4);
    settle().await;
    assert!(!rx.has_changed().unwrap(), "the refused five did not count");
    record(&recorder, 10, Status(500), 1);
    rx.changed().await.unwrap();
    assert_eq!(rx.borrow().ejected().collect::<Vec<_>>(), vec![new]);
}

#[tokio::test(start_paused = true)]
async fn removing_an_ejected_host_lowers_active_and_frees_room() {
    // 5 hosts at 50%: two may be out at once.
    let (hosts, (recorder, mut rx, _handle)) =
        start_watching(policy("{ max_ejection_percent: 50 }"), addrs(0..5));
    for host in 0..3 {
        record(&recorder, host, Status(500), 5);
    }
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!(snap.ejected().collect::<Vec<_>>(), addrs([0, 1]));
    assert_eq!((snap.stats().active, snap.stats().overflow), (2, 1));
    // Host 0 leaves while ejected: forgotten, no longer active; 4 hosts at 50% still allow two.
    tx_send(&hosts, addrs(1..5));
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!((snap.stats().active, snap.max_ejected(), snap.len()), (1, 2, 4));
    assert_eq!(snap.get(&addr(0)), None);
    assert_eq!(
        recorder.record(addr(0), Status(500)),
        Err(UnknownHost { host: addr(0) })
    );
    // Host 2's next run finds the room.
    record(&recorder, 2, Status(500), 5);
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!(snap.ejected().collect::<Vec<_>>(), addrs([1, 2]));
    assert_eq!(snap.stats().active, 2);
}

#[tokio::test(start_paused = true)]
async fn a_host_that_stays_keeps_its_run_and_window_across_a_membership_change() {
    let t0 = Instant::now();
    let (hosts, (recorder, mut rx, _handle)) =
        start_watching(policy("{ max_ejection_percent: 100 }"), addrs(0..3));
    record(&recorder, 0, Status(500), 4);
    tx_send(&hosts, addrs([0, 1, 5]));
    rx.changed().await.unwrap();
    rx.borrow_and_update();
    record(&recorder, 0, Status(500), 1);
    rx.changed().await.unwrap();
    assert_eq!(Instant::now(), t0, "the fifth 5xx completed the run");
    assert_eq!(rx.borrow().ejected().collect::<Vec<_>>(), addrs([0]));

    // The interval's counts survive too: Envoy's success-rate example, then a host joins
    // mid-interval (with no requests it does not count toward the statistics).
    let outlier = "{ max_ejection_percent: 20, consecutive_5xx: 1000 }";
    let (hosts, (recorder, mut rx, _handle)) = start_watching(policy(outlier), addrs(0..5));
    for host in 0..4 {
        traffic(&recorder, host, 100, 0);
    }
    traffic(&recorder, 4, 50, 50);
    sleep_until(t0 + 5 * S).await;
    tx_send(&hosts, addrs(0..6));
    rx.changed().await.unwrap();
    assert_eq!(rx.borrow_and_update().max_ejected(), 1);
    rx.changed().await.unwrap();
    assert_eq!(Instant::now(), t0 + 10 * S, "the sweep");
    let snap = rx.borrow_and_update().clone();
    assert_eq!(snap.ejected().collect::<Vec<_>>(), addrs([4]));
    assert_eq!(
        snap.get(&addr(4)).unwrap().reason,
        Some(EjectionReason::SuccessRate)
    );
}

#[tokio::test(start_paused = true)]
async fn max_ejected_follows_the_member_count() {
    // The default 10%: nothing below 10 hosts.
    let (hosts, (recorder, mut rx, _handle)) = start_watching(policy("{}"), addrs(0..9));
    record(&recorder, 0, Status(500), 5);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(
        (snap.max_ejected(), snap.ejected_count(), snap.stats().overflow),
        (0, 0, 1)
    );
    tx_send(&hosts, addrs(0..10));
    rx.changed().await.unwrap();
    assert_eq!(rx.borrow_and_update().max_ejected(), 1);
    record(&recorder, 0, Status(500), 5);
    rx.changed().await.unwrap();
    assert!(rx.borrow_and_update().is_ejected(&addr(0)));
    // A repeated address counts once: the same members, no wake-up.
    tx_send(&hosts, addrs((0..10).chain([0, 3])));
    settle().await;
    assert!(!rx.has_changed().unwrap());
    assert_eq!((recorder.hosts(), now_snapshot(&rx).max_ejected()), (10, 1));
    // Down to 8: the limit is 0 again. The host already out stays out; no one else goes.
    tx_send(&hosts, addrs(0..8));
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!((snap.max_ejected(), snap.ejected_count(), snap.len()), (0, 1, 8));
    record(&recorder, 1, Status(500), 5);
    settle().await;
    let snap = now_snapshot(&rx);
    assert_eq!(snap.ejected().collect::<Vec<_>>(), addrs([0]));
    assert_eq!(snap.stats().overflow, 2);
}

#[tokio::test(start_paused = true)]
async fn recording_an_unknown_host_is_refused_and_changes_nothing() {
    let (recorder, rx, _handle) = start(policy("{ max_ejection_percent: 100 }"), 3);
    settle().await;
    let before = now_snapshot(&rx);
    let stranger = addr(7);
    for _ in 0..5 {
        let err = recorder.record(stranger, Status(500)).unwrap_err();
        assert_eq!(err, UnknownHost { host: stranger });
        assert_eq!(err.to_string(), "host 10.0.0.7:80 is not a member of the cluster");
    }
    settle().await;
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*now_snapshot(&rx), *before);
    assert_eq!((recorder.hosts(), before.len()), (3, 3));
    assert_eq!(before.get(&stranger), None);
}

#[tokio::test(start_paused = true)]
async fn a_host_removed_and_added_again_starts_fresh() {
    let (hosts, (recorder, mut rx, _handle)) =
        start_watching(policy("{ max_ejection_percent: 100 }"), addrs(0..3));
    record(&recorder, 1, Status(500), 5);
    record(&recorder, 2, Status(500), 4);
    rx.changed().await.unwrap();
    assert!(rx.borrow_and_update().is_ejected(&addr(1)));
    tx_send(&hosts, addrs([0]));
    rx.changed().await.unwrap();
    assert_eq!(rx.borrow_and_update().stats().active, 0);
    tx_send(&hosts, addrs(0..3));
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!(
        snap.get(&addr(1)),
        Some(&HostEjection::default()),
        "no ejection, no backoff"
    );
    // Host 2's run of four was forgotten: one more 5xx is not a fifth.
    record(&recorder, 2, Status(500), 1);
    settle().await;
    assert!(!rx.has_changed().unwrap());
    record(&recorder, 2, Status(500), 4);
    rx.changed().await.unwrap();
    let snap = rx.borrow_and_update().clone();
    assert_eq!(snap.get(&addr(2)).map(|h| h.times_ejected), Some(1));
}

#[tokio::test(start_paused = true)]
async fn the_last_list_is_kept_when_its_sender_is_dropped() {
    let (hosts, (recorder, mut rx, handle)) =
        start_watching(policy("{ max_ejection_percent: 100 }"), addrs(0..2));
    tx_send(&hosts, addrs(0..3));
    drop(hosts);
    rx.changed().await.unwrap();
    assert_eq!((rx.borrow_and_update().len(), recorder.hosts()), (3, 3));
    record(&recorder, 2, Status(500), 5);
    rx.changed().await.unwrap();
    assert!(rx.borrow_and_update().is_ejected(&addr(2)));
    assert!(!handle.is_finished());
}

fn tx_send(hosts: &watch::Sender<Vec<SocketAddr>>, list: Vec<SocketAddr>) {
    hosts.send(list).unwrap();
}
