//! Validated endpoint discovery: where a cluster's endpoints come from, and the endpoints file.
//!
//! Policy: a cluster either lists `endpoints` (static) or names one `discovery` source, never
//! both. Validating the config never reads the endpoints file: it may legitimately not exist
//! yet when `mesh-proxy validate` runs, and at run time its content changes anyway. The file
//! is validated with the same per-endpoint rules as a static list (see
//! [`crate::load::endpoints_file`]), plus unique addresses, because discovery keys endpoints
//! by address.
//!
//! Defaults: `refresh_interval` 1s. A relative `path` is taken from the working directory.
//! The `dns` source's knobs and defaults: see the `//!` doc of `policy/discovery/dns.rs`, and
//! [`DnsDiscovery`].

mod dns;

pub use dns::{
    DEFAULT_DNS_FAILURE_BASE, DEFAULT_DNS_REFRESH_RATE, DnsBackoff, DnsDiscovery, DnsLookupFamily,
};

use super::cluster::{Endpoint, endpoint};
use super::errors::{ConfigError, Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::time::Duration;

/// How often a watched endpoints file is read again unless `refresh_interval` says otherwise.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Where a cluster's endpoints come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discovery {
    /// The cluster's own `endpoints` list, fixed for the life of the configuration.
    #[default]
    Static,
    /// A watched endpoints file (Envoy's filesystem EDS).
    File(FileDiscovery),
    /// The instances of one service in the mesh registry, streamed by long poll.
    Registry(RegistryDiscovery),
    /// A `ClusterLoadAssignment` from the management server (`dynamic_resources.ads`).
    Eds(EdsDiscovery),
    /// Every address a DNS name resolves to (Envoy's STRICT_DNS), resolved again as it changes.
    Dns(DnsDiscovery),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdsDiscovery {
    pub service_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryDiscovery {
    pub address: std::net::SocketAddr,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiscovery {
    /// As written: relative paths are resolved against the proxy's working directory.
    pub path: PathBuf,
    #[serde(with = "serde_str")]
    pub refresh_interval: Duration,
}

/// One version of a discovered cluster's membership.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointSet {
    /// The source's label for this version (the file's `version`), for admin output.
    pub version: Option<String>,
    /// Addresses are unique within a set.
    pub endpoints: Vec<Endpoint>,
}

/// The `discovery` of the cluster at `cluster`.
pub(crate) fn build(raw: &config::Cluster, cluster: &Path, issues: &mut Issues) -> Option<Discovery> {
    let Some(d) = &raw.discovery else {
        return Some(Discovery::Static);
    };
    let path = cluster.key("discovery");
    let before = issues.0.len();
    if !raw.endpoints.is_empty() {
        issues.push(
            &cluster.key("endpoints"),
            "must not be listed when discovery is set: the endpoints come from the discovery source",
        );
    }
    let named = [
        d.file.is_some(),
        d.registry.is_some(),
        d.dns.is_some(),
        d.eds.is_some(),
    ];
    if named.iter().filter(|n| **n).count() != 1 {
        issues.push(&path, "needs exactly one source: file, registry, dns or eds");
        return None;
    }
    let built = match d {
        config::Discovery { file: Some(f), .. } => file(f, &path.key("file"), issues).map(Discovery::File),
        config::Discovery {
            registry: Some(r), ..
        } => registry(r, &path.key("registry"), issues).map(Discovery::Registry),
        config::Discovery { dns: Some(n), .. } => dns::build(n, &path.key("dns"), issues).map(Discovery::Dns),
        config::Discovery { eds: Some(e), .. } => eds(e, raw, &path.key("eds"), issues).map(Discovery::Eds),
        config::Discovery { .. } => None,
    };
    (issues.0.len() == before).then_some(built?)
}

fn eds(
    raw: &config::EdsDiscovery,
    cluster: &config::Cluster,
    path: &Path,
    issues: &mut Issues,
) -> Option<EdsDiscovery> {
    let name = raw.service_name.as_ref().or(cluster.name.as_ref());
    match name {
        Some(n) if !n.is_empty() => Some(EdsDiscovery {
            service_name: n.clone(),
        }),
        _ => {
            issues.push(
                &path.key("service_name"),
                "is empty; name the ClusterLoadAssignment",
            );
            None
        }
    }
}

fn file(raw: &config::FileDiscovery, path: &Path, issues: &mut Issues) -> Option<FileDiscovery> {
    let file_path = issues.required(&raw.path, &path.key("path"));
    if file_path.is_some_and(|p| p.is_empty()) {
        issues.push(&path.key("path"), "is empty; name the endpoints file");
    }
    let interval_path = path.key("refresh_interval");
    let refresh_interval = issues.duration(&raw.refresh_interval, &interval_path, DEFAULT_REFRESH_INTERVAL);
    if refresh_interval.is_zero() {
        issues.push(&interval_path, "must be greater than 0s");
    }
    Some(FileDiscovery {
        path: PathBuf::from(file_path?),
        refresh_interval,
    })
}

fn registry(raw: &config::RegistryDiscovery, path: &Path, issues: &mut Issues) -> Option<RegistryDiscovery> {
    let address = issues.required(&raw.address, &path.key("address")).and_then(|a| {
        let parsed = a.parse().map_err(|_| {
            format!("{a:?} is not a socket address (expected ip:port, e.g. \"127.0.0.1:8500\")")
        });
        issues.check(&path.key("address"), parsed)
    });
    let service = issues.required(&raw.service, &path.key("service"));
    if service.is_some_and(|s| s.is_empty()) {
        issues.push(&path.key("service"), "is empty; name the service");
    }
    Some(RegistryDiscovery {
        address: address?,
        service: service?.clone(),
    })
}

impl TryFrom<&config::EndpointsFile> for EndpointSet {
    type Error = Vec<ConfigError>;

    fn try_from(raw: &config::EndpointsFile) -> Result<Self, Self::Error> {
        let mut issues = Issues::default();
        let list_path = Path::root().key("endpoints");
        let raw_endpoints = issues
            .required(&raw.endpoints, &list_path)
            .map_or(&[][..], Vec::as_slice);
        let mut seen = HashMap::with_capacity(raw_endpoints.len());
        let mut endpoints = Vec::with_capacity(raw_endpoints.len());
        for (i, e) in raw_endpoints.iter().enumerate() {
            let p = list_path.idx(i);
            let Some(e) = endpoint(e, &p, &mut issues) else {
                continue;
            };
            match seen.entry(e.address) {
                Entry::Vacant(v) => {
                    v.insert(i);
                }
                Entry::Occupied(first) => issues.push(
                    &p.key("address"),
                    format!("{} is also endpoints[{}]'s address", e.address, first.get()),
                ),
            }
            endpoints.push(e);
        }
        if issues.0.is_empty() {
            Ok(EndpointSet {
                version: raw.version.clone(),
                endpoints,
            })
        } else {
            Err(issues.0)
        }
    }
}
