//! The ADS gRPC service over a [`SnapshotCache`]: one [`AdsStream`] per client stream, fed by
//! the client's requests and the cache's snapshots, in one `select!` loop per stream.
//!
//! Failure: a request without a type URL ends that stream with `INVALID_ARGUMENT`; a client
//! that goes away ends its stream; nothing a client sends affects another stream. Dropping the
//! [`AdsHandle`] (or the [`SnapshotCache`]) ends every stream with `UNAVAILABLE`, so clients
//! reconnect, and stops the listener.

use super::api::envoy::service::discovery::v3::aggregated_discovery_service_server::{
    AggregatedDiscoveryService, AggregatedDiscoveryServiceServer,
};
use super::api::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use super::api::type_url;
use super::snapshot::{Snapshot, SnapshotCache};
use super::stream::AdsStream;
use super::subscriptions::Subscriptions;
use futures_util::Stream;
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, warn};

/// Counters of an ADS server, for tests and admin.
#[derive(Debug, Default)]
pub struct AdsStats {
    pub(crate) streams: AtomicU64,
    pub(crate) responses: AtomicU64,
    pub(crate) nacks: AtomicU64,
}

impl AdsStats {
    /// Streams opened so far.
    pub fn streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }

    /// Responses sent so far, on every stream.
    pub fn responses(&self) -> u64 {
        self.responses.load(Ordering::Relaxed)
    }

    /// Responses that clients rejected (requests carrying `error_detail`).
    pub fn nacks(&self) -> u64 {
        self.nacks.load(Ordering::Relaxed)
    }
}

/// The ADS service (state of the world; delta xDS is not served).
#[derive(Debug, Clone)]
pub struct AdsServer {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    wildcard_types: Arc<BTreeSet<String>>,
    stats: Arc<AdsStats>,
    subscriptions: Arc<Subscriptions>,
    /// Set by [`serve`](Self::serve): closes when its [`AdsHandle`] drops, ending every stream.
    stop: Option<watch::Receiver<()>>,
}

impl AdsServer {
    /// Serves `cache`'s snapshots. CDS and LDS take an empty first subscription as "all".
    pub fn new(cache: &SnapshotCache) -> Self {
        let wildcard_types = [type_url::CLUSTER, type_url::LISTENER].map(str::to_owned);
        AdsServer {
            snapshots: cache.subscribe(),
            wildcard_types: Arc::new(wildcard_types.into_iter().collect()),
            stats: Arc::default(),
            subscriptions: Arc::default(),
            stop: None,
        }
    }

    pub fn stats(&self) -> Arc<AdsStats> {
        Arc::clone(&self.stats)
    }

    /// The names clients subscribe to, for an owner that serves names on demand.
    pub fn subscriptions(&self) -> Arc<Subscriptions> {
        Arc::clone(&self.subscriptions)
    }

    /// The tonic service, to add to a `tonic::transport::Server` of one's own.
    pub fn into_service(self) -> AggregatedDiscoveryServiceServer<Self> {
        AggregatedDiscoveryServiceServer::new(self)
    }

    /// Serves ADS over h2c on `listener` from a task on the current runtime.
    /// Errors: no tokio runtime, or the listener has no local address.
    ///
    /// tonic runs each connection as a task of its own, so stopping is a signal rather than an
    /// abort: dropping the handle closes `stop`, every stream ends with `UNAVAILABLE` (clients
    /// reconnect elsewhere), and the connections, drained, close.
    pub fn serve(mut self, listener: TcpListener) -> std::io::Result<AdsHandle> {
        let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        let local_addr = listener.local_addr()?;
        let stats = self.stats();
        let (stop, stopped) = watch::channel(());
        self.stop = Some(stopped.clone());
        let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let router = tonic::transport::Server::builder().add_service(self.into_service());
        let task = runtime.spawn(async move {
            let mut stopped = stopped;
            let signal = async move { while stopped.changed().await.is_ok() {} };
            if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
                warn!("xDS server stopped: {e}");
            }
        });
        Ok(AdsHandle {
            local_addr,
            stats,
            _stop: stop,
            task,
        })
    }
}

