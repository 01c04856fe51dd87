//! Which endpoints of a cluster take traffic, and the balancer over them.
//!
//! A control task follows the cluster's active-health snapshot and its outlier
//! ejections (both from mesh-health) and, on every change, rebuilds the balancer over
//! the eligible endpoints (healthy and not ejected) and publishes it with one atomic
//! swap; the request path only loads the current [`Pickset`]. Envoy's panic threshold applies: when fewer than
//! `healthy_panic_threshold` percent of endpoints are healthy, the cluster balances
//! across all of them (a partly-broken cluster beats one overloaded survivor), and
//! every request picked that way is counted in `lb_healthy_panic`.

use super::balancer::{Balancer, BalancerError};
use super::{ClusterRuntime, Upstreams};
use mesh_core::policy::Percentage;
use mesh_health::{
    EjectionSnapshot, HealthCheckerHandle, HealthSnapshot, OutlierDetector, OutlierDetectorHandle,
};
use std::sync::Arc;
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
            rx
        });
        let ejections = c.policy.outlier_detection.clone().map(|policy| {
            let (recorder, rx, handle) =
                OutlierDetector::spawn(c.policy.name.as_str(), policy, c.endpoints.len());
            let _ = c.outlier.set(recorder);
            controls.push(Control::Outlier(handle));
            rx
        });
        if health.is_some() || ejections.is_some() {
            tokio::spawn(follow(upstreams.clone(), i, health, ejections));
        }
    }
    controls
}

/// What the request path reads for one cluster.
#[derive(Debug)]
pub(crate) struct Pickset {
    pub(crate) balancer: Balancer,
    /// Balancing across every endpoint because too few are healthy.
    pub(crate) panic: bool,
}

/// The endpoints to balance over, and whether that is panic mode.
pub(crate) fn eligible(total: usize, healthy: Vec<usize>, threshold: Percentage) -> (Vec<usize>, bool) {
    // healthy / total < threshold, in integers.
    let panic = total > 0 && healthy.len() * 100 < total * usize::from(threshold.get());
    if panic {
        ((0..total).collect(), true)
    } else {
        (healthy, false)
    }
}

impl ClusterRuntime {
    /// Rebuilds and publishes the pickset (`None`: no checks / no detection).
    pub(crate) fn apply(
        &self,
        health: Option<&Arc<HealthSnapshot>>,
        ejections: Option<&Arc<EjectionSnapshot>>,
    ) -> Result<(), BalancerError> {
        let total = self.endpoints.len();
        let healthy: Vec<usize> = (0..total)
            .filter(|&i| health.is_none_or(|h| h.is_healthy(&self.endpoints[i].addr)))
            .filter(|&i| ejections.is_none_or(|e| !e.is_ejected(i)))
            .collect();
        self.stats.healthy.set(healthy.len() as f64);
        let (eligible, panic) = eligible(total, healthy, self.policy.common_lb.healthy_panic_threshold);
        let loads: Vec<_> = self.endpoints.iter().map(|e| e.load.clone()).collect();
        let balancer = Balancer::build(&self.policy, &loads, &eligible)?;
        if panic {
            tracing::debug!(cluster = %self.policy.name, "membership: entering panic mode");
        }
        self.pickset.store(Arc::new(Pickset { balancer, panic }));
        self.health.store(health.cloned());
        self.ejections.store(ejections.cloned());
        Ok(())
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
    loop {
        if let Err(e) = runtime.apply(last_health.as_ref(), last_ejections.as_ref()) {
            // The endpoint set is fixed and was built once already, so this is not
            // expected; keep the previous pickset rather than stop serving.
            tracing::warn!(error = %e, "membership: cannot rebuild the balancer; keeping the last one");
        }
        tokio::select! {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(p: u32) -> Percentage {
        Percentage::new(p).unwrap()
    }

    #[test]
    fn panic_threshold_spreads_across_all_hosts_below_it() {
        assert_eq!(
            eligible(4, vec![0, 1], pct(50)),
            (vec![0, 1], false),
            "exactly 50% is not panic"
        );
        assert_eq!(eligible(4, vec![3], pct(50)), (vec![0, 1, 2, 3], true));
        assert_eq!(eligible(4, vec![], pct(50)), (vec![0, 1, 2, 3], true));
        assert_eq!(
            eligible(4, vec![], pct(0)),
            (vec![], false),
            "0 disables panic mode"
        );
        assert_eq!(eligible(0, vec![], pct(50)), (vec![], false));
        assert_eq!(
            eligible(10, vec![0, 1, 2, 3, 4, 5, 6, 7, 8], pct(100)),
            ((0..10).collect(), true)
        );
    }
}
