use crate::support::{MS, OK, UNAVAILABLE, check, grpc_host, http_check, http_host};
use mesh_core::policy::Checker;
use mesh_health::{HealthChecker, HealthSnapshot, ProbeFailure};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::timeout;
use tonic_health::ServingStatus;

const BOUND: Duration = Duration::from_secs(10);

/// Waits (at most `BOUND`) for a snapshot that satisfies `pred` and returns it.
async fn until(
    rx: &mut watch::Receiver<Arc<HealthSnapshot>>,
    what: &str,
    pred: impl FnMut(&Arc<HealthSnapshot>) -> bool,
) -> Arc<HealthSnapshot> {
    let found = match timeout(BOUND, rx.wait_for(pred)).await {
        Ok(Ok(snapshot)) => Some(snapshot.clone()),
        _ => None,
    };
    found.unwrap_or_else(|| panic!("not {what} within {BOUND:?}: {:#?}", rx.borrow()))
}

#[tokio::test]
async fn http_host_goes_down_at_once_on_a_bad_status_and_recovers_after_the_threshold() {
    let (addr, state, _server) = http_host().await;
    let (_hosts, hosts) = watch::channel(vec![addr]);
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![http_check("/healthz", None)], hosts);
    until(&mut rx, "healthy", |s| s.is_healthy(&addr)).await;

    state.set_status(503);
    let snap = until(&mut rx, "unhealthy", |s| !s.is_healthy(&addr)).await;
    let host = snap.get(&addr).unwrap();
    assert_eq!(
        host.checks[0].consecutive_failures, 1,
        "an unexpected status fails the host at once: {host:?}"
    );
    assert_eq!(host.last_failure, Some(ProbeFailure::UnexpectedStatus(503)));

    state.set_status(200);
    let snap = until(&mut rx, "healthy again", |s| s.is_healthy(&addr)).await;
    let host = snap.get(&addr).unwrap();
    assert!(
        host.checks[0].consecutive_successes >= 2,
        "not before healthy_threshold: {host:?}"
    );
    let stats = snap.stats();
    assert_eq!((stats.became_healthy, stats.became_unhealthy), (2, 1));
    assert!(
        stats.failures >= 1 && stats.attempts >= stats.failures + 3,
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_retriable_status_takes_unhealthy_threshold_failures() {
    let (addr, state, _server) = http_host().await;
    let mut check = http_check("/healthz", None);
    check.checker = Checker::Http {
        path: "/healthz".into(),
        host: None,
        expected_statuses: vec![OK],
        retriable_statuses: vec![UNAVAILABLE],
    };
    let (_hosts, hosts) = watch::channel(vec![addr]);
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![check], hosts);
    until(&mut rx, "healthy", |s| s.is_healthy(&addr)).await;

    state.set_status(503);
    let snap = until(&mut rx, "unhealthy", |s| !s.is_healthy(&addr)).await;
    let host = snap.get(&addr).unwrap();
    assert!(
        host.checks[0].consecutive_failures >= 3,
        "not before unhealthy_threshold: {host:?}"
    );
    assert_eq!(host.last_failure, Some(ProbeFailure::RetriableStatus(503)));
}

#[tokio::test]
async fn immediate_fail_header_skips_the_threshold() {
    let (addr, state, _server) = http_host().await;
    let (_hosts, hosts) = watch::channel(vec![addr]);
    let mut check = http_check("/healthz", None);
    check.unhealthy_threshold = 1000;
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![check], hosts);
    until(&mut rx, "healthy", |s| s.is_healthy(&addr)).await;
    state.immediate_fail.store(true, Ordering::SeqCst);
    let snap = until(&mut rx, "failed at once", |s| !s.is_healthy(&addr)).await;
    let host = snap.get(&addr).unwrap();
    assert_eq!(host.last_failure, Some(ProbeFailure::ImmediateFailRequested));
    assert_eq!(snap.stats().became_unhealthy, 1);
    assert!(snap.stats().immediate_failures >= 1);
}

