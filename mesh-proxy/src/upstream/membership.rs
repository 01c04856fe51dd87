//! Which endpoints of a cluster take traffic, and the balancer over them.
//!
//! A control task follows the cluster's active-health snapshot and its outlier
//! ejections (both from mesh-health) and, on every change, rebuilds the balancer over
//! the eligible endpoints (healthy and not ejected) and publishes it with one atomic
//! swap; the request path only loads the current [`Pickset`]. Endpoint priorities and
//! Envoy's panic threshold apply as [`priority`] describes: traffic stays on priority 0
//! while enough of it is healthy and fails over as it is not; a level with too few
//! healthy hosts balances across all of them (a partly-broken level beats one
//! overloaded survivor), and every request picked that way is counted in
//! `lb_healthy_panic`.

use super::balancer::{Balancer, BalancerError};
use super::priority::{self, LevelHealth};
use super::slow_start;
use super::zone;
use super::{ClusterRuntime, Upstreams};
use mesh_health::{
    EjectionSnapshot, HealthCheckerHandle, HealthSnapshot, OutlierDetector, OutlierDetectorHandle,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Keeps a cluster's control loops alive; dropping it stops them.
#[derive(Debug)]
#[expect(dead_code, reason = "held only so that dropping it stops the loop")]
pub(crate) enum Control {
    Health(HealthCheckerHandle),
    Outlier(OutlierDetectorHandle),
}

/// Starts every cluster's health checker and outlier detector, each cluster with a
/// membership task that republishes its balancer when either changes.
pub(crate) fn start(upstreams: &Arc<Upstreams>) -> Vec<Control> {
    let mut controls = Vec::new();
    for (i, c) in upstreams.clusters.iter().enumerate() {
        let health = (!c.policy.health_checks.is_empty()).then(|| {
            let addrs = c.endpoints.iter().map(|e| e.addr).collect();
            // Membership is static for now; the checker keeps the list after the sender goes.
            let (_, hosts) = watch::channel(addrs);
            let (rx, handle) = mesh_health::HealthChecker::spawn(
                c.policy.name.as_str(),
                c.policy.health_checks.clone(),
                hosts,
            );
            controls.push(Control::Health(handle));
            let _ = c.health_rx.set(rx.clone());
            rx
        });
        let ejections = c.policy.outlier_detection.clone().map(|policy| {
            let (recorder, rx, handle) =
                OutlierDetector::spawn(c.policy.name.as_str(), policy, c.endpoints.len());
            let _ = c.outlier.set(recorder);
            controls.push(Control::Outlier(handle));
            let _ = c.ejections_rx.set(rx.clone());
            rx
        });
        if health.is_some() || ejections.is_some() {
            tokio::spawn(follow(upstreams.clone(), i, health, ejections));
        }
    }
    controls
}

/// What the request path reads for one cluster.
#[derive(Debug, Default)]
pub(crate) struct Pickset {
    /// One balancer per priority level that takes traffic, highest priority first, each
    /// with the cumulative share (percent) it covers: `levels[i].0` is the upper bound.
    levels: Vec<(u32, Level)>,
}

#[derive(Debug)]
struct Level {
    balancer: Balancer,
    /// Balancing across every host of the level because too few are healthy.
    panic: bool,
    /// Zone-aware routing for this level, when it applies.
    zoned: Option<zone::Zoned>,
}

impl Pickset {
    /// The level for this request (by a uniform draw when traffic is split) and its pick.
    pub(crate) fn pick(&self, hash: Option<u64>) -> Option<(usize, bool)> {
        let level = match self.levels.as_slice() {
            [] => return None,
            [(_, only)] => only,
            levels => {
                let r = rand::random_range(0..100u32);
                let (_, level) = levels
                    .iter()
                    .find(|(upper, _)| r < *upper)
                    .unwrap_or(&levels[levels.len() - 1]);
                level
            }
        };
        let balancer = level
            .zoned
            .as_ref()
            .and_then(zone::Zoned::balancer)
            .unwrap_or(&level.balancer);
        balancer.pick(hash).map(|i| (i, level.panic))
    }
}

impl ClusterRuntime {
    /// Rebuilds and publishes the pickset (`None`: no checks / no detection). Returns
    /// whether an endpoint is still ramping up under slow start (rebuild again soon).
    pub(crate) fn apply(
        &self,
        health: Option<&Arc<HealthSnapshot>>,
        ejections: Option<&Arc<EjectionSnapshot>>,
    ) -> Result<bool, BalancerError> {
        let total = self.endpoints.len();
        let is_healthy = |i: usize| {
            health.is_none_or(|h| h.is_healthy(&self.endpoints[i].addr))
                && ejections.is_none_or(|e| !e.is_ejected(i))
        };
        let mut priorities: Vec<u32> = self.policy.endpoints.iter().map(|e| e.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let members = |p: u32| (0..total).filter(move |&i| self.policy.endpoints[i].priority == p);
        let health_by_level: Vec<LevelHealth> = priorities
            .iter()
            .map(|&p| LevelHealth {
                total: members(p).count(),
                healthy: members(p).filter(|&i| is_healthy(i)).count(),
            })
            .collect();
        self.stats
            .healthy
            .set(health_by_level.iter().map(|l| l.healthy).sum::<usize>() as f64);

        // Slow start: when did each endpoint last (re)join — turn healthy, or come back
        // from an ejection — and how far along its ramp is it?
        let now = tokio::time::Instant::now();
        let rejoined = |i: usize| {
            let healthy_since = health
                .and_then(|h| h.get(&self.endpoints[i].addr))
                .filter(|s| s.healthy)
                .map(|s| s.since)
                .filter(|since| self.first_healthy[i].get_or_init(|| *since) != since);
            let returned = ejections.and_then(|e| e.get(i)).and_then(|e| e.returned_at);
            healthy_since.max(returned)
        };
        let mut ramping = false;
        let mut weight = |i: usize| {
            let configured = self.policy.endpoints[i].weight;
            let Some(config) = &self.policy.slow_start else {
                return configured;
            };
            let factor =
                rejoined(i).and_then(|t| slow_start::factor(now.saturating_duration_since(t), config));
            ramping |= factor.is_some();
            slow_start::weight(configured, factor)
        };

        let threshold = self.policy.common_lb.healthy_panic_threshold.get();
        let loads: Vec<_> = self.endpoints.iter().map(|e| e.load.clone()).collect();
        let mut levels = Vec::new();
        let mut upper = 0;
        for (&p, share) in priorities
            .iter()
            .zip(priority::loads(&health_by_level, threshold))
        {
            if share.percent == 0 {
                continue;
            }
            upper += share.percent;
            let eligible: Vec<_> = members(p)
                .filter(|&i| share.panic || is_healthy(i))
                .map(|i| (i, weight(i)))
                .collect();
            if share.panic {
                tracing::debug!(cluster = %self.policy.name, priority = p, "membership: level in panic mode");
            }
            // Envoy routes by zone only at the highest priority, outside panic, and
            // only for clusters of at least `min_cluster_size` hosts.
            let min_hosts = self.policy.common_lb.zone_min_cluster_size as usize;
            let zoned = match &self.zones {
                Some(ctx) if levels.is_empty() && !share.panic && total >= min_hosts => {
                    zone::Zoned::build(self, ctx, &loads, &eligible)?
                }
                _ => None,
            };
            let balancer = Balancer::build(&self.policy, &loads, &eligible)?;
            levels.push((
                upper,
                Level {
                    balancer,
                    panic: share.panic,
                    zoned,
                },
            ));
        }
        self.pickset.store(Arc::new(Pickset { levels }));
        self.health.store(health.cloned());
        self.ejections.store(ejections.cloned());
        Ok(ramping)
    }
}

/// The control loop of one cluster: republish on every health or ejection change,
/// until both sources stop.
async fn follow(
    upstreams: Arc<Upstreams>,
    cluster: usize,
    mut health: Option<watch::Receiver<Arc<HealthSnapshot>>>,
    mut ejections: Option<watch::Receiver<Arc<EjectionSnapshot>>>,
) {
    let Some(runtime) = upstreams.clusters.get(cluster) else {
        return;
    };
    let mut last_health = health.as_mut().map(|rx| rx.borrow_and_update().clone());
    let mut last_ejections = ejections.as_mut().map(|rx| rx.borrow_and_update().clone());
    // While an endpoint ramps up under slow start, its weight changes with time alone.
    let tick = runtime
        .policy
        .slow_start
        .as_ref()
        .map_or(Duration::from_secs(1), |s| {
            (s.window / 20).max(Duration::from_millis(50))
        });
    loop {
        let ramping = match runtime.apply(last_health.as_ref(), last_ejections.as_ref()) {
            Ok(ramping) => ramping,
            Err(e) => {
                // The endpoint set is fixed and was built once already, so this is not
                // expected; keep the previous pickset rather than stop serving.
                tracing::warn!(error = %e, "membership: cannot rebuild the balancer; keeping the last one");
                false
            }
        };
        tokio::select! {
            () = tokio::time::sleep(tick), if ramping => {}
            changed = changed(&mut health) => match changed {
                Some(s) => last_health = Some(s),
                None => health = None,
            },
            changed = changed(&mut ejections) => match changed {
                Some(s) => last_ejections = Some(s),
                None => ejections = None,
            },
        }
        if health.is_none() && ejections.is_none() {
            break;
        }
    }
}

/// The next value of `rx`; `None` once its sender is gone; pending forever without one.
async fn changed<T: Clone>(rx: &mut Option<watch::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.changed().await.ok().map(|()| rx.borrow_and_update().clone()),
        None => std::future::pending().await,
    }
}
