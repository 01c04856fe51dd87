//! A "proxyless" HTTP client: the proxy's own building blocks, minus the proxy.
//!
//! [`BalancedClient`] is what `mesh-proxy` does for one cluster, embedded in the calling service:
//! - one hyper-util pooling [`Client`] per endpoint, so keep-alive connections are per host;
//! - a [`HealthChecker`] probing every endpoint (the cluster's `health_checks`);
//! - an [`OutlierDetector`] fed with every request's result (the cluster's `outlier_detection`);
//! - a [`LeastRequest`] picker (power of two choices over requests in flight, endpoint weights
//!   honoured) over the endpoints that are healthy and not ejected. A background task rebuilds it
//!   whenever either snapshot changes and publishes it through an [`ArcSwap`], so
//!   [`send`](BalancedClient::send) takes no lock: one atomic load, one pick, one request.
//!
//! Each request counts in its endpoint's [`Load`] (the `InFlight` guard) until its response
//! headers arrive or it fails, which is what the picker compares; the latency feeds the peak-EWMA
//! estimate too. Its result is then recorded for outlier detection: the status, a connect failure,
//! a reset, or a timeout.
//!
//! Differences from the proxy, to stay small: the balancer is always least request (with the
//! cluster's `least_request` knobs when that is its `lb_policy`); the endpoints are fixed; there
//! is no panic mode (no eligible endpoint is [`SendError::NoEligibleEndpoint`]), no retries, TLS
//! or HTTP/2; a request is in flight until its response headers arrive, not until its body ends.

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mesh_core::policy::{Cluster, LbPolicy};
use mesh_health::{
    EjectionSnapshot, HealthChecker, HealthCheckerHandle, HealthSnapshot, OutlierDetector,
    OutlierDetectorHandle, OutlierRecorder, RequestResult,
};
use mesh_lb::{InvalidLeastRequestConfig, LeastRequest, LeastRequestConfig, Load};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Picks indices into [`BalancedClient`]'s endpoints.
type Picker = LeastRequest<usize>;

/// A client that balances over one cluster's endpoints; see the [module docs](self).
#[derive(Debug)]
pub struct BalancedClient {
    endpoints: Arc<[Endpoint]>,
    picker: Arc<ArcSwap<Picker>>,
    /// How many endpoints the latest picker holds, for [`wait_for_eligible`](Self::wait_for_eligible).
    eligible: watch::Receiver<usize>,
    outlier: Option<OutlierRecorder>,
    timeout: Duration,
    _rebuild: AbortOnDrop,
    _health: HealthCheckerHandle,
    _outlier: Option<OutlierDetectorHandle>,
}

