//! One upstream try of a forwarded request, as a tower `Service` so the retry layer
//! (mesh-filters) can drive several: take a circuit-breaker request slot, pick an
//! endpoint (avoiding hosts earlier tries used when the retry policy asks), give the
//! request its per-endpoint authority, version and URI, send it through the endpoint's
//! pool and record the outcome in one place.
//!
//! The request slot and the endpoint's in-flight mark stay with the response body until
//! it ends, as Envoy counts an upstream request active until its stream completes.

use super::local_reply::ProxyError;
use crate::body::{ProxyBody, WithGuard, boxed};
use crate::upstream::{ClusterRuntime, ConnectError, Endpoint, Upstreams};
use bytes::Bytes;
use http::header::HOST;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri, Version};
use http_body::Body;
use mesh_core::BoxError;
use mesh_core::policy::RoutingPriority;
use mesh_filters::access_log::{UpstreamCluster, UpstreamHost};
use mesh_filters::retry::{AttemptHost, ErrorClass, PreviousHosts};
use mesh_health::RequestResult;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::time::Instant;

/// What every try of one request shares.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) cluster: usize,
    pub(crate) hash: Option<u64>,
    pub(crate) priority: RoutingPriority,
    /// Host/:authority to send; `None`: the endpoint's address (the request named none).
    pub(crate) authority: Option<Authority>,
    pub(crate) path_and_query: PathAndQuery,
    pub(crate) downstream: Version,
    pub(crate) upgrade: bool,
    /// Picks per try while the pick lands on a host an earlier try used (Envoy's
    /// `host_selection_retry_max_attempts`).
    pub(crate) reselect: u32,
    /// Set by the router when the route timeout fired, so that the try it abandons is
    /// recorded as a timeout against its host.
    pub(crate) timed_out: AtomicBool,
    /// The request's span is recorded: note the cluster and host on the response for it.
    pub(crate) traced: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) upstreams: Arc<Upstreams>,
    pub(crate) plan: Arc<Plan>,
}

type AttemptFuture = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, BoxError>> + Send>>;

impl<B> tower::Service<Request<B>> for Attempt
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ProxyBody>;
    type Error = BoxError;
    type Future = AttemptFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Overflow and "no healthy host" are answers, not back-pressure: `call` gives them.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> AttemptFuture {
        let this = self.clone();
        Box::pin(async move { this.send(req).await.map_err(BoxError::from) })
    }
}

impl Attempt {
    async fn send<B>(self, req: Request<B>) -> Result<Response<ProxyBody>, ProxyError>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let plan = &self.plan;
        let cluster = (self.upstreams.clusters.get(plan.cluster)).ok_or(ProxyError::NoHealthyUpstream)?;
        let slot = cluster
            .breakers
            .get(plan.priority)
            .try_request()
            .map_err(|open| ProxyError::Overflow(cluster.overflowed(open)))?;
        let endpoint = pick(cluster, plan, req.extensions().get::<PreviousHosts<SocketAddr>>())?;
        if let Some(host) = req.extensions().get::<AttemptHost<SocketAddr>>() {
            host.record(endpoint.addr);
        }
        let in_flight = endpoint.load.start(Instant::now().into_std());
        let (mut parts, body) = req.into_parts();
        let tls = cluster.policy.tls.is_some();
        let pool = endpoint.pool(cluster.policy.protocol, tls, plan.downstream, plan.upgrade);
        let authority = match &plan.authority {
            Some(a) => a.clone(),
            None => {
                Authority::try_from(endpoint.addr.to_string()).map_err(|_| ProxyError::NoHealthyUpstream)?
            }
        };
        if pool.version == Version::HTTP_2 {
            parts.headers.remove(HOST);
        } else if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            parts.headers.insert(HOST, host);
        }
        parts.uri = Uri::builder()
            .scheme(if tls { Scheme::HTTPS } else { Scheme::HTTP })
            .authority(authority)
            .path_and_query(plan.path_and_query.clone())
            .build()
            .map_err(|_| ProxyError::BadRequest("request target cannot be forwarded"))?;
        parts.version = pool.version;
        // Upgrades read hyper's own extension off the downstream request, which is
        // gone by now; nothing else in there is meant for the upstream.
        parts.extensions = http::Extensions::new();

        let mut pending = Pending {
            cluster,
            endpoint: &endpoint,
            plan,
            done: false,
        };
        let result = pool.client.request(Request::from_parts(parts, boxed(body))).await;
        pending.done = true;
        let response = result.map_err(|e| {
            if e.is_connect() {
                connect_failure(cluster, &endpoint, e)
            } else {
                cluster.record(&endpoint, RequestResult::Reset);
                ProxyError::UpstreamReset(e.into())
            }
        })?;
        cluster.record(&endpoint, RequestResult::Status(response.status().as_u16()));
        // Latency to response headers feeds peak-EWMA; the request stays in flight (for
        // least-request) and holds its breaker slot until its response body is done.
        let now = Instant::now().into_std();
        endpoint
            .load
            .observe(now.saturating_duration_since(in_flight.started()), now);
        let (mut parts, body) = response.into_parts();
        if plan.traced {
            parts.extensions.insert(UpstreamHost(endpoint.addr));
            parts
                .extensions
                .insert(UpstreamCluster(cluster.policy.name.clone()));
        }
        Ok(Response::from_parts(
            parts,
            boxed(WithGuard::new(body, (in_flight, slot))),
        ))
    }
}

