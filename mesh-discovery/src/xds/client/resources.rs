//! What the management server has sent, and the configuration it adds up to.
//!
//! State of the world: each CDS, LDS or RDS response replaces every resource of its type.
//! A response is taken only if every resource in it maps onto mesh's configuration and the
//! whole configuration it leads to — the static file plus every dynamic cluster, listener
//! and route — passes mesh-core's validation, the same rules as the YAML file; otherwise it
//! is refused whole (a NACK) and the previous resources stay.
//!
//! Warming: a listener joins the configuration once its routes have arrived (RDS) and every
//! cluster they name exists; until then a listener that was serving keeps the version last
//! put in force, and a new one waits. So the order responses arrive in (LDS and RDS may come
//! before CDS) never makes a valid set of resources fail.

use super::super::api::envoy::config::cluster::v3::Cluster;
use super::super::api::envoy::config::endpoint::v3::ClusterLoadAssignment;
use super::super::api::envoy::config::listener::v3::Listener;
use super::super::api::envoy::config::route::v3::RouteConfiguration;
use super::super::api::type_url;
use super::super::map::{self, ListenerRoutes};
use mesh_core::config;
use mesh_core::policy::{Bootstrap, Discovery, EndpointSet};
use prost::Message;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Why a response was refused, for the NACK's `error_detail`.
pub(crate) type Refusal = String;

#[derive(Debug, Default, Clone)]
pub(crate) struct Resources {
    clusters: Vec<config::Cluster>,
    listeners: Vec<(config::Listener, ListenerRoutes)>,
    routes: BTreeMap<String, Vec<config::VirtualHost>>,
    /// Each dynamic listener as last put in force, by name.
    in_force: BTreeMap<String, config::Listener>,
}

impl Resources {
    /// Takes a CDS, LDS or RDS response, or refuses it and keeps what it had. On success,
    /// the configuration the new resources add up to (validated) over `base`.
    pub(crate) fn apply(
        &mut self,
        base: &config::Bootstrap,
        type_url: &str,
        resources: &[prost_types::Any],
    ) -> Result<Arc<Bootstrap>, Refusal> {
        let mut next = self.clone();
        match type_url {
            type_url::CLUSTER => next.clusters = decode(resources, type_url, |c: Cluster| map::cluster(&c))?,
            type_url::LISTENER => {
                next.listeners = decode(resources, type_url, |l: Listener| map::listener(&l))?
            }
            type_url::ROUTE_CONFIGURATION => {
                let named = decode(resources, type_url, |r: RouteConfiguration| {
                    map::route_configuration(&r).map(|hosts| (r.name.clone(), hosts))
                })?;
                next.routes = named.into_iter().collect();
            }
            other => return Err(format!("mesh does not subscribe to {other}")),
        }
        let config = next.validate(base)?;
        *self = next;
        Ok(config)
    }