#[tokio::test]
async fn removed_hosts_stop_being_checked() {
    let (a, state_a, _server_a) = http_host().await;
    let (b, state_b, _server_b) = http_host().await;
    let (hosts_tx, hosts) = watch::channel(vec![a, b]);
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![http_check("/healthz", None)], hosts);
    until(&mut rx, "both healthy", |s| s.healthy_count() == 2).await;

    hosts_tx.send_replace(vec![b]);
    let snap = until(&mut rx, "without a", |s| s.get(&a).is_none()).await;
    assert_eq!(snap.healthy_hosts().collect::<Vec<_>>(), [b]);
    tokio::time::sleep(100 * MS).await; // a check already in flight may still land
    let (hits_a, hits_b) = (state_a.hits(), state_b.hits());
    tokio::time::sleep(400 * MS).await; // about 8 intervals
    assert_eq!(state_a.hits(), hits_a, "a is no longer checked");
    assert!(
        state_b.hits() >= hits_b + 3,
        "b still is: {} then {}",
        hits_b,
        state_b.hits()
    );
}

#[tokio::test]
async fn new_hosts_are_unhealthy_until_their_first_pass() {
    let (a, _, _server_a) = http_host().await;
    let (b, state_b, _server_b) = http_host().await;
    state_b.delay_ms.store(300, Ordering::SeqCst);
    let (hosts_tx, hosts) = watch::channel(vec![a]);
    let mut check = http_check("/healthz", None);
    check.healthy_threshold = 5;
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![check], hosts);
    until(&mut rx, "a healthy", |s| s.is_healthy(&a)).await;

    hosts_tx.send_replace(vec![a, b]);
    let snap = until(&mut rx, "b listed", |s| s.get(&b).is_some()).await;
    assert!(
        !snap.is_healthy(&b),
        "listed before its first check completes, unhealthy"
    );
    let snap = until(&mut rx, "b healthy", |s| s.is_healthy(&b)).await;
    let first = &snap.get(&b).unwrap().checks[0];
    assert_eq!(
        first.attempts, 1,
        "the first pass is enough, healthy_threshold 5 or not: {first:?}"
    );
}

#[tokio::test]
async fn grpc_host_follows_its_serving_status() {
    let (addr, reporter, _server) = grpc_host().await;
    let (_hosts, hosts) = watch::channel(vec![addr]);
    let grpc = check(Checker::Grpc {
        service_name: "shop.Cart".into(),
        authority: None,
    });
    reporter
        .set_service_status("shop.Cart", ServingStatus::Serving)
        .await;
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![grpc], hosts);
    until(&mut rx, "healthy", |s| s.is_healthy(&addr)).await;
    reporter
        .set_service_status("shop.Cart", ServingStatus::NotServing)
        .await;
    let snap = until(&mut rx, "unhealthy", |s| !s.is_healthy(&addr)).await;
    assert_eq!(
        snap.get(&addr).unwrap().last_failure,
        Some(ProbeFailure::NotServing(2))
    );
    reporter
        .set_service_status("shop.Cart", ServingStatus::Serving)
        .await;
    until(&mut rx, "healthy again", |s| s.is_healthy(&addr)).await;
}

#[tokio::test]
async fn every_check_must_pass() {
    let (addr, state, _server) = http_host().await;
    let (_hosts, hosts) = watch::channel::<Vec<SocketAddr>>(vec![addr]);
    let tcp = check(Checker::Tcp {
        send: None,
        receive: vec![],
    });
    let (mut rx, _handle) = HealthChecker::spawn("backend", vec![tcp, http_check("/healthz", None)], hosts);
    until(&mut rx, "healthy", |s| s.is_healthy(&addr)).await;
    state.set_status(500);
    let snap = until(&mut rx, "unhealthy", |s| !s.is_healthy(&addr)).await;
    let checks = &snap.get(&addr).unwrap().checks;
    assert!(
        checks[0].healthy && !checks[1].healthy,
        "TCP still passes, HTTP does not: {checks:?}"
    );
}