/// The endpoint for this try: re-picked up to `plan.reselect` times while it is one an
/// earlier try used, then taken as it is (a retry to the same host beats none).
fn pick(
    cluster: &ClusterRuntime,
    plan: &Plan,
    previous: Option<&PreviousHosts<SocketAddr>>,
) -> Result<Arc<Endpoint>, ProxyError> {
    let mut endpoint = cluster.pick(plan.hash);
    if let Some(previous) = previous {
        for _ in 0..plan.reselect {
            match &endpoint {
                Some(e) if previous.contains(&e.addr) => endpoint = cluster.pick(plan.hash),
                _ => break,
            }
        }
    }
    endpoint.ok_or_else(|| {
        cluster.stats.no_healthy.increment(1);
        ProxyError::NoHealthyUpstream
    })
}

/// A connect error: the host's fault (recorded), or our own breaker's (not recorded:
/// the host did nothing wrong).
fn connect_failure(
    cluster: &ClusterRuntime,
    endpoint: &Endpoint,
    e: hyper_util::client::legacy::Error,
) -> ProxyError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(err) = source {
        if let Some(ConnectError::Overflow(_, open)) = err.downcast_ref::<ConnectError>() {
            return ProxyError::Overflow(cluster.overflowed(*open));
        }
        source = err.source();
    }
    cluster.record(endpoint, RequestResult::ConnectFailed);
    ProxyError::ConnectFailure(e.into())
}

/// Records the route timeout against the host of a try abandoned because of it.
struct Pending<'a> {
    cluster: &'a ClusterRuntime,
    endpoint: &'a Endpoint,
    plan: &'a Plan,
    done: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done && self.plan.timed_out.load(Ordering::Relaxed) {
            self.cluster.record(self.endpoint, RequestResult::Timeout);
        }
    }
}

/// How the retry layer judges a try's error: by the [`ProxyError`] it carries.
pub(crate) fn classify(error: &BoxError) -> ErrorClass {
    match error.downcast_ref::<ProxyError>() {
        Some(ProxyError::ConnectFailure(_)) => ErrorClass::ConnectFailure,
        Some(ProxyError::UpstreamReset(e)) if refused_stream(e.as_ref()) => ErrorClass::RefusedStream,
        Some(ProxyError::UpstreamReset(_)) => ErrorClass::Reset,
        Some(ProxyError::Timeout) => ErrorClass::Timeout,
        _ => mesh_filters::retry::classify_io(error),
    }
}

/// Whether an HTTP/2 REFUSED_STREAM is behind `error`: the upstream did not process it.
fn refused_stream(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(err) = next {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        next = err.source();
    }
    false
}
