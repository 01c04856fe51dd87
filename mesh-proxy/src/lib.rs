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
pub mod logging;
mod otel;
mod reload;
mod stats;
mod tcp;
mod tls;
mod unenforced;
mod upstream;

pub use admin::LogControl;
pub use body::{ProxyBody, ResponseTimeout};
pub use drain::DrainOutcome;
pub use reload::ReloadError;
pub use reload::trigger::{ConfigWatch, DEFAULT_WATCH_INTERVAL};
pub use stats::names as stat_names;
pub use tls::TlsConfigError;
pub use upstream::{BalancerError, ConnectError};

use mesh_core::policy::Bootstrap;
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
    /// The OTLP span exporter could not be built.
    #[error("tracing.otlp: {0}")]
    Tracing(String),
    #[error("{scope}: {key} is valid configuration but this proxy does not enforce it yet")]
    NotEnforced { scope: String, key: &'static str },
    /// An access log's file could not be opened for appending.
    #[error("access log {path:?}: {source}")]
    AccessLog { path: String, source: std::io::Error },
}

/// A started proxy. Dropping it leaves the proxy running until the runtime stops;
/// call [`Running::shutdown`] to drain it.
#[derive(Debug)]
pub struct Running {
    runtime: Arc<reload::Runtime>,
    admin_addr: SocketAddr,
    draining: Arc<AtomicBool>,
    /// Also owns the runtime (and so the clusters' control loops), so the proxy lives
    /// past a dropped `Running`, until `shutdown`.
    admin_task: JoinHandle<()>,
}

impl Running {
    /// The bound address of listener `name` (useful with port 0) in the configuration
    /// in force.
    pub fn listener_addr(&self, name: &str) -> Option<SocketAddr> {
        self.runtime.current.load().listener_addr(name)
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The version of the configuration in force: 1 at start, one more per applied reload.
    pub fn config_version(&self) -> u64 {
        self.runtime.current.load().version
    }

    /// Puts `config` in force without dropping a request (see the `reload` module), or
    /// refuses it, logged and counted, and keeps the configuration in force. Returns the
    /// new version. Under `dynamic_resources` the file's static part is handed to the xDS
    /// client, which merges and applies it shortly after; the version returned is then the
    /// one still in force.
    pub async fn reload(&self, config: &Bootstrap) -> Result<u64, ReloadError> {
        self.runtime.reload(config).await
    }

    /// Reloads from `path` whenever its content changes and on `SIGHUP`, for as long as
    /// the returned handle lives.
    pub fn watch_config(&self, path: impl Into<std::path::PathBuf>, interval: Duration) -> ConfigWatch {
        reload::trigger::spawn(&self.runtime, path.into(), interval)
    }

    /// Stops accepting, lets in-flight requests finish for up to the configured
    /// `drain_timeout`, closes what is left, then stops the admin listener.
    pub async fn shutdown(self) -> DrainOutcome {
        self.draining.store(true, Ordering::Relaxed);
        let outcome = self.runtime.shutdown().await;
        self.admin_task.abort();
        outcome
    }
}

/// What an embedder may add to a proxy beside its configuration.
#[derive(Debug, Default)]
pub struct StartOptions {
    /// Lets `/logging` change the log filter (the binary passes its subscriber's).
    pub log: Option<Arc<dyn LogControl>>,
}

/// Binds every listener and the admin, then starts serving. All binds happen
/// before anything is spawned, so a failure leaves nothing half-started.
pub async fn start(config: Bootstrap) -> Result<Running, StartError> {
    start_with(config, StartOptions::default()).await
}

/// [`start`] with [`StartOptions`].
pub async fn start_with(config: Bootstrap, options: StartOptions) -> Result<Running, StartError> {
    let admin_listener = TcpListener::bind(config.admin.address)
        .await
        .and_then(|l| Ok((l.local_addr()?, l)));
    let (admin_addr, admin_listener) = admin_listener.map_err(|source| StartError::Bind {
        name: "admin".into(),
        address: config.admin.address,
        source,
    })?;
    let stats = stats::Stats::new();
    stats.start_flush(config.stats_flush_interval);
    let runtime = reload::Runtime::start(&config, stats).await?;
    let draining = Arc::new(AtomicBool::new(false));
    let admin = Arc::new(admin::Admin {
        runtime: runtime.clone(),
        draining: draining.clone(),
        health_failed: AtomicBool::new(false),
        started: std::time::Instant::now(),
        log: options.log,
    });
    let admin_task = tokio::spawn(admin.run(admin_listener));
    tracing::info!(address = %admin_addr, "admin listening");

    Ok(Running {
        runtime,
        admin_addr,
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
