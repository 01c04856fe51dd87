//! Upstream clusters at run time: members, their connection pools, the balancer.
//!
//! Each endpoint owns its pools (hyper-util's pooling client over a connector that
//! dials only that endpoint), so keep-alive and HTTP/2 multiplexing are per host,
//! as in Envoy. A cluster's members and the balancer over them form one [`HostSet`],
//! republished by the [`membership`] loop on every discovery, health or ejection change
//! and read by the request path with one atomic load; each endpoint's [`Load`]
//! (requests in flight, latency) is shared by the request path and the balancer.
//!
//! [`Load`]: mesh_lb::Load

mod balancer;
mod breakers;
mod build;
mod connector;
mod endpoint;
mod hosts;
pub(crate) mod membership;
mod pickset;
mod priority;
mod slow_start;
mod zone;

pub use balancer::BalancerError;
pub use connector::ConnectError;
pub(crate) use endpoint::Endpoint;
pub(crate) use hosts::{HostSet, Member};

use crate::stats::ClusterStats;
use crate::tls::{ClientTls, client_tls};
use arc_swap::{ArcSwap, ArcSwapOption};
pub(crate) use breakers::Breakers;
pub(crate) use build::Warming;
use membership::Discovered;
use mesh_core::policy::Cluster;
use mesh_discovery::SourceStats;
use mesh_filters::circuit_breaker::CircuitOpen;
use mesh_filters::retry::{RetryBudget, RetryStats};
use mesh_health::{EjectionSnapshot, HealthSnapshot, OutlierRecorder};
use pickset::Pickset;
use std::sync::Arc;
use std::sync::OnceLock;

/// One configuration's clusters, indexed like its `Bootstrap::clusters` (routes hold
/// those indices). A cluster whose policy a reload leaves alone is the same
/// [`ClusterRuntime`] in both generations, with its pools, health and ejections.
#[derive(Debug)]
pub(crate) struct Upstreams {
    pub(crate) clusters: Vec<Arc<ClusterRuntime>>,
    /// Each cluster's control loops, beside it; a cluster's loops stop when the last
    /// generation (and in-flight request) using it is gone.
    controls: Vec<Arc<membership::Controls>>,
}

#[derive(Debug)]
pub(crate) struct ClusterRuntime {
    pub(crate) policy: Cluster,
    /// Callers' zones, when zone-aware routing is configured.
    pub(crate) zones: Option<ZoneContext>,
    /// Upstream TLS, kept to build endpoints for hosts discovery adds.
    tls: Option<ClientTls>,
    /// The members and the balancer over them, republished by the membership task.
    pub(crate) hosts: ArcSwap<HostSet>,
    /// The latest active health snapshot (`None` without health checks).
    pub(crate) health: ArcSwapOption<HealthSnapshot>,
    /// The latest outlier ejections (`None` without outlier detection).
    pub(crate) ejections: ArcSwapOption<EjectionSnapshot>,
    /// Where the request path reports outcomes, when outlier detection is on.
    pub(crate) outlier: OnceLock<OutlierRecorder>,
    /// Live views of the control loops, for the admin's counters (never the request path).
    pub(crate) health_rx: OnceLock<tokio::sync::watch::Receiver<Arc<HealthSnapshot>>>,
    pub(crate) ejections_rx: OnceLock<tokio::sync::watch::Receiver<Arc<EjectionSnapshot>>>,
    /// The discovery source's counters, for a cluster that has one.
    pub(crate) discovery: Option<Arc<SourceStats>>,
    /// Circuit breakers per routing priority.
    pub(crate) breakers: Breakers,
    /// Finagle-style retry budget shared by every route to this cluster, so a sick
    /// cluster sees at most its share of retries however many routes lead to it.
    pub(crate) retry_budget: Arc<RetryBudget>,
    pub(crate) retry_stats: Arc<RetryStats>,
    pub(crate) stats: ClusterStats,
}