/// A running ADS server; dropping it stops it.
#[derive(Debug)]
pub struct AdsHandle {
    local_addr: SocketAddr,
    stats: Arc<AdsStats>,
    _stop: watch::Sender<()>,
    task: JoinHandle<()>,
}

impl AdsHandle {
    /// Where ADS listens (the port the OS chose for `127.0.0.1:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> &AdsStats {
        &self.stats
    }
}

impl Drop for AdsHandle {
    fn drop(&mut self) {
        // `_stop` drops next and ends the streams; the accept loop goes now.
        self.task.abort();
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<DiscoveryResponse, Status>> + Send>>;
type DeltaStream = Pin<Box<dyn Stream<Item = Result<DeltaDiscoveryResponse, Status>> + Send>>;

/// What one stream's loop holds between responses.
struct Driver {
    state: AdsStream,
    requests: Streaming<DiscoveryRequest>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    pending: VecDeque<DiscoveryResponse>,
    stop: Option<watch::Receiver<()>>,
}

impl Driver {
    /// The next response to send, `None` when the client is gone.
    async fn next(&mut self) -> Option<Result<DiscoveryResponse, Status>> {
        loop {
            if let Some(response) = self.pending.pop_front() {
                return Some(Ok(response));
            }
            let stop = self.stop.as_mut();
            let stopping = async move {
                match stop {
                    // Every value sent is ignored: only the sender's drop means stop.
                    Some(stop) => while stop.changed().await.is_ok() {},
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stopping => return Some(Err(Status::unavailable("xDS server stopping"))),
                request = self.requests.message() => match request {
                    Ok(Some(request)) => {
                        let snapshot = self.snapshots.borrow_and_update().clone();
                        match self.state.on_request(request, &snapshot) {
                            Ok(response) => self.pending.extend(response),
                            Err(e) => return Some(Err(Status::invalid_argument(e.to_string()))),
                        }
                    }
                    Ok(None) => return None,
                    Err(status) => {
                        debug!("xDS stream ended: {status}");
                        return None;
                    }
                },
                changed = self.snapshots.changed() => {
                    if changed.is_err() {
                        // The cache is gone, so is its owner: the client should go elsewhere.
                        return Some(Err(Status::unavailable("xDS snapshots ended")));
                    }
                    let snapshot = self.snapshots.borrow_and_update().clone();
                    self.pending.extend(self.state.on_snapshot(&snapshot));
                }
            }
        }
    }
}

#[tonic::async_trait]
impl AggregatedDiscoveryService for AdsServer {
    type StreamAggregatedResourcesStream = ResponseStream;
    type DeltaAggregatedResourcesStream = DeltaStream;

    /// Delta xDS is not served: a client that asks for it gets `UNIMPLEMENTED` (gRPC always
    /// uses state of the world; configure Envoy with `api_type: GRPC`).
    async fn delta_aggregated_resources(
        &self,
        _request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<DeltaStream>, Status> {
        Err(Status::unimplemented(
            "delta xDS is not served; use state of the world (StreamAggregatedResources)",
        ))
    }

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<ResponseStream>, Status> {
        self.stats.streams.fetch_add(1, Ordering::Relaxed);
        let mut snapshots = self.snapshots.clone();
        snapshots.mark_unchanged(); // each request reads the latest anyway
        let driver = Driver {
            state: AdsStream::new(
                Arc::clone(&self.wildcard_types),
                self.stats(),
                self.subscriptions(),
            ),
            requests: request.into_inner(),
            snapshots,
            pending: VecDeque::new(),
            stop: self.stop.clone(),
        };
        let responses = futures_util::stream::unfold(Some(driver), |driver| async move {
            let mut driver = driver?;
            match driver.next().await? {
                Ok(response) => Some((Ok(response), Some(driver))),
                Err(status) => Some((Err(status), None)), // an error ends the stream
            }
        });
        Ok(Response::new(Box::pin(responses)))
    }
}
