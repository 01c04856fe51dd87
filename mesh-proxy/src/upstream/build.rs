//! Building a configuration's clusters, reusing what a reload leaves alone.
//!
//! Policy (Envoy's CDS rule): a cluster whose name and whole policy are unchanged keeps
//! its runtime — pools, load, health, ejections, breakers, retry budget — and its control
//! loops. A changed cluster is built anew (its stats series go on, being keyed by name),
//! but keeps its discovery source when its `discovery` is unchanged, so a reload never
//! empties a registry-fed cluster while the new one waits for a first answer.
//!
//! Failure: everything is built before anything is swapped in, so an error leaves the
//! running configuration untouched; what a refused reload built stops when dropped.

use super::membership::{self, Discovered};
use super::{ClusterRuntime, Upstreams, ZoneContext};
use crate::StartError;
use crate::stats::Stats;
use mesh_core::policy::{Bootstrap, Cluster, Discovery, EndpointSet};
use mesh_discovery::xds::client::EdsSets;
use std::sync::Arc;
use tokio::sync::watch;

/// A new cluster's endpoint sets, for a reload to wait on until its source first answers
/// (Envoy's cluster warming).
pub(crate) type Warming = watch::Receiver<Arc<EndpointSet>>;

impl Upstreams {
    /// Every cluster of `config`, reused from `previous` where unchanged, with its first
    /// members (an endpoints file is read now: a bad one refuses the configuration).
    pub(crate) fn build(
        config: &Bootstrap,
        stats: &Stats,
        previous: Option<&Upstreams>,
        eds: Option<&EdsSets>,
    ) -> Result<(Self, Vec<Warming>), StartError> {
        let before = |name: &str| {
            let i = previous?.clusters.iter().position(|c| c.policy.name == name)?;
            Some((previous?.clusters.get(i)?, previous?.controls.get(i)?))
        };
        let mut warming = Vec::new();
        let mut discovered = Vec::with_capacity(config.clusters.len());
        for c in &config.clusters {
            let kept = before(&c.name)
                .map(|(_, controls)| controls.discovery.clone())
                .filter(|d| d.spec == c.discovery);
            let found = match kept {
                Some(found) => found,
                None => {
                    let found = discover(c, eds)?;
                    if found.starts_empty {
                        warming.push(found.sets.clone());
                    }
                    found
                }
            };
            discovered.push(found);
        }
        let zones = zone_context(config, &discovered);
        let mut clusters = Vec::with_capacity(discovered.len());
        let mut controls = Vec::with_capacity(discovered.len());
        for (i, (c, found)) in config.clusters.iter().zip(discovered).enumerate() {
            // The local cluster itself is not routed by zone.
            let zones = zones
                .clone()
                .filter(|_| config.local_cluster.as_ref().map(|l| l.index) != Some(i));
            match before(&c.name).filter(|(old, _)| old.zones == zones && same_policy(&old.policy, c)) {
                Some((runtime, control)) => {
                    clusters.push(runtime.clone());
                    controls.push(control.clone());
                }
                None => {
                    let runtime = Arc::new(ClusterRuntime::build(c, &found, stats, zones)?);
                    controls.push(Arc::new(membership::start(&runtime, found)));
                    clusters.push(runtime);
                }
            }
        }
        Ok((Upstreams { clusters, controls }, warming))
    }
}

/// Equal policies serialize alike; a false "changed" only costs a rebuild.
fn same_policy(a: &Cluster, b: &Cluster) -> bool {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Callers' zones, from the local cluster's current members.
fn zone_context(config: &Bootstrap, discovered: &[Discovered]) -> Option<ZoneContext> {
    let local = config.local_cluster.as_ref().map(|c| c.index);
    let local_zone = config.node.zone.clone()?;
    let found = discovered.get(local?)?;
    let mut callers: Vec<(String, usize)> = Vec::new();
    for e in &found.sets.borrow().endpoints {
        let zone = e.zone.clone().unwrap_or_default();
        match callers.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, n)) => *n += 1,
            None => callers.push((zone, 1)),
        }
    }
    Some(ZoneContext { local_zone, callers })
}

/// A cluster's discovery source, started; a static cluster's list as a set that never
/// changes.
fn discover(cluster: &Cluster, eds: Option<&EdsSets>) -> Result<Discovered, StartError> {
    let started = |(sets, handle): (Warming, mesh_discovery::SourceHandle), starts_empty| Discovered {
        spec: cluster.discovery.clone(),
        sets,
        source: Some(Arc::new(handle)),
        starts_empty,
    };
    match &cluster.discovery {
        Discovery::Static => Ok(Discovered {
            spec: Discovery::Static,
            sets: mesh_discovery::fixed(EndpointSet {
                version: None,
                endpoints: cluster.endpoints.clone(),
            }),
            source: None,
            starts_empty: false,
        }),
        Discovery::Registry(registry) => {
            use mesh_discovery::registry::{RegistrySource, RegistrySourceOptions, ServiceName};
            let refused = |reason: String| StartError::Registry {
                cluster: cluster.name.clone(),
                reason,
            };
            let service = ServiceName::new(&registry.service).map_err(|e| refused(e.to_string()))?;
            // Starts empty and fills on the registry's first answer: a registry that is
            // down at start must not stop the proxy (the cluster answers 503 until then).
            let source = RegistrySource::new(registry.address, service, RegistrySourceOptions::default());
            Ok(started(source.start().map_err(|e| refused(e.to_string()))?, true))
        }
        Discovery::Dns(dns) => {
            // Starts empty and fills on the first answer, like the registry (see DnsSource).
            let source =
                mesh_discovery::DnsSource::new(dns.clone(), mesh_discovery::DnsSourceOptions::default());
            let pair = source.start().map_err(|e| StartError::Dns {
                cluster: cluster.name.clone(),
                reason: e.to_string(),
            })?;
            Ok(started(pair, true))
        }
        Discovery::Eds(spec) => match eds {
            // Empty until the management server's first assignment; the reload that brings
            // the cluster waits for it (warming).
            Some(sets) => Ok(Discovered {
                spec: cluster.discovery.clone(),
                sets: sets.subscribe(&spec.service_name),
                source: None,
                starts_empty: true,
            }),
            None => Err(StartError::Registry {
                cluster: cluster.name.clone(),
                reason: "EDS needs dynamic_resources.ads".into(),
            }),
        },
        Discovery::File(file) => {
            let source = mesh_discovery::FileSource::new(file.path.clone(), file.refresh_interval);
            let pair = source.start().map_err(|source| StartError::Discovery {
                cluster: cluster.name.clone(),
                source,
            })?;
            Ok(started(pair, false))
        }
    }
}
