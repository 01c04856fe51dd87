//! Validated policy: what the rest of mesh consumes.
//!
//! Built from [`crate::config`] shapes by [`Bootstrap::try_from`], which checks the
//! whole document and returns every mistake with its key path. Once built, values
//! are known good (addresses parse, durations are positive where they must be,
//! cluster references resolve), so the data path never re-validates.

pub mod access_log;
mod cidr;
mod circuit_breaker;
mod cluster;
mod discovery;
mod dynamic;
mod errors;
mod fault;
mod headers;
mod health;
mod lb;
mod listener;
mod mirror;
mod outlier;
mod percent;
mod rate_limit;
mod request_id;
mod retry;
mod retry_on;
mod route;
mod route_action;
mod route_build;
mod route_match_build;
mod serde_helpers;
mod trace;

pub use access_log::{AccessLog, LogPath};
pub use cidr::{Cidr, InvalidCidr};
pub use circuit_breaker::{CircuitBreakers, RetryBudget, RoutingPriority, Thresholds};
pub use cluster::*;
pub use discovery::*;
pub use dynamic::{AdsSource, DEFAULT_INITIAL_FETCH_TIMEOUT, DynamicResources};
pub use errors::{ConfigError, InvalidConfig};
pub use fault::{AbortSource, DelaySource, Fault, FaultAbort, FaultDelay};
pub use headers::{HeaderAdd, HeaderMutations};
pub use health::*;
pub use lb::*;
pub use listener::*;
pub use mirror::MirrorPolicy;
pub use outlier::*;
pub use percent::Percent;
pub use rate_limit::TokenBucket;
pub use request_id::RequestIdOptions;
pub use retry::*;
pub use retry_on::{Condition, RetryOn};
pub use route::*;
pub use trace::{
    DEFAULT_OTLP_TIMEOUT, DEFAULT_RANDOM_SAMPLING, DEFAULT_SERVICE_NAME, ListenerTracing, Otlp, Tracing,
};

pub(crate) use route_build::build_virtual_hosts;

use crate::config;
use crate::duration::serde_str;
use errors::{Issues, Path};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_ADMIN_ADDRESS: &str = "127.0.0.1:9901";
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Envoy's default `stats_flush_interval`.
pub const DEFAULT_STATS_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// Envoy's bounds on `stats_flush_interval`.
const STATS_FLUSH_INTERVAL_RANGE: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(300));

/// A whole, valid configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Bootstrap {
    pub node: Node,
    /// Envoy's `cluster_manager.local_cluster_name`, resolved: the cluster of this
    /// service's own proxies, whose zones drive zone-aware routing.
    pub local_cluster: Option<ClusterRef>,
    pub admin: Admin,
    #[serde(with = "serde_str")]
    pub drain_timeout: Duration,
    /// The span of the admin's interval quantiles (Envoy's `stats_flush_interval`).
    #[serde(with = "serde_str")]
    pub stats_flush_interval: Duration,
    pub listeners: Vec<Listener>,
    pub clusters: Vec<Cluster>,
    /// Listeners and clusters from a management server, beside the static ones.
    pub dynamic_resources: Option<DynamicResources>,
    /// The OTLP exporter; `None`: the proxy records no spans.
    pub tracing: Option<Tracing>,
    /// The document this was validated from: the xDS client merges what the management
    /// server sends into it and validates the whole again, so both front doors share one
    /// set of rules.
    #[serde(skip)]
    pub source: std::sync::Arc<crate::config::Bootstrap>,
}

/// Where this proxy runs; `zone` drives zone-aware routing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Node {
    pub id: Option<String>,
    pub cluster: Option<String>,
    pub zone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Admin {
    pub address: SocketAddr,
}

/// A resolved reference to `Bootstrap::clusters[index]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterRef {
    pub name: String,
    #[serde(skip)]
    pub index: usize,
}

impl TryFrom<&config::Bootstrap> for Bootstrap {
    type Error = Vec<ConfigError>;

