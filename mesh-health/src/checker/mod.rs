//! Active health checking of one cluster: [`HealthChecker`], a background control loop that
//! checks every member host and publishes a [`HealthSnapshot`] through a `watch` channel.
//!
//! Policy (Envoy's active health checking):
//! - Membership follows a `watch::Receiver<Vec<SocketAddr>>` of the cluster's hosts: a host that
//!   appears gets its own check task at once and enters the snapshot **unhealthy** until its
//!   first check passes; a host that disappears has its task aborted and leaves the snapshot.
//!   When the host list's sender is dropped, the last list is kept and checked.
//! - Each task runs every configured check on its own schedule and state machine
//!   ([`HostHealth`](crate::HostHealth): thresholds, first-pass shortcut, immediate failure;
//!   `interval` / `unhealthy_interval` / `no_traffic_interval` plus jitter).
//! - With several checks a host is healthy only while all of them pass (Envoy itself accepts one
//!   check per cluster). With none, every host is healthy, as Envoy without health checks.
//! - `no_traffic_interval` applies while the traffic signal ([`with_traffic_signal`]) is false;
//!   the default signal is always true. A host already sleeping out `no_traffic_interval` keeps
//!   sleeping when traffic starts, as in Envoy.
//!
//! [`with_traffic_signal`]: HealthChecker::with_traffic_signal
//!
//! States: `Watching` (following the host list), `Fixed` (its sender dropped: the last list is
//! checked) and `Stopped` (every snapshot receiver dropped: the loop returns); one
//! `tracing::debug!` per change, and per host addition, removal and health transition. Dropping
//! the [`HealthCheckerHandle`] aborts the loop and, with it, every host task.
//!
//! Defaults: the traffic signal reads "has traffic" (so `no_traffic_interval` is unused until the
//! proxy wires a signal); jitter is seeded from the OS ([`with_seed`](HealthChecker::with_seed)
//! fixes it); the check's own defaults come from `mesh_core::policy::HealthCheck`.
//!
//! Publication: one writer (this loop) folds the host tasks' reports into the snapshot, in
//! batches, and publishes `Arc<HealthSnapshot>`. Receivers are woken (`changed()`) only when a
//! host joins, leaves or changes health; counters are updated in place without a wake-up, so a
//! balancer rebuilds only on real changes while an admin page still reads fresh counters. The
//! cost: a batch copies the snapshot (O(hosts)) when a reader still holds the previous `Arc`.
//! `watch::Receiver::borrow` takes a brief read lock; the request path should clone the `Arc`
//! once per change and read that.
//!
//! Failure: probes cannot fail the loop (they turn into unhealthy outcomes); nothing here panics.
//! Placement: one per cluster with `health_checks`, started by the proxy beside discovery; the
//! balancer builds its snapshot from the hosts that are healthy here.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mesh_core::policy::{Checker, HealthCheck};
//! use mesh_health::HealthChecker;
//! use std::time::Duration;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let check = HealthCheck {
//!     timeout: Duration::from_secs(1),
//!     interval: Duration::from_millis(100),
//!     interval_jitter: Duration::ZERO,
//!     interval_jitter_percent: 0,
//!     unhealthy_interval: Duration::from_millis(100),
//!     no_traffic_interval: Duration::from_secs(60),
//!     unhealthy_threshold: 2,
//!     healthy_threshold: 2,
//!     checker: Checker::Tcp { send: None, receive: vec![] },
//! };
//! let (_hosts_tx, hosts) = tokio::sync::watch::channel(vec![addr]);
//! let (mut health, _handle) = HealthChecker::spawn("backend", vec![check], hosts);
//! assert!(!health.borrow().is_healthy(&addr), "unhealthy until the first check passes");
//! let wait = health.wait_for(|snapshot| snapshot.is_healthy(&addr));
//! tokio::time::timeout(Duration::from_secs(5), wait).await??;
//! # Ok(())
//! # }
//! ```

mod host_task;
mod members;
#[cfg(test)]
mod tests;

use crate::snapshot::HealthSnapshot;
use host_task::{Network, Prober};
use members::Members;
use mesh_core::policy::HealthCheck;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::{mpsc, watch};

/// Reports drained per snapshot update.
const BATCH: usize = 256;

/// The health-checking control loop of one cluster; see the [module docs](self).
#[derive(Debug)]
pub struct HealthChecker {
    cluster: Arc<str>,
    checks: Arc<[HealthCheck]>,
    hosts: watch::Receiver<Vec<SocketAddr>>,
    has_traffic: Arc<AtomicBool>,
    rng: SmallRng,
    prober: Arc<dyn Prober>,
    snapshot: watch::Sender<Arc<HealthSnapshot>>,
}

/// Stops the [`HealthChecker`] and every host check task when dropped.
pub type HealthCheckerHandle = crate::handle::LoopHandle;

/// Named states of the cluster loop, for its debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopState {
    /// Following changes of the host list.
    Watching,
    /// The host list's sender is gone: checking the last list.
    Fixed,
}

