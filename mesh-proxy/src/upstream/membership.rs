//! Which hosts are a cluster's members, and the balancer over the ones that take traffic.
//!
//! One control task per cluster follows three sources: discovery (the endpoints file,
//! or the static list, which never changes), the active-health snapshot and the outlier
//! ejections (both from mesh-health). On every change it works out the members — every
//! discovered host, plus each host discovery dropped that still passes its checks
//! (mesh-health's [`primacy`] rule) — hands that list to the health checker and the
//! outlier detector, and publishes a new [`HostSet`] with one atomic swap. The request
//! path only loads the current set; it never waits on this loop.
//!
//! A discovery source that fails (unreadable file, invalid update) keeps publishing
//! its last good set, so a cluster is never emptied by a discovery error.

use super::hosts::HostSet;
use super::pickset::Pickset;
use super::{ClusterRuntime, Endpoint};
use mesh_core::policy::EndpointSet;
use mesh_discovery::SourceHandle;
use mesh_health::{
    EjectionSnapshot, HealthCheckerHandle, HealthSnapshot, OutlierDetector, OutlierDetectorHandle, primacy,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Keeps a cluster's control loops alive; dropping it stops them.
#[derive(Debug)]
#[expect(dead_code, reason = "held only so that dropping it stops the loop")]
pub(crate) enum Control {
    Health(HealthCheckerHandle),
    Outlier(OutlierDetectorHandle),
    /// Dropped, it stops the membership loop, which may otherwise follow a discovery
    /// source a newer generation of the cluster still uses.
    Membership(oneshot::Sender<()>),
}

/// One cluster's control loops and its discovery source (kept for a reload that
/// rebuilds the cluster with the same `discovery`).
#[derive(Debug)]
pub(crate) struct Controls {
    pub(crate) discovery: Discovered,
    _loops: Vec<Control>,
}

/// A cluster's discovery source: its endpoint sets, and the task that watches for
/// them (`None` for a static cluster).
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    pub(crate) spec: mesh_core::policy::Discovery,
    pub(crate) sets: watch::Receiver<Arc<EndpointSet>>,
    pub(crate) source: Option<Arc<SourceHandle>>,
    /// The first set is a placeholder until the source answers (the registry).
    pub(crate) starts_empty: bool,
}

/// Starts the cluster's health checker and outlier detector, and a membership task if
/// it has one of them or a dynamic discovery source.
pub(crate) fn start(c: &Arc<ClusterRuntime>, found: Discovered) -> Controls {
    let mut loops = Vec::new();
    let (hosts_tx, hosts) = watch::channel(c.hosts.load().addrs());
    let name = c.policy.name.as_str();
    let health = (!c.policy.health_checks.is_empty()).then(|| {
        let checks = c.policy.health_checks.clone();
        let (rx, handle) = mesh_health::HealthChecker::spawn(name, checks, hosts.clone());
        loops.push(Control::Health(handle));
        let _ = c.health_rx.set(rx.clone());
        rx
    });
    let ejections = c.policy.outlier_detection.clone().map(|policy| {
        let (recorder, rx, handle) = OutlierDetector::spawn(name, policy, hosts.clone());
        let _ = c.outlier.set(recorder);
        loops.push(Control::Outlier(handle));
        let _ = c.ejections_rx.set(rx.clone());
        rx
    });
    let dynamic = found.spec != mesh_core::policy::Discovery::Static;
    if dynamic || health.is_some() || ejections.is_some() {
        let sources = Sources {
            discovery: Some(found.sets.clone()),
            health,
            ejections,
        };
        let (stop, stopped) = oneshot::channel();
        loops.push(Control::Membership(stop));
        tokio::spawn(follow(c.clone(), sources, hosts_tx, stopped));
    }
    Controls {
        discovery: found,
        _loops: loops,
    }
}

/// What one membership loop follows; each `None` once its sender is gone.
struct Sources {
    discovery: Option<watch::Receiver<Arc<EndpointSet>>>,
    health: Option<watch::Receiver<Arc<HealthSnapshot>>>,
    ejections: Option<watch::Receiver<Arc<EjectionSnapshot>>>,
}

