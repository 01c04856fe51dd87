//! The control loop with a scripted prober under paused time: exact schedules, no IO.

use super::*;
use crate::outcome::{Outcome, ProbeFailure};
use futures_util::future::BoxFuture;
use mesh_core::policy::Checker;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

const MS: Duration = Duration::from_millis(1);
const OK: std::ops::Range<u16> = 200..201;

/// Answers each (host, check path) with the outcome set for it (default Healthy) after `latency`,
/// and logs when each probe started.
#[derive(Debug, Default)]
struct Script {
    outcomes: Mutex<HashMap<(SocketAddr, String), Outcome>>,
    log: Mutex<Vec<(SocketAddr, String, Instant)>>,
    latency: Duration,
}

impl Script {
    fn set(&self, addr: SocketAddr, path: &str, outcome: Outcome) {
        self.outcomes.lock().unwrap().insert((addr, path.into()), outcome);
    }

    /// Milliseconds after `t0` at which `addr` was probed.
    fn probes(&self, addr: SocketAddr, t0: Instant) -> Vec<u128> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(a, ..)| *a == addr)
            .map(|(.., at)| (*at - t0).as_millis())
            .collect()
    }
}

impl Prober for Script {
    fn probe<'a>(&'a self, check: &'a HealthCheck, _: &'a str, addr: SocketAddr) -> BoxFuture<'a, Outcome> {
        let Checker::Http { path, .. } = &check.checker else {
            unreachable!()
        };
        self.log
            .lock()
            .unwrap()
            .push((addr, path.clone(), Instant::now()));
        let key = (addr, path.clone());
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            self.outcomes
                .lock()
                .unwrap()
                .get(&key)
                .cloned()
                .unwrap_or(Outcome::Healthy)
        })
    }
}