/// An RNG seeded by the OS; should the OS refuse, by the clock (jitter needs spread, not secrecy).
pub(crate) fn os_seeded() -> SmallRng {
    SmallRng::try_from_os_rng().unwrap_or_else(|_| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        SmallRng::seed_from_u64(now.map_or(0, |d| d.as_nanos() as u64))
    })
}

impl HealthChecker {
    /// A checker for `cluster` (the default `Host` / `:authority` of its checks) running `checks`
    /// against the hosts listed in `hosts`. Hosts already listed are in the snapshot at once,
    /// unhealthy (healthy when `checks` is empty). Nothing runs until [`run`](Self::run) or
    /// [`start`](Self::start).
    pub fn new(
        cluster: impl Into<Arc<str>>,
        checks: Vec<HealthCheck>,
        hosts: watch::Receiver<Vec<SocketAddr>>,
    ) -> Self {
        let now = tokio::time::Instant::now();
        let mut initial = HealthSnapshot::default();
        for addr in hosts.borrow().iter() {
            let status = crate::snapshot::HostStatus::new(checks.len(), now);
            initial.hosts.insert(*addr, status);
        }
        Self {
            cluster: cluster.into(),
            checks: checks.into(),
            hosts,
            has_traffic: Arc::new(AtomicBool::new(true)),
            rng: os_seeded(),
            prober: Arc::new(Network),
            snapshot: watch::Sender::new(Arc::new(initial)),
        }
    }

    /// [`new`](Self::new) then [`start`](Self::start). Must be called within a Tokio runtime.
    pub fn spawn(
        cluster: impl Into<Arc<str>>,
        checks: Vec<HealthCheck>,
        hosts: watch::Receiver<Vec<SocketAddr>>,
    ) -> (watch::Receiver<Arc<HealthSnapshot>>, HealthCheckerHandle) {
        Self::new(cluster, checks, hosts).start()
    }

    /// Uses `no_traffic_interval` while `has_traffic` is false (e.g. set by the proxy on the
    /// cluster's first upstream connection, as Envoy checks `upstream_cx_total`).
    pub fn with_traffic_signal(mut self, has_traffic: Arc<AtomicBool>) -> Self {
        self.has_traffic = has_traffic;
        self
    }

    /// Seeds the jitter of every check (default: from the OS), for reproducible schedules.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = SmallRng::seed_from_u64(seed);
        self
    }

    #[cfg(test)]
    fn with_prober(mut self, prober: Arc<dyn Prober>) -> Self {
        self.prober = prober;
        self
    }

    /// A receiver of the published snapshots. Take one before [`run`](Self::run).
    pub fn subscribe(&self) -> watch::Receiver<Arc<HealthSnapshot>> {
        self.snapshot.subscribe()
    }

    /// Spawns [`run`](Self::run) and returns a snapshot receiver and the handle that stops it.
    /// Must be called within a Tokio runtime.
    pub fn start(self) -> (watch::Receiver<Arc<HealthSnapshot>>, HealthCheckerHandle) {
        let snapshots = self.subscribe();
        let task = tokio::spawn(self.run());
        (snapshots, HealthCheckerHandle::new(task))
    }

    /// The control loop: checks the member hosts until every snapshot receiver is dropped (so
    /// it returns at once if none was taken); dropping the future stops every host task.
    pub async fn run(self) {
        let Self {
            cluster,
            checks,
            mut hosts,
            has_traffic,
            rng,
            prober,
            snapshot,
        } = self;
        let (reports_tx, mut reports) = mpsc::channel(BATCH);
        let mut members = Members::new(cluster.clone(), checks, prober, has_traffic, rng, reports_tx);
        let mut state = LoopState::Watching;
        let initial = hosts.borrow_and_update().clone();
        snapshot.send_if_modified(|snap| members.sync(&initial, Arc::make_mut(snap)));
        tracing::debug!(%cluster, hosts = initial.len(), ?state, "health checker started");
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                () = snapshot.closed() => break,
                changed = hosts.changed(), if state == LoopState::Watching => match changed {
                    Ok(()) => {
                        let wanted = hosts.borrow_and_update().clone();
                        snapshot.send_if_modified(|snap| members.sync(&wanted, Arc::make_mut(snap)));
                    }
                    Err(_) => {
                        state = LoopState::Fixed;
                        tracing::debug!(%cluster, ?state, "host list closed: keeping the last one");
                    }
                },
                received = reports.recv_many(&mut batch, BATCH) => {
                    if received == 0 {
                        break;
                    }
                    snapshot.send_if_modified(|snap| {
                        let snap = Arc::make_mut(snap);
                        batch.drain(..).fold(false, |changed, report| members.apply(report, snap) | changed)
                    });
                }
                Some(_) = members.tasks.join_next() => {}
            }
        }
        tracing::debug!(%cluster, "health checker stopped: no snapshot receivers left");
    }
}
