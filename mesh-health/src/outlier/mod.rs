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
//! - **Recording** ([`OutlierRecorder::record`]): lock-free, per host, see [`RequestResult`].
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
//!   `max_ejection_percent` of the hosts, rounded down, are ejected, and then only with
//!   probability `enforcing_*` of its detection (an injectable RNG; 0% never, 100% always).
//!   The strict limit is Envoy's since 1.31 (`always_eject_one_host` off): with the default 10%,
//!   a cluster of fewer than 10 hosts ejects nothing. Set `max_ejection_percent` accordingly.
//! - **Ejection time** is `min(base_ejection_time × backoff, max_ejection_time)`. The backoff
//!   grows by one per ejection (while `base × backoff < max + base`) and, as in Envoy, shrinks
//!   by one at each sweep at which the host has been back for at least an `interval`; so a host
//!   ejected again soon after returning stays out for `base × times ejected`, up to the cap.
//!
//! Defaults: the policy's own (Envoy's); the `enforcing_*` draws are seeded from the OS
//! ([`with_seed`](OutlierDetector::with_seed) or [`with_rng`](OutlierDetector::with_rng) fix them).
//!
//! Publication: one writer (this loop) publishes `Arc<EjectionSnapshot>`; receivers are woken
//! (`changed()`) only when a host is ejected or returns; counters and backoffs change in place.
//! States: `Running` until every snapshot receiver is dropped (or the [`OutlierDetectorHandle`]
//! is), then `Stopped`; one `tracing::debug!` per ejection, return and ignored outlier.
//!
//! Failure: recording fails only for an unknown host number ([`UnknownHost`], nothing counted);
//! the loop cannot fail; once it has stopped, recording still counts but nothing is ejected.
//! Nothing here panics.
//!
//! Placement: one per cluster with `outlier_detection`, started by the proxy beside the
//! [`HealthChecker`](crate::HealthChecker); the router records each upstream attempt's result
//! for the host the balancer picked; the balancer (or a filter on its `Discover` stream) leaves
//! out the hosts ejected here.
//!
//! Deviations from Envoy:
//! - The hosts are fixed when the detector is made (Envoy follows membership changes and keeps
//!   each host's state); a new endpoint list needs a new detector.
//! - A request is recorded once, with its final result. With the split, Envoy's router also
//!   reports a connection success before a timeout or reset on an established connection, which
//!   ends the local-origin run; here timeouts and resets in a row do make a run.
//! - A host found by both success rate and failure percentage in one sweep is ejected once
//!   (Envoy would eject it twice); statistical outliers are taken in host order (Envoy: hash
//!   order), which matters only when `max_ejection_percent` cuts the list short.
//! - No `max_ejection_time_jitter`, `successful_active_health_check_uneject_host`,
//!   `always_eject_one_host`, runtime overrides or event log (the policy has none of them).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mesh_health::{EjectionReason, OutlierDetector, RequestResult};
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
//! let (recorder, mut ejections, _handle) =
//!     OutlierDetector::spawn(web.name.as_str(), policy, web.endpoints.len());
//! for _ in 0..5 {
//!     recorder.record(1, RequestResult::Status(500))?;
//! }
//! ejections.changed().await?; // at once, not at the next 10 s sweep
//! let snapshot = ejections.borrow_and_update().clone();
//! assert!(snapshot.is_ejected(1) && !snapshot.is_ejected(0));
//! assert_eq!(snapshot.stats().enforced.get(EjectionReason::Consecutive5xx), 1);
//! # Ok(())
//! # }
//! ```

mod detect;
mod eject;
mod record;
mod snapshot;
#[cfg(test)]
mod tests;

pub use record::{OutlierRecorder, RequestResult, UnknownHost};
pub use snapshot::{EjectionReason, EjectionSnapshot, EjectionStats, HostEjection, ReasonCounts};

use eject::Ejector;
use mesh_core::policy::OutlierDetection;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use record::Shared;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// The outlier-detection control loop of one cluster; see the [module docs](self).
#[derive(Debug)]
pub struct OutlierDetector {
    cluster: Arc<str>,
    shared: Arc<Shared>,
    wake: mpsc::Receiver<()>,
    ejector: Ejector,
    snapshot: watch::Sender<Arc<EjectionSnapshot>>,
}

/// Stops the [`OutlierDetector`] loop when dropped.
#[derive(Debug)]
pub struct OutlierDetectorHandle {
    task: JoinHandle<()>,
}

impl OutlierDetectorHandle {
    /// Whether the loop has ended (every snapshot receiver dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for OutlierDetectorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Named states of the loop, for its debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopState {
    Running,
    Stopped,
}

impl OutlierDetector {
    /// A detector for `cluster`'s `hosts` hosts, numbered `0..hosts` as its endpoints, none
    /// ejected. Nothing is ejected until [`run`](Self::run) or [`start`](Self::start).
    pub fn new(cluster: impl Into<Arc<str>>, policy: OutlierDetection, hosts: usize) -> Self {
        let cluster = cluster.into();
        let (wake_tx, wake) = mpsc::channel(1);
        let shared = Arc::new(Shared::new(&policy, hosts, wake_tx));
        let initial = EjectionSnapshot::new(hosts, eject::max_ejected(hosts, policy.max_ejection_percent));
        let rng = Box::new(crate::checker::os_seeded());
        Self {
            ejector: Ejector::new(cluster.clone(), policy, rng),
            cluster,
            shared,
            wake,
            snapshot: watch::Sender::new(Arc::new(initial)),
        }
    }

    /// [`new`](Self::new), [`recorder`](Self::recorder), then [`start`](Self::start). Must be
    /// called within a Tokio runtime.
    pub fn spawn(
        cluster: impl Into<Arc<str>>,
        policy: OutlierDetection,
        hosts: usize,
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
        OutlierRecorder::new(self.shared.clone())
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
        (snapshots, OutlierDetectorHandle { task })
    }

    /// The control loop: ejects on the recorders' signals and sweeps every `interval`, until
    /// every snapshot receiver is dropped (so it returns at once if none was taken).
    pub async fn run(self) {
        let Self {
            cluster,
            shared,
            mut wake,
            mut ejector,
            snapshot,
        } = self;
        let interval = ejector.policy().interval;
        let mut sweeps = tokio::time::interval_at(Instant::now() + interval, interval);
        sweeps.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let hosts = &shared.hosts[..];
        tracing::debug!(%cluster, hosts = hosts.len(), state = ?LoopState::Running, "outlier detector started");
        loop {
            tokio::select! {
                biased;
                () = snapshot.closed() => break,
                Some(()) = wake.recv() => {
                    let now = Instant::now();
                    snapshot.send_if_modified(|snap| ejector.detections(hosts, Arc::make_mut(snap), now));
                }
                _ = sweeps.tick() => {
                    let now = Instant::now();
                    snapshot.send_if_modified(|snap| {
                        let snap = Arc::make_mut(snap);
                        ejector.detections(hosts, snap, now) | ejector.sweep(hosts, snap, now)
                    });
                }
            }
        }
        tracing::debug!(%cluster, state = ?LoopState::Stopped, "outlier detector stopped: no snapshot receivers left");
    }
}