fn check(path: &str) -> HealthCheck {
    HealthCheck {
        timeout: 100 * MS,
        interval: 1000 * MS,
        interval_jitter: Duration::ZERO,
        interval_jitter_percent: 0,
        unhealthy_interval: 300 * MS,
        no_traffic_interval: 60_000 * MS,
        unhealthy_threshold: 2,
        healthy_threshold: 2,
        checker: Checker::Http {
            path: path.into(),
            host: None,
            expected_statuses: vec![OK],
            retriable_statuses: vec![],
        },
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A failure that counts toward `unhealthy_threshold` (a retriable status).
fn fail() -> Outcome {
    Outcome::Unhealthy(ProbeFailure::RetriableStatus(503))
}

type Started = (
    Arc<Script>,
    watch::Sender<Vec<SocketAddr>>,
    watch::Receiver<Arc<HealthSnapshot>>,
    HealthCheckerHandle,
);

fn start(checks: Vec<HealthCheck>, hosts: Vec<SocketAddr>, latency: Duration) -> Started {
    let script = Arc::new(Script {
        latency,
        ..Script::default()
    });
    let (hosts_tx, hosts_rx) = watch::channel(hosts);
    let (rx, handle) = HealthChecker::new("backend", checks, hosts_rx)
        .with_seed(1)
        .with_prober(script.clone())
        .start();
    (script, hosts_tx, rx, handle)
}

#[tokio::test(start_paused = true)]
async fn schedule_follows_state_with_exact_intervals() {
    let (a, t0) = (addr(1), Instant::now());
    let (script, _hosts, rx, _handle) = start(vec![check("/a")], vec![a], Duration::ZERO);
    sleep_until(t0 + 2500 * MS).await;
    assert!(rx.borrow().is_healthy(&a));
    script.set(a, "/a", fail());
    sleep_until(t0 + 4100 * MS).await;
    let snap = rx.borrow().clone();
    assert!(!snap.is_healthy(&a), "two failures in a row");
    assert_eq!(snap.get(&a).unwrap().since, t0 + 4000 * MS);
    assert_eq!(
        snap.get(&a).unwrap().last_failure,
        Some(ProbeFailure::RetriableStatus(503))
    );
    script.set(a, "/a", Outcome::Healthy);
    sleep_until(t0 + 6000 * MS).await;
    // 1s apart while healthy, 300ms while unhealthy, back to 1s after two passes.
    assert_eq!(
        script.probes(a, t0),
        [0, 1000, 2000, 3000, 4000, 4300, 4600, 5600]
    );
    let snap = rx.borrow().clone();
    assert!(snap.is_healthy(&a));
    assert_eq!(snap.get(&a).unwrap().since, t0 + 4600 * MS);
    let stats = *snap.stats();
    assert_eq!((stats.attempts, stats.successes, stats.failures), (8, 6, 2));
    assert_eq!((stats.became_healthy, stats.became_unhealthy), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn no_traffic_interval_until_traffic() {
    let (a, t0) = (addr(1), Instant::now());
    let traffic = Arc::new(AtomicBool::new(false));
    let script = Arc::new(Script::default());
    let (_hosts, hosts_rx) = watch::channel(vec![a]);
    let checker = HealthChecker::new("backend", vec![check("/a")], hosts_rx)
        .with_traffic_signal(traffic.clone())
        .with_prober(script.clone());
    let (_rx, _handle) = checker.start();
    sleep_until(t0 + 130_000 * MS).await;
    traffic.store(true, Ordering::Relaxed);
    sleep_until(t0 + 182_500 * MS).await;
    // The 120s check's 60s wait is not cut short; after it, the healthy interval applies.
    assert_eq!(
        script.probes(a, t0),
        [0, 60_000, 120_000, 180_000, 181_000, 182_000]
    );
}

#[tokio::test(start_paused = true)]
async fn membership_follows_the_host_list() {
    let (a, b, t0) = (addr(1), addr(2), Instant::now());
    let (script, hosts, mut rx, _handle) = start(vec![check("/a")], vec![a], 10 * MS);
    assert!(
        !rx.borrow().is_healthy(&a),
        "listed at once, unhealthy before the first check"
    );
    assert_eq!(rx.borrow().len(), 1);
    sleep_until(t0 + 1500 * MS).await;
    hosts.send_replace(vec![a, b]);
    let snap = rx.wait_for(|s| s.get(&b).is_some()).await.unwrap().clone();
    assert!(
        !snap.is_healthy(&b),
        "a new host is unhealthy until its first pass"
    );
    let snap = rx.wait_for(|s| s.is_healthy(&b)).await.unwrap().clone();
    assert_eq!(snap.get(&b).unwrap().since, t0 + 1510 * MS);
    hosts.send_replace(vec![b]);
    let snap = rx.wait_for(|s| s.get(&a).is_none()).await.unwrap().clone();
    assert_eq!(snap.len(), 1);
    let probes_of_a = script.probes(a, t0);
    sleep_until(t0 + 5000 * MS).await;
    assert_eq!(
        script.probes(a, t0),
        probes_of_a,
        "a removed host is no longer checked"
    );
    assert_eq!(probes_of_a, [0, 1010]);
    // Back again: a fresh state machine, unhealthy until its first pass.
    hosts.send_replace(vec![a, b]);
    let snap = rx.wait_for(|s| s.get(&a).is_some()).await.unwrap().clone();
    assert!(!snap.is_healthy(&a));
    rx.wait_for(|s| s.is_healthy(&a)).await.unwrap();
    assert_eq!(script.probes(a, t0), [0, 1010, 5000]);
}

#[tokio::test(start_paused = true)]
async fn all_checks_must_pass() {
    let (a, t0) = (addr(1), Instant::now());
    let (script, _hosts, mut rx, _handle) = start(vec![check("/a"), check("/b")], vec![a], Duration::ZERO);
    script.set(a, "/b", Outcome::Unhealthy(ProbeFailure::ConnectionClosed));
    sleep_until(t0 + 100 * MS).await;
    let snap = rx.borrow_and_update().clone();
    let host = snap.get(&a).unwrap();
    assert!(!host.healthy);
    assert!(host.checks[0].healthy && !host.checks[1].healthy);
    assert_eq!(host.checks[1].consecutive_failures, 1);
    assert_eq!(host.last_failure, Some(ProbeFailure::ConnectionClosed));
    script.set(a, "/b", Outcome::Healthy);
    rx.wait_for(|s| s.is_healthy(&a)).await.unwrap();
    // Failed first check: two passes 300ms apart are needed.
    assert_eq!(Instant::now() - t0, 600 * MS);
}

#[tokio::test(start_paused = true)]
async fn immediate_failure_and_counters() {
    let (a, t0) = (addr(1), Instant::now());
    let (script, _hosts, mut rx, _handle) = start(vec![check("/a")], vec![a], Duration::ZERO);
    rx.wait_for(|s| s.is_healthy(&a)).await.unwrap();
    script.set(a, "/a", Outcome::ImmediateFailure);
    rx.wait_for(|s| !s.is_healthy(&a)).await.unwrap();
    assert_eq!(
        Instant::now() - t0,
        1000 * MS,
        "the first immediate failure is enough"
    );
    let snap = rx.borrow().clone();
    assert_eq!(snap.stats().immediate_failures, 1);
    assert_eq!(snap.get(&a).unwrap().checks[0].attempts, 2);
    assert_eq!(
        snap.get(&a).unwrap().last_failure,
        Some(ProbeFailure::ImmediateFailRequested)
    );
}

#[tokio::test(start_paused = true)]
async fn without_checks_every_host_is_healthy() {
    let (script, hosts, mut rx, _handle) = start(vec![], vec![addr(1)], Duration::ZERO);
    assert!(rx.borrow().is_healthy(&addr(1)));
    hosts.send_replace(vec![addr(1), addr(2)]);
    let snap = rx.wait_for(|s| s.len() == 2).await.unwrap().clone();
    assert_eq!(snap.healthy_hosts().collect::<Vec<_>>(), [addr(1), addr(2)]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(script.log.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_stops_every_task() {
    let t0 = Instant::now();
    let (script, _hosts, _rx, handle) = start(vec![check("/a")], vec![addr(1), addr(2)], Duration::ZERO);
    sleep_until(t0 + 1500 * MS).await;
    drop(handle);
    sleep_until(t0 + 10_000 * MS).await;
    assert_eq!(
        script.log.lock().unwrap().len(),
        4,
        "two checks each, none after the drop"
    );
}

#[tokio::test(start_paused = true)]
async fn stops_when_no_one_reads() {
    let (script, hosts, rx, handle) = start(vec![check("/a")], vec![addr(1)], Duration::ZERO);
    drop(rx);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(handle.is_finished());
    assert!(script.log.lock().unwrap().len() <= 1);
    // The host list's sender outliving the loop is harmless.
    hosts.send_replace(vec![]);
}

#[tokio::test(start_paused = true)]
async fn keeps_checking_when_the_host_list_closes() {
    let t0 = Instant::now();
    let (script, hosts, rx, _handle) = start(vec![check("/a")], vec![addr(1)], Duration::ZERO);
    drop(hosts);
    sleep_until(t0 + 2500 * MS).await;
    assert_eq!(script.probes(addr(1), t0), [0, 1000, 2000]);
    assert!(rx.borrow().is_healthy(&addr(1)));
}
