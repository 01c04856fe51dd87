use crate::support::{MS, OK, UNAVAILABLE, closed_port, http_check, http_host, silent_host};
use mesh_core::policy::Checker;
use mesh_health::{Outcome, ProbeFailure, probe};
use std::sync::atomic::Ordering;

#[tokio::test]
async fn healthy_iff_the_status_is_expected() {
    let (addr, state, _server) = http_host().await;
    let check = http_check("/healthz", None);
    assert_eq!(probe(&check, "backend", addr).await, Outcome::Healthy);
    state.set_status(503);
    assert_eq!(
        probe(&check, "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::UnexpectedStatus(503))
    );
    let wrong_path = http_check("/nope", None);
    assert_eq!(
        probe(&wrong_path, "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::UnexpectedStatus(404))
    );
    let mut ranges = http_check("/healthz", None);
    ranges.checker = Checker::Http {
        path: "/healthz".into(),
        host: None,
        expected_statuses: vec![200..300, 503..504],
        retriable_statuses: vec![],
    };
    assert_eq!(
        probe(&ranges, "backend", addr).await,
        Outcome::Healthy,
        "503 listed as healthy"
    );
    let mut retriable = http_check("/healthz", None);
    retriable.checker = Checker::Http {
        path: "/healthz".into(),
        host: None,
        expected_statuses: vec![OK],
        retriable_statuses: vec![UNAVAILABLE],
    };
    assert_eq!(
        probe(&retriable, "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::RetriableStatus(503))
    );
    assert!(!ProbeFailure::RetriableStatus(503).fails_at_once());
    assert!(ProbeFailure::UnexpectedStatus(503).fails_at_once());
    assert_eq!(state.hits(), 5, "one request per check");
}

#[tokio::test]
async fn host_header_is_the_configured_host_or_the_cluster() {
    let (addr, state, _server) = http_host().await;
    probe(&http_check("/healthz", None), "backend", addr).await;
    assert_eq!(state.last_host.lock().unwrap().as_deref(), Some("backend"));
    probe(&http_check("/healthz", Some("svc.internal")), "backend", addr).await;
    assert_eq!(state.last_host.lock().unwrap().as_deref(), Some("svc.internal"));
}

#[tokio::test]
async fn immediate_fail_header_whatever_the_status() {
    let (addr, state, _server) = http_host().await;
    state.immediate_fail.store(true, Ordering::SeqCst);
    let check = http_check("/healthz", None);
    assert_eq!(probe(&check, "backend", addr).await, Outcome::ImmediateFailure);
    state.set_status(503);
    assert_eq!(probe(&check, "backend", addr).await, Outcome::ImmediateFailure);
}

#[tokio::test]
async fn slow_and_absent_hosts_fail() {
    let (addr, state, _server) = http_host().await;
    state.delay_ms.store(2000, Ordering::SeqCst);
    let check = http_check("/healthz", None); // 500ms timeout
    let started = tokio::time::Instant::now();
    assert_eq!(
        probe(&check, "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::Timeout(500 * MS))
    );
    assert!(started.elapsed() < 1500 * MS);

    let (silent, _server) = silent_host().await;
    assert_eq!(
        probe(&check, "backend", silent).await,
        Outcome::Unhealthy(ProbeFailure::Timeout(500 * MS))
    );

    let outcome = probe(&check, "backend", closed_port().await).await;
    assert!(
        matches!(outcome, Outcome::Unhealthy(ProbeFailure::Connect(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_bad_host_value_is_reported_not_sent() {
    let (addr, state, _server) = http_host().await;
    let outcome = probe(&http_check("/healthz", Some("bad\nhost")), "backend", addr).await;
    assert!(
        matches!(outcome, Outcome::Unhealthy(ProbeFailure::InvalidRequest(_))),
        "{outcome:?}"
    );
    assert_eq!(state.hits(), 0);
}