    /// The configuration these resources add up to over `base`, validated; remembered as
    /// the one in force when it passes.
    pub(crate) fn validate(&mut self, base: &config::Bootstrap) -> Result<Arc<Bootstrap>, Refusal> {
        let mut whole = base.clone();
        let statics = whole.clusters.len();
        whole.clusters.extend(self.clusters.iter().cloned());
        let known: HashSet<&str> = whole.clusters.iter().filter_map(|c| c.name.as_deref()).collect();
        let ready = |l: &config::Listener| clusters_named(l).all(|c| known.contains(c));
        let mut in_force = BTreeMap::new();
        for (listener, routes) in &self.listeners {
            let hosts = match routes {
                ListenerRoutes::Inline(hosts) => Some(hosts),
                ListenerRoutes::Rds(name) => self.routes.get(name),
            };
            let next = hosts.map(|hosts| config::Listener {
                virtual_hosts: hosts.clone(),
                ..listener.clone()
            });
            let name = listener.name.clone().unwrap_or_default();
            let kept = self.in_force.get(&name).filter(|l| ready(l)).cloned();
            if let Some(l) = next.filter(|l| ready(l)).or(kept) {
                in_force.insert(name, l);
            }
        }
        whole.listeners.extend(in_force.values().cloned());
        let config = Bootstrap::try_from(&whole).map(Arc::new).map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", name_resource(&e.path, &whole, statics), e.message))
                .collect();
            lines.join("; ")
        })?;
        self.in_force = in_force;
        Ok(config)
    }

    /// The ClusterLoadAssignments the dynamic EDS clusters follow.
    pub(crate) fn eds_names(config: &Bootstrap) -> Vec<String> {
        let mut names: Vec<String> = config
            .clusters
            .iter()
            .filter_map(|c| match &c.discovery {
                Discovery::Eds(eds) => Some(eds.service_name.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The RouteConfigurations the dynamic listeners name.
    pub(crate) fn rds_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .listeners
            .iter()
            .filter_map(|(_, routes)| match routes {
                ListenerRoutes::Rds(name) => Some(name.clone()),
                ListenerRoutes::Inline(_) => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Every cluster a listener's routes (or a TCP listener) send traffic to.
fn clusters_named(l: &config::Listener) -> impl Iterator<Item = &str> {
    let actions = l
        .virtual_hosts
        .iter()
        .flat_map(|v| &v.routes)
        .filter_map(|r| r.route.as_ref());
    let routed = actions.flat_map(|a| {
        let weighted = a
            .weighted_clusters
            .iter()
            .flatten()
            .filter_map(|w| w.name.as_deref());
        let mirrors = a
            .request_mirror_policies
            .iter()
            .filter_map(|m| m.cluster.as_deref());
        a.cluster.as_deref().into_iter().chain(weighted).chain(mirrors)
    });
    l.cluster.as_deref().into_iter().chain(routed)
}

/// Every assignment of an EDS response, validated; refused whole if any is bad.
pub(crate) fn assignments(
    resources: &[prost_types::Any],
    version_info: &str,
) -> Result<Vec<(String, EndpointSet)>, Refusal> {
    decode(
        resources,
        type_url::CLUSTER_LOAD_ASSIGNMENT,
        |cla: ClusterLoadAssignment| {
            map::load_assignment(&cla, version_info).map(|set| (cla.cluster_name.clone(), set))
        },
    )
}

fn decode<M, T>(
    resources: &[prost_types::Any],
    type_url: &str,
    map: impl Fn(M) -> Result<T, map::MapError>,
) -> Result<Vec<T>, Refusal>
where
    M: Message + Default,
{
    resources
        .iter()
        .map(|any| {
            if any.type_url != type_url {
                return Err(format!(
                    "a resource of type {} in a {type_url} response",
                    any.type_url
                ));
            }
            let message =
                M::decode(any.value.as_slice()).map_err(|e| format!("undecodable {type_url}: {e}"))?;
            map(message).map_err(|e| e.to_string())
        })
        .collect()
}

/// `clusters[3].lb_policy` → `cluster "payments" (clusters[3]).lb_policy`, so a NACK names
/// the resource the management server sent rather than an index it never saw.
fn name_resource(path: &str, whole: &config::Bootstrap, statics: usize) -> String {
    let indexed = |prefix: &str| -> Option<(usize, &str)> {
        let rest = path.strip_prefix(prefix)?;
        let (i, tail) = rest.split_once(']')?;
        Some((i.parse().ok()?, tail))
    };
    if let Some((i, tail)) = indexed("clusters[") {
        let name = whole
            .clusters
            .get(i)
            .and_then(|c| c.name.as_deref())
            .unwrap_or("?");
        let kind = if i < statics { "static cluster" } else { "cluster" };
        return format!("{kind} {name:?}{tail}");
    }
    if let Some((i, tail)) = indexed("listeners[") {
        let name = whole
            .listeners
            .get(i)
            .and_then(|l| l.name.as_deref())
            .unwrap_or("?");
        return format!("listener {name:?}{tail}");
    }
    path.to_owned()
}