    fn try_from(raw: &config::Bootstrap) -> Result<Self, Self::Error> {
        let mut issues = Issues::default();
        let root = Path::root();
        let admin_path = root.key("admin").key("address");
        let admin_addr = raw
            .admin
            .as_ref()
            .and_then(|a| a.address.as_deref())
            .unwrap_or(DEFAULT_ADMIN_ADDRESS);
        let admin = issues
            .check(&admin_path, socket_addr(admin_addr))
            .map(|address| Admin { address });
        let drain_timeout = issues.duration(
            &raw.drain_timeout,
            &root.key("drain_timeout"),
            DEFAULT_DRAIN_TIMEOUT,
        );
        let flush_path = root.key("stats_flush_interval");
        let stats_flush_interval = issues.duration(
            &raw.stats_flush_interval,
            &flush_path,
            DEFAULT_STATS_FLUSH_INTERVAL,
        );
        let (least, most) = STATS_FLUSH_INTERVAL_RANGE;
        if raw.stats_flush_interval.is_some() && !(least..=most).contains(&stats_flush_interval) {
            issues.push(&flush_path, "must be from 1ms to 5m");
        }

        let clusters_path = root.key("clusters");
        let mut clusters = Vec::with_capacity(raw.clusters.len());
        let mut index = ClusterIndex::default();
        for (i, c) in raw.clusters.iter().enumerate() {
            let p = clusters_path.idx(i);
            if let Some(name) = &c.name
                && index.names.insert(name.as_str(), i).is_some()
            {
                issues.push(&p.key("name"), format!("{name:?} names another cluster too"));
            }
            if let Some(built) = cluster::build(c, &p, &mut issues) {
                clusters.push(built);
            }
        }

        let tracing = trace::build(raw, &mut issues);
        let listeners_path = root.key("listeners");
        let mut listeners = Vec::with_capacity(raw.listeners.len());
        let mut names = HashMap::new();
        let mut addresses = HashMap::new();
        for (i, l) in raw.listeners.iter().enumerate() {
            let p = listeners_path.idx(i);
            if let Some(built) = listener::build(l, &p, &index, raw.tracing.is_some(), &mut issues) {
                if names.insert(built.name.clone(), i).is_some() {
                    issues.push(
                        &p.key("name"),
                        format!("{:?} names another listener too", built.name),
                    );
                }
                // Port 0 asks the OS for a fresh port, so it never collides.
                if built.address.port() != 0
                    && let Some(other) = addresses.insert(built.address, i)
                {
                    issues.push(
                        &p.key("address"),
                        format!("{} is also listeners[{other}]'s address", built.address),
                    );
                }
                listeners.push(built);
            }
        }
        let local_path = root.key("cluster_manager").key("local_cluster_name");
        let local_cluster = raw
            .cluster_manager
            .as_ref()
            .and_then(|m| m.local_cluster_name.as_deref())
            .and_then(|name| index.resolve(name, &local_path, &mut issues));
        let dynamic_resources = dynamic::build(raw, &mut issues);
        dynamic::check_eds(&clusters, raw, &mut issues);
        match (issues.0.is_empty(), admin) {
            (true, Some(admin)) => {
                let node = raw.node.as_ref().map_or_else(Node::default, |n| Node {
                    id: n.id.clone(),
                    cluster: n.cluster.clone(),
                    zone: n.zone.clone(),
                });
                Ok(Bootstrap {
                    local_cluster,
                    node,
                    admin,
                    drain_timeout,
                    stats_flush_interval,
                    listeners,
                    clusters,
                    dynamic_resources,
                    tracing,
                    source: std::sync::Arc::new(raw.clone()),
                })
            }
            _ => Err(issues.0),
        }
    }
}

/// Cluster names of the document, for resolving references from routes and listeners.
#[derive(Debug, Default)]
pub(crate) struct ClusterIndex<'a> {
    names: HashMap<&'a str, usize>,
}

impl ClusterIndex<'_> {
    pub(crate) fn resolve(&self, name: &str, path: &Path, issues: &mut Issues) -> Option<ClusterRef> {
        match self.names.get(name) {
            Some(&index) => Some(ClusterRef {
                name: name.to_owned(),
                index,
            }),
            None => {
                issues.push(path, format!("{name:?} is not a cluster defined under clusters"));
                None
            }
        }
    }
}

pub(crate) fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a socket address (expected ip:port, e.g. \"127.0.0.1:8080\")"))
}

/// Checks a file named in config can be opened now, so a typo is a config error
/// with its key path rather than a start-up failure later.
pub(crate) fn readable_file(f: &str, path: &Path, issues: &mut Issues) -> Option<PathBuf> {
    // Opening a directory succeeds on Unix, so ask what was opened.
    match std::fs::File::open(f).and_then(|file| file.metadata()) {
        Ok(meta) if meta.is_dir() => {
            issues.push(path, format!("{f:?} is a directory, not a file"));
            None
        }
        Ok(_) => Some(PathBuf::from(f)),
        Err(e) => {
            issues.push(path, format!("cannot read {f:?}: {e}"));
            None
        }
    }
}
