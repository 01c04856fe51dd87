//! Upstream clusters at run time: endpoints, their connection pools, the balancer.
//!
//! Each endpoint owns its pools (hyper-util's pooling client over a connector that
//! dials only that endpoint), so keep-alive and HTTP/2 multiplexing are per host,
//! as in Envoy. The balancer is the cluster's `lb_policy` picker from mesh-lb over the
//! endpoints; each endpoint's [`Load`] (requests in flight, latency) is shared by the
//! request path and the balancer.

mod balancer;
mod connector;
pub(crate) mod membership;
mod priority;
mod slow_start;
mod zone;

pub use balancer::BalancerError;
pub use connector::ConnectError;

use crate::body::ProxyBody;
use crate::stats::ClusterStats;
use crate::tls::{ClientTls, client_tls};
use arc_swap::{ArcSwap, ArcSwapOption};
use connector::Connector;
use http::Version;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use membership::Pickset;
use mesh_core::policy::{Cluster, UpstreamProtocol};
use mesh_health::{EjectionSnapshot, HealthSnapshot, OutlierRecorder};
use mesh_lb::Load;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::OnceLock;

pub(crate) type HttpClient = Client<Connector, ProxyBody>;

/// All clusters, indexed like `Bootstrap::clusters` (routes hold those indices).
#[derive(Debug)]
pub(crate) struct Upstreams {
    pub(crate) clusters: Vec<ClusterRuntime>,
}

#[derive(Debug)]
pub(crate) struct ClusterRuntime {
    pub(crate) policy: Cluster,
    /// In `policy.endpoints` order; the balancer picks indices into it.
    pub(crate) endpoints: Vec<Endpoint>,
    /// Callers' zones, when zone-aware routing is configured.
    pub(crate) zones: Option<ZoneContext>,
    /// The balancer over the eligible endpoints, republished by the membership task.
    pickset: ArcSwap<Pickset>,
    /// The latest active health snapshot (`None` without health checks).
    pub(crate) health: ArcSwapOption<HealthSnapshot>,
    /// The latest outlier ejections (`None` without outlier detection).
    pub(crate) ejections: ArcSwapOption<EjectionSnapshot>,
    /// Where the request path reports outcomes, when outlier detection is on.
    pub(crate) outlier: OnceLock<OutlierRecorder>,
    /// When each endpoint first turned healthy: slow start ramps re-joins, not the
    /// cluster's first health round (as in Envoy).
    pub(crate) first_healthy: Vec<OnceLock<tokio::time::Instant>>,
    /// Live views of the control loops, for the admin's counters (never the request path).
    pub(crate) health_rx: OnceLock<tokio::sync::watch::Receiver<Arc<HealthSnapshot>>>,
    pub(crate) ejections_rx: OnceLock<tokio::sync::watch::Receiver<Arc<EjectionSnapshot>>>,
    pub(crate) stats: ClusterStats,
}

#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Position in the cluster's endpoint list (how outlier detection names it).
    pub(crate) index: usize,
    pub(crate) addr: SocketAddr,
    /// Requests in flight and latency, read by load-aware balancers and `/clusters`.
    pub(crate) load: Arc<Load>,
    /// Lifetime request outcomes, for `/clusters`.
    pub(crate) outcomes: Outcomes,
    /// HTTP/1.1 pool: `http1` clusters, and upgrades (WebSocket) on every cluster.
    h1: HttpClient,
    /// `http2`: prior knowledge or ALPN h2. `auto`: h2c in cleartext, ALPN choice over TLS.
    h2: Option<HttpClient>,
}

/// Request outcomes of one endpoint: a 5xx response or a failure to get one is an error.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub(crate) total: std::sync::atomic::AtomicU64,
    pub(crate) errors: std::sync::atomic::AtomicU64,
}

impl Outcomes {
    pub(crate) fn record(&self, error: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.total.fetch_add(1, Relaxed);
        if error {
            self.errors.fetch_add(1, Relaxed);
        }
    }
}

/// Which pool a request goes to and the version it must carry there.
pub(crate) struct Pool<'a> {
    pub(crate) client: &'a HttpClient,
    pub(crate) version: Version,
}

impl Endpoint {
    pub(crate) fn pool(
        &self,
        protocol: UpstreamProtocol,
        tls: bool,
        downstream: Version,
        upgrade: bool,
    ) -> Pool<'_> {
        let h1 = Pool {
            client: &self.h1,
            version: Version::HTTP_11,
        };
        let Some(h2) = &self.h2 else { return h1 };
        match protocol {
            _ if upgrade => h1,
            UpstreamProtocol::Http1 => h1,
            UpstreamProtocol::Http2 => Pool {
                client: h2,
                version: Version::HTTP_2,
            },
            // hyper-util switches to HTTP/2 by itself when ALPN picks h2.
            UpstreamProtocol::Auto if tls => Pool {
                client: h2,
                version: Version::HTTP_11,
            },
            UpstreamProtocol::Auto if downstream == Version::HTTP_2 => Pool {
                client: h2,
                version: Version::HTTP_2,
            },
            UpstreamProtocol::Auto => h1,
        }
    }
}

