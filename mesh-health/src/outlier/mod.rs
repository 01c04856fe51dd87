//! Outlier detection (passive health checking) of one cluster: [`OutlierDetector`], a background
//! control loop fed by an [`OutlierRecorder`] on the request path, that publishes an
//! [`EjectionSnapshot`] through a `watch` channel.
//!
//! ```text
//!               an outlier is found, max_ejection_percent allows one more,
//!               and the detection's enforcing_* draw says yes
//!   ┌─────────┐ ─────────────────────────────────────────────────▶ ┌─────────┐
//!   │ Serving │                                                     │ Ejected │
//!   └─────────┘ ◀───────────────────────────────────────────────── └─────────┘
//!     (start)   the first sweep at least min(base_ejection_time × backoff,
//!               max_ejection_time) after the ejection; every run starts over
//! ```
//!
//! Policy (Envoy's outlier detection, `mesh_core::policy::OutlierDetection`):
//! - **Membership** follows a `watch::Receiver<Vec<SocketAddr>>` of the cluster's hosts, as in
//!   [`HealthChecker`](crate::HealthChecker); hosts are named by address. Hosts listed when the
//!   detector is made are members at once, none ejected. On each change the loop syncs: a new
//!   host starts fresh (Envoy makes a new `Host`); a host that stays keeps all its state (runs,
//!   windows, ejection, backoff); a removed host is forgotten, and if ejected no longer counts as
//!   active, as in Envoy. So a host removed and added again starts fresh (unless the loop never
//!   saw a list without it). A repeated address counts once; member order (first appearance in
//!   the list) is the order used below. When the list's sender is dropped, the last list is kept.
//! - **Recording** ([`OutlierRecorder::record`]): lock-free, per host, see [`RequestResult`]. In
//!   the brief window between a host's appearance in the list and the loop's sync (the loop's
//!   next wake-up), recording it returns [`UnknownHost`] and counts nothing; so does recording a
//!   host the loop has removed.
//!   Without `split_external_local_origin_errors`, connect failures and resets count as 503 and
//!   timeouts as 504; with it, they count toward `consecutive_local_origin_failure` and the
//!   local-origin statistics instead, and any response or connection success ends that run.
//! - **Consecutive runs**: `consecutive_5xx`, `consecutive_gateway_failure` (502/503/504) and
//!   `consecutive_local_origin_failure` results in a row make the host an outlier at once: the
//!   recorder wakes the loop, which does not wait for the sweep.
//! - **Every `interval`** (the first one `interval` after start) the loop returns hosts whose
//!   ejection time has passed, then runs success-rate and failure-percentage detection over the
//!   interval's requests (see `detect.rs`: volume and host minimums, `mean − factor × stdev`,
//!   `failure_percentage_threshold`), then starts the next interval's counts.
//! - **Ejection**: an outlier is counted as detected; it is ejected only while fewer than
//!   `max_ejection_percent` of the current members, rounded down, are ejected, and then only with
//!   probability `enforcing_*` of its detection (an injectable RNG; 0% never, 100% always).
//!   The strict limit is Envoy's since 1.31 (`always_eject_one_host` off): with the default 10%,
//!   a cluster of fewer than 10 hosts ejects nothing. Set `max_ejection_percent` accordingly.
//!   Hosts already ejected stay out when membership shrinks the limit below them.
//! - **Ejection time** is `min(base_ejection_time × backoff, max_ejection_time)`. The backoff
//!   grows by one per ejection (while `base × backoff < max + base`) and, as in Envoy, shrinks
//!   by one at each sweep at which the host has been back for at least an `interval`; so a host
//!   ejected again soon after returning stays out for `base × times ejected`, up to the cap.
//!
//! Defaults: the policy's own (Envoy's); the `enforcing_*` draws are seeded from the OS
//! ([`with_seed`](OutlierDetector::with_seed) or [`with_rng`](OutlierDetector::with_rng) fix them).
//!
//! Publication: one writer (this loop) publishes `Arc<EjectionSnapshot>`; receivers are woken
//! (`changed()`) only when a host is ejected or returns, or the member list changes; counters and
//! backoffs change in place.
//! States: `Watching` (following the host list), `Fixed` (its sender dropped: the last list is
//! kept), then `Stopped` once every snapshot receiver is dropped (or the [`OutlierDetectorHandle`]
//! is); one `tracing::debug!` per state change, host addition and removal, ejection, return and
//! ignored outlier.
//!
//! Failure: recording fails only for a host that is not a member ([`UnknownHost`], nothing
//! counted); the loop cannot fail; once it has stopped, recording still counts for the last
//! members but nothing is ejected. Nothing here panics.
//!
//! Placement: one per cluster with `outlier_detection`, started by the proxy beside the
//! [`HealthChecker`](crate::HealthChecker); the router records each upstream attempt's result
//! for the host the balancer picked; the balancer (or a filter on its `Discover` stream) leaves
//! out the hosts ejected here.
//!
//! Deviations from Envoy:
//! - A request is recorded once, with its final result. With the split, Envoy's router also
//!   reports a connection success before a timeout or reset on an established connection, which
//!   ends the local-origin run; here timeouts and resets in a row do make a run.
//! - A host found by both success rate and failure percentage in one sweep is ejected once
//!   (Envoy would eject it twice); statistical outliers are taken in member order (Envoy: hash
//!   order), which matters only when `max_ejection_percent` cuts the list short.
//! - No `max_ejection_time_jitter`, `successful_active_health_check_uneject_host`,
//!   `always_eject_one_host`, runtime overrides or event log (the policy has none of them).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mesh_health::{EjectionReason, OutlierDetector, RequestResult};
//! use std::net::SocketAddr;
//!
//! let yaml = r#"
//! clusters:
//!   - name: web
//!     endpoints: [ { address: "10.0.0.1:80" }, { address: "10.0.0.2:80" } ]
//!     outlier_detection: { max_ejection_percent: 50 }
//! "#;
//! let bootstrap = mesh_core::load::from_yaml(yaml, "mesh.yaml")?;
//! let web = &bootstrap.clusters[0];
//! let policy = web.outlier_detection.clone().ok_or("no outlier_detection")?;
//! let (addr1, addr2): (SocketAddr, SocketAddr) = ("10.0.0.1:80".parse()?, "10.0.0.2:80".parse()?);
//! let (hosts_tx, hosts) = tokio::sync::watch::channel(vec![addr1, addr2]);
//! let (recorder, mut ejections, _handle) = OutlierDetector::spawn(web.name.as_str(), policy, hosts);
//! for _ in 0..5 {
//!     recorder.record(addr2, RequestResult::Status(500))?;
//! }
//! ejections.changed().await?; // at once, not at the next 10 s sweep
//! let snapshot = ejections.borrow_and_update().clone();
//! assert!(snapshot.is_ejected(&addr2) && !snapshot.is_ejected(&addr1));
//! assert_eq!(snapshot.stats().enforced.get(EjectionReason::Consecutive5xx), 1);
//!
//! // Discovery removes the ejected host: it is forgotten, and recording it is refused.
//! hosts_tx.send(vec![addr1])?;
//! ejections.changed().await?;
//! assert_eq!(ejections.borrow().stats().active, 0);
//! assert!(recorder.record(addr2, RequestResult::Status(200)).is_err());
//! # Ok(())
//! # }
//! ```

