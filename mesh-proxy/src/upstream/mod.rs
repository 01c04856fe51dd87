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
use membership::Discovered;
use mesh_core::policy::{Cluster, Discovery, EndpointSet};
use mesh_discovery::{SourceHandle, SourceStats};
use mesh_filters::circuit_breaker::CircuitOpen;
use mesh_filters::retry::{RetryBudget, RetryStats};
use mesh_health::{EjectionSnapshot, HealthSnapshot, OutlierRecorder};
use pickset::Pickset;
use std::sync::Arc;
use std::sync::OnceLock;

/// All clusters, indexed like `Bootstrap::clusters` (routes hold those indices).
#[derive(Debug)]
pub(crate) struct Upstreams {
    pub(crate) clusters: Vec<ClusterRuntime>,
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
#[derive(Debug, Clone)]
pub(crate) struct ZoneContext {
    pub(crate) local_zone: String,
    pub(crate) callers: Vec<(String, usize)>,
}

impl Upstreams {
    /// Every cluster with its first members (an endpoints file is read now: a bad one
    /// stops the start), and the discovery sources the membership tasks will follow.
    pub(crate) fn build(
        config: &mesh_core::policy::Bootstrap,
        stats: &crate::stats::Stats,
    ) -> Result<(Self, Vec<Discovered>), crate::StartError> {
        let discovered = config
            .clusters
            .iter()
            .map(discover)
            .collect::<Result<Vec<_>, _>>()?;
        let local = config.local_cluster.as_ref().map(|c| c.index);
        let zones = config
            .node
            .zone
            .clone()
            .zip(local.and_then(|i| discovered.get(i)))
            .map(|(local_zone, found)| {
                let mut callers: Vec<(String, usize)> = Vec::new();
                for e in &found.sets.borrow().endpoints {
                    let zone = e.zone.clone().unwrap_or_default();
                    match callers.iter_mut().find(|(z, _)| *z == zone) {
                        Some((_, n)) => *n += 1,
                        None => callers.push((zone, 1)),
                    }
                }
                ZoneContext { local_zone, callers }
            });
        let clusters = config
            .clusters
            .iter()
            .zip(&discovered)
            .enumerate()
            // The local cluster itself is not routed by zone.
            .map(|(i, (c, found))| {
                let zones = zones.clone().filter(|_| Some(i) != local);
                ClusterRuntime::build(c, found, stats, zones)
            })
            .collect::<Result<_, _>>()?;
        Ok((Upstreams { clusters }, discovered))
    }
}

/// A cluster's discovery source, started; a static cluster's list as a set that never
/// changes.
fn discover(cluster: &Cluster) -> Result<Discovered, crate::StartError> {
    match &cluster.discovery {
        Discovery::Static => Ok(Discovered {
            sets: mesh_discovery::fixed(EndpointSet {
                version: None,
                endpoints: cluster.endpoints.clone(),
            }),
            source: None,
        }),
        Discovery::Registry(registry) => {
            use mesh_discovery::registry::{RegistrySource, RegistrySourceOptions, ServiceName};
            let refused = |reason: String| crate::StartError::Registry {
                cluster: cluster.name.clone(),
                reason,
            };
            let service = ServiceName::new(&registry.service).map_err(|e| refused(e.to_string()))?;
            // Starts empty and fills on the registry's first answer: a registry that is
            // down at start must not stop the proxy (the cluster answers 503 until then).
            let source = RegistrySource::new(registry.address, service, RegistrySourceOptions::default());
            let (sets, handle) = source.start().map_err(|e| refused(e.to_string()))?;
            Ok(Discovered {
                sets,
                source: Some(handle),
            })
        }
        Discovery::Dns(dns) => {
            // Starts empty and fills on the first answer, like the registry (see DnsSource).
            let source =
                mesh_discovery::DnsSource::new(dns.clone(), mesh_discovery::DnsSourceOptions::default());
            let (sets, handle) = source.start().map_err(|e| crate::StartError::Dns {
                cluster: cluster.name.clone(),
                reason: e.to_string(),
            })?;
            Ok(Discovered {
                sets,
                source: Some(handle),
            })
        }
        Discovery::File(file) => {
            let source = mesh_discovery::FileSource::new(file.path.clone(), file.refresh_interval);
            let (sets, handle) = source.start().map_err(|source| crate::StartError::Discovery {
                cluster: cluster.name.clone(),
                source,
            })?;
            Ok(Discovered {
                sets,
                source: Some(handle),
            })
        }
    }
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
        let members: Vec<Member> = first
            .endpoints
            .iter()
            .map(|spec| Member {
                endpoint: Arc::new(Endpoint::build(
                    policy,
                    spec.address,
                    tls.as_ref(),
                    connections,
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
        let stats = stats.cluster(&policy.name);
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
            discovery: found.source.as_ref().map(SourceHandle::stats),
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
            Timeout => {
                self.stats.timeout.increment(1);
                true
            }
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
