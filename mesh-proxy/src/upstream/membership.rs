//! Which endpoints of a cluster take traffic, and the balancer over them.
//!
//! A control task follows the cluster's health snapshot (from mesh-health's active
//! checks) and, on every change, rebuilds the balancer over the eligible endpoints and
//! publishes it with one atomic swap; the request path only loads the current
//! [`Pickset`]. Envoy's panic threshold applies: when fewer than
//! `healthy_panic_threshold` percent of endpoints are healthy, the cluster balances
//! across all of them (a partly-broken cluster beats one overloaded survivor), and
//! every request picked that way is counted in `lb_healthy_panic`.

use super::balancer::{Balancer, BalancerError};
use super::{ClusterRuntime, Upstreams};
use mesh_core::policy::Percentage;
use mesh_health::HealthSnapshot;
use std::sync::Arc;
use tokio::sync::watch;

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
    if panic { ((0..total).collect(), true) } else { (healthy, false) }
}

impl ClusterRuntime {
    /// Rebuilds and publishes the pickset for `health` (`None`: no checks, all healthy).
    pub(crate) fn apply_health(&self, health: Option<&Arc<HealthSnapshot>>) -> Result<(), BalancerError> {
        let total = self.endpoints.len();
        let healthy: Vec<usize> = match health {
            None => (0..total).collect(),
            Some(h) => (0..total).filter(|&i| h.is_healthy(&self.endpoints[i].addr)).collect(),
        };
        self.stats.healthy.set(healthy.len() as f64);
        let (eligible, panic) = eligible(total, healthy, self.policy.common_lb.healthy_panic_threshold);
        let loads: Vec<_> = self.endpoints.iter().map(|e| e.load.clone()).collect();
        let balancer = Balancer::build(&self.policy, &loads, &eligible)?;
        if panic {
            tracing::debug!(cluster = %self.policy.name, "membership: entering panic mode");
        }
        self.pickset.store(Arc::new(Pickset { balancer, panic }));
        self.health.store(health.cloned());
        Ok(())
    }
}

/// The control loop of one cluster: republish on every health change, until the
/// checker stops.
pub(crate) async fn follow_health(upstreams: Arc<Upstreams>, cluster: usize, mut rx: watch::Receiver<Arc<HealthSnapshot>>) {
    let Some(runtime) = upstreams.clusters.get(cluster) else { return };
    loop {
        let snapshot = rx.borrow_and_update().clone();
        if let Err(e) = runtime.apply_health(Some(&snapshot)) {
            // The endpoint set itself is fixed and already built once, so this is not
            // expected; keep the previous pickset rather than stop serving.
            tracing::warn!(error = %e, "membership: cannot rebuild the balancer; keeping the last one");
        }
        if rx.changed().await.is_err() {
            break;
        }
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
        assert_eq!(eligible(4, vec![0, 1], pct(50)), (vec![0, 1], false), "exactly 50% is not panic");
        assert_eq!(eligible(4, vec![3], pct(50)), (vec![0, 1, 2, 3], true));
        assert_eq!(eligible(4, vec![], pct(50)), (vec![0, 1, 2, 3], true));
        assert_eq!(eligible(4, vec![], pct(0)), (vec![], false), "0 disables panic mode");
        assert_eq!(eligible(0, vec![], pct(50)), (vec![], false));
        assert_eq!(eligible(10, vec![0, 1, 2, 3, 4, 5, 6, 7, 8], pct(100)), ((0..10).collect(), true));
    }
}
