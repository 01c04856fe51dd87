//! One upstream host at run time: its connection pools, its load record and its request
//! outcomes. An endpoint outlives membership changes that keep its address, so its
//! pooled connections, in-flight counts and latency survive discovery updates.

use super::balancer;
use super::connector::Connector;
use crate::body::ProxyBody;
use crate::tls::ClientTls;
use http::Version;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use mesh_core::policy::{Cluster, UpstreamProtocol};
use mesh_filters::circuit_breaker::Breaker;
use mesh_lb::Load;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

pub(crate) type HttpClient = Client<Connector, ProxyBody>;

#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) addr: SocketAddr,
    /// Requests in flight and latency, read by load-aware balancers and `/clusters`.
    pub(crate) load: Arc<Load>,
    /// Lifetime request outcomes, for `/clusters`.
    pub(crate) outcomes: Outcomes,
    /// When discovery added this host to a running cluster; `None` for the members the
    /// cluster started with. Slow start ramps late joiners (Envoy's new hosts) but not
    /// the cluster's first members.
    pub(crate) joined: Option<Instant>,
    /// When the host first turned healthy: slow start ramps re-joins, not a first
    /// member's first health round.
    pub(crate) first_healthy: OnceLock<Instant>,
    /// HTTP/1.1 pool: `http1` clusters, and upgrades (WebSocket) on every cluster.
    h1: HttpClient,
    /// `http2`: prior knowledge or ALPN h2. `auto`: h2c in cleartext, ALPN choice over TLS.
    h2: Option<HttpClient>,
}

/// Request outcomes of one endpoint: a 5xx response or a failure to get one is an error.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub(crate) total: AtomicU64,
    pub(crate) errors: AtomicU64,
}

impl Outcomes {
    pub(crate) fn record(&self, error: bool) {
        self.total.fetch_add(1, Relaxed);
        if error {
            self.errors.fetch_add(1, Relaxed);
        }
    }

    /// `(total, errors)` so far.
    pub(crate) fn read(&self) -> (u64, u64) {
        // Errors first: a request counted in between only makes `total` larger.
        let errors = self.errors.load(Relaxed);
        (self.total.load(Relaxed).max(errors), errors)
    }
}

/// Which pool a request goes to and the version it must carry there.
pub(crate) struct Pool<'a> {
    pub(crate) client: &'a HttpClient,
    pub(crate) version: Version,
}

impl Endpoint {
    pub(crate) fn build(
        cluster: &Cluster,
        addr: SocketAddr,
        tls: Option<&ClientTls>,
        connections: &Breaker,
        cx: &crate::stats::UpstreamCx,
        joined: Option<Instant>,
    ) -> Self {
        let sni = |tls: &ClientTls| {
            tls.sni
                .clone()
                .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()))
        };
        let connector = |config: Option<&Arc<ClientConfig>>| Connector {
            addr,
            timeout: cluster.connect_timeout,
            tls: config.zip(tls).map(|(c, t)| (c.clone(), sni(t))),
            connections: connections.clone(),
            cx: cx.clone(),
        };
        let h1 = client(cluster, connector(tls.map(|t| &t.h1)), false);
        let h2 = match (cluster.protocol, tls) {
            (UpstreamProtocol::Http1, _) => None,
            (UpstreamProtocol::Http2, t) => Some(client(cluster, connector(t.map(|t| &t.h2)), true)),
            (UpstreamProtocol::Auto, None) => Some(client(cluster, connector(None), true)),
            (UpstreamProtocol::Auto, Some(t)) => Some(client(cluster, connector(Some(&t.auto)), false)),
        };
        Endpoint {
            addr,
            load: balancer::load_for(&cluster.lb_policy),
            outcomes: Outcomes::default(),
            joined,
            first_healthy: OnceLock::new(),
            h1,
            h2,
        }
    }

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