/// Where the callers are: this proxy's zone and how its service spreads over zones
/// (from `cluster_manager.local_cluster_name`, as it was at start), for zone-aware
/// routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZoneContext {
    pub(crate) local_zone: String,
    pub(crate) callers: Vec<(String, usize)>,
}

impl ClusterRuntime {
    fn build(
        policy: &Cluster,
        found: &Discovered,
        stats: &crate::stats::Stats,
        zones: Option<ZoneContext>,
    ) -> Result<Self, crate::StartError> {
        let first = found.sets.borrow().clone();
        let tls = policy.tls.as_ref().map(client_tls).transpose()?;
        let breakers = Breakers::new(&policy.circuit_breakers);
        let connections = breakers.get(mesh_core::policy::RoutingPriority::Default);
        let stats = stats.cluster(&policy.name);
        let members: Vec<Member> = first
            .endpoints
            .iter()
            .map(|spec| Member {
                endpoint: Arc::new(Endpoint::build(
                    policy,
                    spec.address,
                    tls.as_ref(),
                    connections,
                    &stats.cx,
                    None,
                )),
                spec: spec.clone(),
                pending_removal: false,
            })
            .collect();
        // Every member counts as healthy until health says otherwise: this lays out
        // priorities and zones. With checks configured, the first snapshot marks them
        // all unhealthy, which is panic mode until the first checks pass.
        let built = Pickset::build(policy, zones.as_ref(), &members, None, None)?;
        stats.total.set(members.len() as f64);
        stats.healthy.set(built.healthy as f64);
        Ok(ClusterRuntime {
            zones,
            tls,
            hosts: ArcSwap::from_pointee(HostSet {
                version: first.version.clone(),
                members,
                pickset: built.pickset,
            }),
            health: ArcSwapOption::empty(),
            ejections: ArcSwapOption::empty(),
            outlier: OnceLock::new(),
            health_rx: OnceLock::new(),
            ejections_rx: OnceLock::new(),
            discovery: found.source.as_ref().map(|s| s.stats()),
            breakers,
            retry_budget: Arc::new(RetryBudget::default()),
            retry_stats: Arc::new(RetryStats::default()),
            policy: policy.clone(),
            stats,
        })
    }

    /// The endpoint for a request; `hash` matters only to consistent-hashing policies.
    pub(crate) fn pick(&self, hash: Option<u64>) -> Option<Arc<Endpoint>> {
        let hosts = self.hosts.load();
        let (i, panic) = hosts.pickset.pick(hash)?;
        if panic {
            self.stats.panic.increment(1);
        }
        hosts.members.get(i).map(|m| m.endpoint.clone())
    }

    /// Counts a refusal by one of this cluster's circuit breakers (Envoy's
    /// `upstream_rq_pending_overflow`) and hands it back for the reply.
    pub(crate) fn overflowed(&self, open: CircuitOpen) -> CircuitOpen {
        self.stats.overflow.increment(1);
        open
    }

    /// Records how a request to `endpoint` went, in one place: the cluster's stats, the
    /// endpoint's counters, and outlier detection (when on).
    pub(crate) fn record(&self, endpoint: &Endpoint, result: mesh_health::RequestResult) {
        use mesh_health::RequestResult::*;
        let error = match result {
            Status(code) => {
                self.stats.rq.record(code);
                code >= 500
            }
            Connected => false,
            ConnectFailed => {
                self.stats.connect_fail.increment(1);
                true
            }
            Reset => {
                self.stats.reset.increment(1);
                true
            }
            // Counted where the route timeout fires (`handler::forward`), once per request.
            Timeout => true,
        };
        endpoint.outcomes.record(error);
        if let Some(recorder) = self.outlier.get() {
            // A host discovery added a moment ago may not be known to the detector yet;
            // missing one result then is harmless.
            let _ = recorder.record(endpoint.addr, result);
        }
    }

    /// Whether picks depend on a request hash (worth computing one).
    pub(crate) fn wants_hash(&self) -> bool {
        self.policy.lb_policy.is_hashing()
    }
}