/// Where the callers are: this proxy's zone and how its service spreads over zones
/// (from `cluster_manager.local_cluster_name`), for zone-aware routing.
#[derive(Debug, Clone)]
pub(crate) struct ZoneContext {
    pub(crate) local_zone: String,
    pub(crate) callers: Vec<(String, usize)>,
}

impl Upstreams {
    pub(crate) fn build(
        config: &mesh_core::policy::Bootstrap,
        stats: &crate::stats::Stats,
    ) -> Result<Self, crate::StartError> {
        let local = config.local_cluster.as_ref().map(|c| c.index);
        let zones = config
            .node
            .zone
            .clone()
            .zip(local.and_then(|i| config.clusters.get(i)))
            .map(|(local_zone, c)| {
                let mut callers: Vec<(String, usize)> = Vec::new();
                for e in &c.endpoints {
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
            .enumerate()
            // The local cluster itself is not routed by zone.
            .map(|(i, c)| ClusterRuntime::build(c, stats, zones.clone().filter(|_| Some(i) != local)))
            .collect::<Result<_, _>>()?;
        Ok(Upstreams { clusters })
    }
}

impl ClusterRuntime {
    fn build(
        policy: &Cluster,
        stats: &crate::stats::Stats,
        zones: Option<ZoneContext>,
    ) -> Result<Self, crate::StartError> {
        let tls = policy.tls.as_ref().map(client_tls).transpose()?;
        let endpoints: Vec<Endpoint> = policy
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| Endpoint::build(policy, i, e.address, tls.as_ref()))
            .collect();
        let stats = stats.cluster(&policy.name);
        stats.total.set(endpoints.len() as f64);
        let runtime = ClusterRuntime {
            zones,
            // Replaced by `apply` below before anyone can pick.
            pickset: ArcSwap::from_pointee(Pickset::default()),
            health: ArcSwapOption::empty(),
            ejections: ArcSwapOption::empty(),
            outlier: OnceLock::new(),
            health_rx: OnceLock::new(),
            ejections_rx: OnceLock::new(),
            first_healthy: endpoints.iter().map(|_| OnceLock::new()).collect(),
            policy: policy.clone(),
            endpoints,
            stats,
        };
        // Every endpoint counts as healthy until health says otherwise: this lays out
        // priorities and zones. With checks configured, the first snapshot marks them
        // all unhealthy, which is panic mode until the first checks pass.
        runtime.apply(None, None)?;
        Ok(runtime)
    }

    /// The endpoint for a request; `hash` matters only to consistent-hashing policies.
    pub(crate) fn pick(&self, hash: Option<u64>) -> Option<&Endpoint> {
        let (i, panic) = self.pickset.load().pick(hash)?;
        if panic {
            self.stats.panic.increment(1);
        }
        self.endpoints.get(i)
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
            let _ = recorder.record(endpoint.index, result);
        }
    }

    /// Whether picks depend on a request hash (worth computing one).
    pub(crate) fn wants_hash(&self) -> bool {
        self.policy.lb_policy.is_hashing()
    }
}

impl Endpoint {
    fn build(cluster: &Cluster, index: usize, addr: SocketAddr, tls: Option<&ClientTls>) -> Self {
        let sni = |tls: &ClientTls| {
            tls.sni
                .clone()
                .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()))
        };
        let connector = |config: Option<&Arc<ClientConfig>>| Connector {
            addr,
            timeout: cluster.connect_timeout,
            tls: config.zip(tls).map(|(c, t)| (c.clone(), sni(t))),
        };
        let h1 = client(cluster, connector(tls.map(|t| &t.h1)), false);
        let h2 = match (cluster.protocol, tls) {
            (UpstreamProtocol::Http1, _) => None,
            (UpstreamProtocol::Http2, t) => Some(client(cluster, connector(t.map(|t| &t.h2)), true)),
            (UpstreamProtocol::Auto, None) => Some(client(cluster, connector(None), true)),
            (UpstreamProtocol::Auto, Some(t)) => Some(client(cluster, connector(Some(&t.auto)), false)),
        };
        Endpoint {
            index,
            addr,
            load: balancer::load_for(&cluster.lb_policy),
            outcomes: Outcomes::default(),
            h1,
            h2,
        }
    }
}

fn client(cluster: &Cluster, connector: Connector, http2_only: bool) -> HttpClient {
    let mut builder = Client::builder(TokioExecutor::new());
    builder
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(cluster.idle_timeout)
        // Host/:authority come from the URI we build, which already holds the right value.
        .set_host(false)
        .http2_only(http2_only);
    builder.build(connector)
}