mod detect;
mod eject;
mod members;
mod record;
mod snapshot;
#[cfg(test)]
mod tests;

pub use record::{OutlierRecorder, RequestResult, UnknownHost};
pub use snapshot::{EjectionReason, EjectionSnapshot, EjectionStats, HostEjection, ReasonCounts};

use eject::Ejector;
use members::Members;
use mesh_core::policy::OutlierDetection;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use record::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

/// The outlier-detection control loop of one cluster; see the [module docs](self).
#[derive(Debug)]
pub struct OutlierDetector {
    cluster: Arc<str>,
    hosts: watch::Receiver<Vec<SocketAddr>>,
    members: Members,
    wake: mpsc::Receiver<()>,
    ejector: Ejector,
    snapshot: watch::Sender<Arc<EjectionSnapshot>>,
}

/// Stops the [`OutlierDetector`] loop when dropped.
pub type OutlierDetectorHandle = crate::handle::LoopHandle;

/// Named states of the loop, for its debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopState {
    /// Following changes of the host list.
    Watching,
    /// The host list's sender is gone: the last list is kept.
    Fixed,
    /// Every snapshot receiver is gone: the loop returns.
    Stopped,
}

impl OutlierDetector {
    /// A detector for `cluster` following the hosts listed in `hosts`. Hosts already listed are
    /// members at once (they can be recorded, and are in the snapshot), none ejected. Nothing is
    /// ejected, and later changes of the list are not followed, until [`run`](Self::run) or
    /// [`start`](Self::start).
    pub fn new(
        cluster: impl Into<Arc<str>>,
        policy: OutlierDetection,
        hosts: watch::Receiver<Vec<SocketAddr>>,
    ) -> Self {
        let cluster = cluster.into();
        let (wake_tx, wake) = mpsc::channel(1);
        let shared = Arc::new(Shared::new(&policy, wake_tx));
        let mut members = Members::new(cluster.clone(), shared, policy.max_ejection_percent);
        let mut initial = EjectionSnapshot::default();
        // Cloned so that the list's read lock is not held while the map is built.
        let listed = hosts.borrow().clone();
        members.sync(&listed, &mut initial);
        let rng = Box::new(crate::checker::os_seeded());
        Self {
            ejector: Ejector::new(cluster.clone(), policy, rng),
            cluster,
            hosts,
            members,
            wake,
            snapshot: watch::Sender::new(Arc::new(initial)),
        }
    }