impl ClusterRuntime {
    /// Publishes the members `addrs` (specs from `discovered`, or kept from before) and
    /// their pickset. Returns whether a member is still ramping up under slow start.
    pub(crate) fn apply(
        &self,
        discovered: &EndpointSet,
        addrs: &[SocketAddr],
        health: Option<&Arc<HealthSnapshot>>,
        ejections: Option<&Arc<EjectionSnapshot>>,
    ) -> Result<bool, super::BalancerError> {
        let now = tokio::time::Instant::now();
        let previous = self.hosts.load();
        let members = previous.next_members(discovered, addrs, |addr| {
            let connections = self.breakers.get(mesh_core::policy::RoutingPriority::Default);
            Endpoint::build(
                &self.policy,
                addr,
                self.tls.as_ref(),
                connections,
                &self.stats.cx,
                Some(now),
            )
        });
        let same = |(m, p): (&super::Member, &super::Member)| Arc::ptr_eq(&m.endpoint, &p.endpoint);
        if members.len() != previous.members.len() || !members.iter().zip(&previous.members).all(same) {
            self.stats.membership_change.increment(1);
        }
        let built = Pickset::build(&self.policy, self.zones.as_ref(), &members, health, ejections)?;
        self.stats.healthy.set(built.healthy as f64);
        self.stats.total.set(members.len() as f64);
        self.hosts.store(Arc::new(HostSet {
            version: discovered.version.clone(),
            members,
            pickset: built.pickset,
        }));
        self.health.store(health.cloned());
        self.ejections.store(ejections.cloned());
        Ok(built.ramping)
    }
}

/// The control loop of one cluster: recompute the members and republish on every
/// change of a source, until every source stops.
async fn follow(
    runtime: Arc<ClusterRuntime>,
    mut sources: Sources,
    hosts: watch::Sender<Vec<SocketAddr>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Some(mut set) = latest(&mut sources.discovery) else {
        return;
    };
    let mut health = latest(&mut sources.health);
    let mut ejections = latest(&mut sources.ejections);
    // While an endpoint ramps up under slow start, its weight changes with time alone.
    let tick = runtime
        .policy
        .slow_start
        .as_ref()
        .map_or(Duration::from_secs(1), |s| {
            (s.window / 20).max(Duration::from_millis(50))
        });
    loop {
        let discovered: Vec<SocketAddr> = set.endpoints.iter().map(|e| e.address).collect();
        let previous = hosts.borrow().clone();
        let ignore = runtime.policy.ignore_health_on_host_removal;
        let members = primacy::members(&discovered, &previous, health.as_deref(), ignore);
        if members != previous {
            tracing::debug!(cluster = %runtime.policy.name, members = members.len(), "membership changed");
            hosts.send_replace(members.clone());
        }
        let ramping = match runtime.apply(&set, &members, health.as_ref(), ejections.as_ref()) {
            Ok(ramping) => ramping,
            Err(e) => {
                // Keep serving on the previous set rather than stop (e.g. a new host
                // list too large for a fixed maglev table).
                tracing::warn!(error = %e, "membership: cannot rebuild the balancer; keeping the last one");
                false
            }
        };
        tokio::select! {
            () = tokio::time::sleep(tick), if ramping => {}
            changed = changed(&mut sources.discovery) => if let Some(s) = changed { set = s },
            changed = changed(&mut sources.health) => if let Some(s) = changed { health = Some(s) },
            changed = changed(&mut sources.ejections) => if let Some(s) = changed { ejections = Some(s) },
            _ = &mut stopped => break,
        }
        if sources.discovery.is_none() && sources.health.is_none() && sources.ejections.is_none() {
            break;
        }
    }
}

fn latest<T: Clone>(rx: &mut Option<watch::Receiver<T>>) -> Option<T> {
    rx.as_mut().map(|rx| rx.borrow_and_update().clone())
}

/// The next value of `rx`; `None` (and `rx` cleared) once its sender is gone; pending
/// forever without one.
async fn changed<T: Clone>(rx: &mut Option<watch::Receiver<T>>) -> Option<T> {
    let Some(inner) = rx else {
        return std::future::pending().await;
    };
    match inner.changed().await {
        Ok(()) => Some(inner.borrow_and_update().clone()),
        Err(_) => {
            *rx = None;
            None
        }
    }
}
