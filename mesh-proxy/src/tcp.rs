//! TCP proxying: each downstream connection gets a fresh upstream connection to an
//! endpoint of the listener's cluster, and bytes are copied both ways. A half-close
//! (FIN) on either side is passed on, so request/response protocols that signal
//! "done sending" by shutting down their write side keep working.

use crate::drain;
use crate::idle::{Activity, IdleIo, idle_or_forever};
use crate::upstream::ClusterRuntime;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

#[derive(Debug)]
pub(crate) struct TcpProxy {
    pub(crate) upstreams: Arc<crate::upstream::Upstreams>,
    pub(crate) cluster: usize,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) connections: metrics::Counter,
}

impl TcpProxy {
    fn cluster(&self) -> Option<&ClusterRuntime> {
        self.upstreams.clusters.get(self.cluster).map(|c| &**c)
    }

    pub(crate) async fn serve(self: Arc<Self>, tcp: TcpStream, peer: SocketAddr, drain: drain::Watch) {
        let activity = Activity::new();
        let io = IdleIo::new(tcp, activity.clone());
        match &self.tls {
            None => self.splice(io, peer, &activity, drain).await,
            Some(config) => {
                let handshake = TlsAcceptor::from(config.clone()).accept(io);
                match tokio::time::timeout(crate::listener::TLS_HANDSHAKE_TIMEOUT, handshake).await {
                    Ok(Ok(tls)) => self.splice(tls, peer, &activity, drain).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    }

    async fn splice<D>(
        &self,
        mut downstream: D,
        peer: SocketAddr,
        activity: &Activity,
        mut drain: drain::Watch,
    ) where
        D: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(cluster) = self.cluster() else { return };
        // The session holds one of the cluster's connection slots (`max_connections`).
        let breaker = cluster.breakers.get(mesh_core::policy::RoutingPriority::Default);
        let _slot = match breaker.try_connection() {
            Ok(slot) => slot,
            Err(open) => {
                let open = cluster.overflowed(open);
                return tracing::debug!(%peer, cluster = %cluster.policy.name, %open, "overflow; closing");
            }
        };
        // No request to hash here: hashing policies get a random point.
        let Some(endpoint) = cluster.pick(None) else {
            cluster.stats.no_healthy.increment(1);
            return tracing::debug!(%peer, cluster = %cluster.policy.name, "no healthy upstream; closing");
        };
        let connect = tokio::time::timeout(cluster.policy.connect_timeout, TcpStream::connect(endpoint.addr));
        let mut upstream = match connect.await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                cluster.record(&endpoint, mesh_health::RequestResult::ConnectFailed);
                return tracing::debug!(%peer, upstream = %endpoint.addr, error = %e, "upstream connect failed");
            }
            Err(_) => {
                cluster.record(&endpoint, mesh_health::RequestResult::ConnectFailed);
                return tracing::debug!(%peer, upstream = %endpoint.addr, "upstream connect timed out");
            }
        };
        let _ = upstream.set_nodelay(true);
        cluster.record(&endpoint, mesh_health::RequestResult::Connected);
        let _in_flight = endpoint.load.start(tokio::time::Instant::now().into_std());
        self.connections.increment(1);
        tokio::select! {
            result = tokio::io::copy_bidirectional(&mut downstream, &mut upstream) => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "tcp session ended with an error");
                }
            }
            () = idle_or_forever(activity, self.idle_timeout) => tracing::debug!(%peer, "tcp idle timeout"),
            () = drain.closing() => tracing::debug!(%peer, "tcp session closed by drain timeout"),
        }
    }
}
