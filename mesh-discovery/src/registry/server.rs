//! The accept loop: one task per connection, all owned by the loop so stopping it ends them.

use super::api::Registry;
use super::store::Store;
use crate::xds::{AdsHandle, AdsStats};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, warn};

/// A running registry server; dropping it (or [`RegistryHandle::stop`]) stops it, xDS included.
#[derive(Debug)]
pub struct RegistryHandle {
    pub(super) local_addr: SocketAddr,
    pub(super) tasks: Vec<JoinHandle<()>>,
    pub(super) xds: Option<AdsHandle>,
}

impl RegistryHandle {
    /// Where the API listens (the port the OS chose for `127.0.0.1:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where xDS (ADS) listens, when the registry serves it.
    pub fn xds_addr(&self) -> Option<SocketAddr> {
        self.xds.as_ref().map(AdsHandle::local_addr)
    }

    /// The xDS server's counters, when the registry serves it.
    pub fn xds_stats(&self) -> Option<&AdsStats> {
        self.xds.as_ref().map(AdsHandle::stats)
    }

    /// Stops the server, dropping open connections and long polls, and the sweep.
    pub fn stop(self) {}
}

impl Drop for RegistryHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub(super) async fn accept<S: Store>(registry: Arc<Registry<S>>, listener: TcpListener) {
    // The connections live in the accept task's set, so aborting that task ends them all.
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next() => continue,
        };
        let _ = stream.set_nodelay(true);
        let registry = Arc::clone(&registry);
        let service = hyper::service::service_fn(move |request| {
            let registry = Arc::clone(&registry);
            async move { Ok::<_, std::convert::Infallible>(registry.handle(request).await) }
        });
        connections.spawn(async move {
            let conn =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                debug!(%peer, "connection ended: {e}");
            }
        });
    }
}
