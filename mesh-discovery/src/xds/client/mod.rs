//! The proxy's xDS client: listeners, routes, clusters and endpoints from a management
//! server over one ADS stream (state of the world), mapped onto the same mesh-core policy
//! as the YAML file.
//!
//! Policy: on connecting it asks for every cluster (CDS) and listener (LDS); the EDS and RDS
//! names follow from what those name. Each CDS, LDS or RDS response is mapped (see
//! [`map`](super::map)), merged into the static configuration (the file's listeners and
//! clusters stay) and validated whole with mesh-core; then it is ACKed (the request repeats
//! the response's `version_info` and nonce) and the new configuration is published.
//! Anything that fails is NACKed — the request keeps the last accepted `version_info`, and
//! `error_detail` says which resource and why — and the previous configuration keeps
//! serving. EDS assignments are published per cluster on [`EdsSets`] without rebuilding the
//! configuration. Warming: a new EDS cluster waits for its first assignment before the
//! configuration using it is put in force (the proxy does that, up to
//! `initial_fetch_timeout`), and a listener whose routes come from RDS joins once they arrive.
//!
//! ```text
//!   Connecting ── stream open ──▶ Streaming: send CDS+LDS (+EDS/RDS names, last versions)
//!   Streaming ── response ok ───▶ ACK, publish; EDS/RDS names changed → ask for them
//!   Streaming ── response bad ──▶ NACK (last good version, error_detail); keep serving
//!   Streaming ── stream error ──▶ Backoff(n) ── full jitter(100ms·2ⁿ, 30s) ──▶ Connecting
//! ```
//!
//! Failure: a management server that is down or goes away changes nothing that was
//! accepted; the client reconnects with jittered backoff and asks again with the versions it
//! has, so the server may answer only what changed. Dropping the [`XdsHandle`] stops it.

mod ads;
mod eds_sets;
mod resources;
#[cfg(test)]
mod tests;

pub use eds_sets::EdsSets;

use mesh_core::config;
use mesh_core::policy::Bootstrap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Who this proxy is and where its management server is.
#[derive(Debug, Clone)]
pub struct XdsOptions {
    pub server: SocketAddr,
    pub node_id: String,
    pub node_cluster: String,
    pub zone: Option<String>,
    /// The first reconnect's backoff ceiling. Default 100ms.
    pub backoff_base: Duration,
    /// The highest backoff ceiling. Default 30s.
    pub backoff_max: Duration,
}

impl XdsOptions {
    /// For the proxy configured by `config` (its node and `dynamic_resources.ads`).
    pub fn for_config(config: &Bootstrap) -> Option<XdsOptions> {
        let ads = &config.dynamic_resources.as_ref()?.ads;
        Some(XdsOptions {
            server: ads.address,
            node_id: config.node.id.clone().unwrap_or_default(),
            node_cluster: config.node.cluster.clone().unwrap_or_default(),
            zone: config.node.zone.clone(),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
        })
    }
}

/// Counts, for admin and tests.
#[derive(Debug, Default)]
pub struct XdsStats {
    accepted: AtomicU64,
    rejected: AtomicU64,
    connects: AtomicU64,
}

impl XdsStats {
    /// Responses ACKed (every type).
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Responses NACKed (every type).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Streams opened (the first, then one per reconnect).
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }
}

/// A running client. Dropping it stops the stream; receivers keep the last values.
#[derive(Debug)]
pub struct XdsHandle {
    /// The whole configuration in force: `None` until the server's first accepted answer.
    pub configs: watch::Receiver<Option<Arc<Bootstrap>>>,
    /// Endpoint sets per EDS service name.
    pub endpoints: EdsSets,
    /// Replace the static part (a reloaded file) the dynamic resources are merged into.
    base: watch::Sender<Arc<config::Bootstrap>>,
    stats: Arc<XdsStats>,
    task: tokio::task::JoinHandle<()>,
}

impl XdsHandle {
    pub fn stats(&self) -> &Arc<XdsStats> {
        &self.stats
    }

    /// Merges the dynamic resources into `base` from now on (the file was reloaded); the
    /// result is published like any other change.
    pub fn set_base(&self, base: Arc<config::Bootstrap>) {
        self.base.send_replace(base);
    }
}

impl Drop for XdsHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the client over the static configuration `base`. Must run inside a tokio runtime.
pub fn start(options: XdsOptions, base: Arc<config::Bootstrap>) -> XdsHandle {
    let (configs_tx, configs) = watch::channel(None);
    let (base_tx, base_rx) = watch::channel(base);
    let endpoints = EdsSets::default();
    let stats = Arc::new(XdsStats::default());
    let client = ads::Client::new(options, base_rx, configs_tx, endpoints.clone(), stats.clone());
    XdsHandle {
        configs,
        endpoints,
        base: base_tx,
        stats,
        task: tokio::spawn(client.run()),
    }
}