#[derive(Debug)]
struct Endpoint {
    addr: SocketAddr,
    weight: NonZeroU32,
    load: Arc<Load>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// Added to every response's extensions: the endpoint that answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream(pub SocketAddr);

/// Why [`BalancedClient::send`] returned no response.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no endpoint is healthy and not ejected")]
    NoEligibleEndpoint,
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, #[source] hyper_util::client::legacy::Error),
    #[error("{0} failed the request: {1}")]
    Upstream(SocketAddr, #[source] hyper_util::client::legacy::Error),
    #[error("{0} sent no response headers within {1:?}")]
    Timeout(SocketAddr, Duration),
    #[error("the request's path cannot be sent: {0}")]
    BadRequest(#[from] hyper::http::Error),
}

impl BalancedClient {
    /// A client over `cluster`'s endpoints with its `health_checks`, `outlier_detection` (if any)
    /// and `connect_timeout`; `timeout` bounds each request until its response headers. An endpoint
    /// is eligible once it passes its first check. Must be called within a Tokio runtime; dropping
    /// the client stops its tasks. Refuses a bad `least_request` config (mesh-core's loader too).
    pub fn new(cluster: &Cluster, timeout: Duration) -> Result<Self, InvalidLeastRequestConfig> {
        let config = match cluster.lb_policy {
            LbPolicy::LeastRequest {
                choice_count,
                active_request_bias,
            } => LeastRequestConfig {
                choice_count,
                active_request_bias,
            },
            _ => LeastRequestConfig::default(),
        };
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(cluster.connect_timeout));
        connector.set_nodelay(true);
        let endpoints: Arc<[Endpoint]> = cluster
            .endpoints
            .iter()
            .map(|e| Endpoint {
                addr: e.address,
                weight: e.weight,
                load: Arc::new(Load::new()),
                client: Client::builder(TokioExecutor::new()).build(connector.clone()),
            })
            .collect();
        // A fixed list: the checker and the detector keep it once the sender is gone.
        let (_, hosts) = watch::channel(endpoints.iter().map(|e| e.addr).collect());
        let name = cluster.name.as_str();
        let checks = cluster.health_checks.clone();
        let (health, health_handle) = HealthChecker::spawn(name, checks, hosts.clone());
        let (outlier, ejections, outlier_handle) = match cluster.outlier_detection.clone() {
            Some(policy) => {
                let (recorder, ejections, handle) = OutlierDetector::spawn(name, policy, hosts);
                (Some(recorder), ejections, Some(handle))
            }
            // A closed channel: the rebuild loop reads "nothing ejected" once and stops asking.
            None => (None, watch::channel(Arc::default()).1, None),
        };
        // Nothing is eligible until the rebuild task has read the first snapshots.
        let picker = Arc::new(ArcSwap::from_pointee(LeastRequest::new([], config)?));
        let (eligible_tx, eligible) = watch::channel(0);
        let task = tokio::spawn(rebuild(
            endpoints.clone(),
            config,
            picker.clone(),
            eligible_tx,
            health,
            ejections,
        ));
        Ok(Self {
            endpoints,
            picker,
            eligible,
            outlier,
            timeout,
            _rebuild: AbortOnDrop(task),
            _health: health_handle,
            _outlier: outlier_handle,
        })
    }

    /// Sends `req` to the endpoint the picker chooses. Only the request's path and query are kept
    /// from its URI; the endpoint's address becomes the authority (and `Host`, unless set).
    pub async fn send(&self, mut req: Request<Full<Bytes>>) -> Result<Response<Incoming>, SendError> {
        let index = self.picker.load().pick(&mut rand::rng()).copied();
        let Some(endpoint) = index.and_then(|i| self.endpoints.get(i)) else {
            return Err(SendError::NoEligibleEndpoint);
        };
        let addr = endpoint.addr;
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let uri = Uri::builder().scheme("http").authority(addr.to_string());
        *req.uri_mut() = uri.path_and_query(path).build()?;

        let in_flight = endpoint.load.start(Instant::now().into_std());
        let sent = tokio::time::timeout(self.timeout, endpoint.client.request(req)).await;
        // Failures count as latency samples too: a slow failure makes the host look slow.
        in_flight.finish(Instant::now().into_std());
        let (outcome, result) = match sent {
            Ok(Ok(response)) => (RequestResult::Status(response.status().as_u16()), Ok(response)),
            Ok(Err(e)) if e.is_connect() => (RequestResult::ConnectFailed, Err(SendError::Connect(addr, e))),
            Ok(Err(e)) => (RequestResult::Reset, Err(SendError::Upstream(addr, e))),
            Err(_) => (
                RequestResult::Timeout,
                Err(SendError::Timeout(addr, self.timeout)),
            ),
        };
        if let Some(outlier) = &self.outlier {
            // Every endpoint is one of the detector's hosts, so this cannot be an unknown host.
            let _ = outlier.record(addr, outcome);
        }
        let mut response = result?;
        response.extensions_mut().insert(Upstream(addr));
        Ok(response)
    }

    /// The endpoints the picker chooses from now: healthy and not ejected.
    pub fn eligible(&self) -> Vec<SocketAddr> {
        let picker = self.picker.load();
        picker
            .iter()
            .filter_map(|(&i, _, _)| self.endpoints.get(i))
            .map(|e| e.addr)
            .collect()
    }

    /// Waits until at least `n` endpoints are eligible (bound it with a timeout).
    pub async fn wait_for_eligible(&self, n: usize) {
        // The sender lives as long as the rebuild task, which lives as long as `self`.
        let _ = self.eligible.clone().wait_for(|&eligible| eligible >= n).await;
    }
}

/// The control loop: republishes the picker whenever health or ejections change, until both
/// snapshot senders are gone (the client dropped its handles).
async fn rebuild(
    endpoints: Arc<[Endpoint]>,
    config: LeastRequestConfig,
    picker: Arc<ArcSwap<Picker>>,
    eligible: watch::Sender<usize>,
    mut health: watch::Receiver<Arc<HealthSnapshot>>,
    mut ejections: watch::Receiver<Arc<EjectionSnapshot>>,
) {
    loop {
        let healthy = health.borrow_and_update().clone();
        let ejected = ejections.borrow_and_update().clone();
        let hosts = endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| healthy.is_healthy(&e.addr) && !ejected.is_ejected(&e.addr))
            .map(|(i, e)| (i, e.weight, e.load.clone()));
        // `new` refused a bad config already, so this always succeeds.
        if let Ok(next) = LeastRequest::new(hosts, config) {
            tracing::debug!(eligible = next.len(), of = endpoints.len(), "picker rebuilt");
            let count = next.len();
            // Store first: whoever `wait_for_eligible` wakes finds the new picker in place.
            picker.store(Arc::new(next));
            eligible.send_replace(count);
        }
        // A closed channel disables its branch for this round only; `else` ends the loop once
        // both are closed.
        tokio::select! {
            Ok(()) = health.changed() => {}
            Ok(()) = ejections.changed() => {}
            else => break,
        }
    }
}

/// Aborts the rebuild task with the client.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
