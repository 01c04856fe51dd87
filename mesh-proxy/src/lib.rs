//! mesh-proxy: listeners, routing, upstream pools, admin, drain.
//!
//! The library half of the `mesh-proxy` binary, so tests and embedders can run a
//! real proxy in process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = mesh_core::load::load_file("mesh.yaml")?;
//! let proxy = mesh_proxy::start(config).await?;
//! println!("web listener on {:?}", proxy.listener_addr("web"));
//! proxy.shutdown().await; // drain in-flight requests, then stop
//! # Ok(()) }
//! ```
//!
//! Data path: [`listener`] accepts and speaks HTTP/1.1, h2c or TLS (ALPN) →
//! [`http`] validates framing, routes, rewrites → [`upstream`] picks an endpoint
//! and a pooled connection → the response streams back. Failures become responses
//! in one place, `http::local_reply`.

mod accept;
mod admin;
mod body;
mod drain;
mod framing;
mod handler;
mod idle;
mod listener;
mod live_stats;
mod stats;
mod tcp;
mod tls;
mod unenforced;
mod upstream;

pub use body::{ProxyBody, ResponseTimeout};
pub use drain::DrainOutcome;
pub use stats::names as stat_names;
pub use tls::TlsConfigError;
pub use upstream::{BalancerError, ConnectError};

use mesh_core::policy::{Bootstrap, ListenerKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Why the proxy could not start. Nothing is left running when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("listener {name:?}: cannot bind {address}: {source}")]
    Bind {
        name: String,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("listener {name:?}: {source}")]
    ListenerTls { name: String, source: TlsConfigError },
    #[error("cluster TLS: {0}")]
    ClusterTls(#[from] TlsConfigError),
    #[error(transparent)]
    Balancer(#[from] upstream::BalancerError),
    /// A cluster's discovery source could not give its first endpoint set.
    #[error("cluster {cluster:?}: {source}")]
    Discovery {
        cluster: String,
        source: mesh_core::policy::InvalidConfig,
    },
    /// A cluster's registry source could not be set up.
    #[error("cluster {cluster:?}: registry discovery: {reason}")]
    Registry { cluster: String, reason: String },
    /// A cluster's DNS source could not be set up (the system's resolver config is unreadable).
    #[error("cluster {cluster:?}: dns discovery: {reason}")]
    Dns { cluster: String, reason: String },
    /// A valid key this proxy cannot honour yet; refusing beats silently ignoring it.
    #[error("{scope}: {key} is valid configuration but this proxy does not enforce it yet")]
    NotEnforced { scope: String, key: &'static str },
}

/// A started proxy. Dropping it leaves the proxy running until the runtime stops;
/// call [`Running::shutdown`] to drain it.
#[derive(Debug)]
pub struct Running {
    listeners: Vec<(String, SocketAddr)>,
    admin_addr: SocketAddr,
    drain: drain::Signal,
    drain_timeout: Duration,
    draining: Arc<AtomicBool>,
    /// Also owns the clusters' control loops (health checks, outlier detection), so they
    /// live exactly as long as the proxy: past a dropped `Running`, until `shutdown`.
    admin_task: JoinHandle<()>,
}

impl Running {
    /// The bound address of listener `name` (useful with port 0).
    pub fn listener_addr(&self, name: &str) -> Option<SocketAddr> {
        self.listeners.iter().find(|(n, _)| n == name).map(|(_, a)| *a)
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Stops accepting, lets in-flight requests finish for up to the configured
    /// `drain_timeout`, closes what is left, then stops the admin listener.
    pub async fn shutdown(self) -> DrainOutcome {
        self.draining.store(true, Ordering::Relaxed);
        let outcome = self.drain.drain(self.drain_timeout).await;
        self.admin_task.abort();
        outcome
    }
}

async fn bind(name: &str, address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Bind {
            name: name.to_owned(),
            address,
            source,
        })
}

/// Binds every listener and the admin, then starts serving. All binds happen
/// before anything is spawned, so a failure leaves nothing half-started.
pub async fn start(config: Bootstrap) -> Result<Running, StartError> {
    unenforced::refuse(&config)?;
    let stats = stats::Stats::new();
    let (upstreams, discovered) = upstream::Upstreams::build(&config, &stats)?;
    let upstreams = Arc::new(upstreams);
    let controls = upstream::membership::start(&upstreams, discovered);

    let mut bound = Vec::with_capacity(config.listeners.len());
    for l in &config.listeners {
        let tls = match &l.tls {
            Some(t) => Some(tls::server_config(t).map_err(|source| StartError::ListenerTls {
                name: l.name.clone(),
                source,
            })?),
            None => None,
        };
        // Built before anything is spawned, so a refusal leaves nothing half-started.
        let admission = accept::Admission::build(l, &stats)?;
        let filters = match &l.kind {
            ListenerKind::Http(h) => handler::RouteFilters::build(&l.name, h, &stats)?,
            ListenerKind::Tcp(_) => handler::RouteFilters::none(),
        };
        bound.push((l, bind(&l.name, l.address).await?, tls, admission, filters));
    }
    let admin_listener = bind("admin", config.admin.address).await?;
    let admin_addr = admin_listener.local_addr().map_err(|source| StartError::Bind {
        name: "admin".into(),
        address: config.admin.address,
        source,
    })?;

    let (signal, watch) = drain::channel();
    let mut listeners = Vec::with_capacity(bound.len());
    for (l, tcp, tls, admission, filters) in bound {
        let local = tcp.local_addr().unwrap_or(l.address);
        listeners.push((l.name.clone(), local));
        tracing::info!(listener = %l.name, address = %local, "listening");
        match &l.kind {
            ListenerKind::Http(h) => {
                let router = handler::Router::new(
                    h.clone(),
                    filters,
                    upstreams.clone(),
                    stats.listener(&l.name),
                    watch.clone(),
                );
                let server = Arc::new(listener::HttpServer::new(Arc::new(router), tls, &h.options));
                let serve = move |s, peer, w| server.clone().serve(s, peer, w);
                tokio::spawn(accept::accept_loop(tcp, watch.clone(), admission, serve));
            }
            ListenerKind::Tcp(t) => {
                let proxy = Arc::new(tcp::TcpProxy {
                    upstreams: upstreams.clone(),
                    cluster: t.cluster.index,
                    tls,
                    idle_timeout: t.idle_timeout,
                    connections: stats.plain(stats::names::TCP_UPSTREAM_CX, ("listener", &l.name)),
                });
                let serve = move |s, peer, w| proxy.clone().serve(s, peer, w);
                tokio::spawn(accept::accept_loop(tcp, watch.clone(), admission, serve));
            }
        }
    }
    drop(watch);

    let draining = Arc::new(AtomicBool::new(false));
    let admin = Arc::new(admin::Admin {
        stats,
        upstreams,
        config_dump: serde_json::to_string_pretty(&config)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        draining: draining.clone(),
    });
    let admin_task = tokio::spawn(admin.run(admin_listener, controls));
    tracing::info!(address = %admin_addr, "admin listening");

    Ok(Running {
        listeners,
        admin_addr,
        drain: signal,
        drain_timeout: config.drain_timeout,
        draining,
        admin_task,
    })
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