    /// [`new`](Self::new), [`recorder`](Self::recorder), then [`start`](Self::start). Must be
    /// called within a Tokio runtime.
    pub fn spawn(
        cluster: impl Into<Arc<str>>,
        policy: OutlierDetection,
        hosts: watch::Receiver<Vec<SocketAddr>>,
    ) -> (
        OutlierRecorder,
        watch::Receiver<Arc<EjectionSnapshot>>,
        OutlierDetectorHandle,
    ) {
        let detector = Self::new(cluster, policy, hosts);
        let recorder = detector.recorder();
        let (snapshots, handle) = detector.start();
        (recorder, snapshots, handle)
    }

    /// Seeds the `enforcing_*` draws (default: from the OS), for reproducible runs.
    pub fn with_seed(self, seed: u64) -> Self {
        self.with_rng(SmallRng::seed_from_u64(seed))
    }

    /// Draws the `enforcing_*` chances from `rng`.
    pub fn with_rng(mut self, rng: impl RngCore + Send + 'static) -> Self {
        self.ejector.set_rng(Box::new(rng));
        self
    }

    /// The request-path handle; clone it freely.
    pub fn recorder(&self) -> OutlierRecorder {
        OutlierRecorder::new(self.members.shared.clone())
    }

    /// A receiver of the published snapshots. Take one before [`run`](Self::run).
    pub fn subscribe(&self) -> watch::Receiver<Arc<EjectionSnapshot>> {
        self.snapshot.subscribe()
    }

    /// Spawns [`run`](Self::run) and returns a snapshot receiver and the handle that stops it.
    /// Must be called within a Tokio runtime.
    pub fn start(self) -> (watch::Receiver<Arc<EjectionSnapshot>>, OutlierDetectorHandle) {
        let snapshots = self.subscribe();
        let task = tokio::spawn(self.run());
        (snapshots, OutlierDetectorHandle::new(task))
    }

    /// The control loop: follows the host list, ejects on the recorders' signals and sweeps
    /// every `interval`, until every snapshot receiver is dropped (so it returns at once if none
    /// was taken).
    pub async fn run(self) {
        let Self {
            cluster,
            mut hosts,
            mut members,
            mut wake,
            mut ejector,
            snapshot,
        } = self;
        let interval = ejector.policy().interval;
        let mut sweeps = tokio::time::interval_at(Instant::now() + interval, interval);
        sweeps.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut state = LoopState::Watching;
        // The list may have changed since `new`; marking it seen here makes `changed()` report
        // only later changes.
        let listed = hosts.borrow_and_update().clone();
        snapshot.send_if_modified(|snap| members.sync(&listed, Arc::make_mut(snap)));
        tracing::debug!(%cluster, hosts = listed.len(), ?state, "outlier detector started");
        loop {
            // Membership before wake-ups: list changes are rare, so they cannot starve the
            // recorders' signals, and a host's detections are then judged among the new members.
            tokio::select! {
                biased;
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
                Some(()) = wake.recv() => {
                    let now = Instant::now();
                    let stats = members.stats();
                    snapshot.send_if_modified(|snap| ejector.detections(stats, Arc::make_mut(snap), now));
                }
                _ = sweeps.tick() => {
                    let now = Instant::now();
                    let stats = members.stats();
                    snapshot.send_if_modified(|snap| {
                        let snap = Arc::make_mut(snap);
                        ejector.detections(stats, snap, now) | ejector.sweep(stats, snap, now)
                    });
                }
            }
        }
        tracing::debug!(%cluster, state = ?LoopState::Stopped, "outlier detector stopped: no snapshot receivers left");
    }
}
