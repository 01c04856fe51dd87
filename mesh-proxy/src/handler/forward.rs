//! Forwarding one request to a cluster: choose the cluster and endpoint, rewrite
//! the request for the upstream hop, send it under the route timeout, and turn the
//! outcome into a response or a [`ProxyError`].
//!
//! The route timeout is Envoy's: it starts when the downstream request has been
//! read completely and covers the whole response. Before response headers it ends
//! in a 504; after them it cuts the body off (the client sees a reset).

use super::headers::{forwarded, is_upgrade, join_cookies, strip_hop_by_hop};
use super::local_reply::ProxyError;
use super::{ConnInfo, Router, Target, upgrade};
use crate::body::{Deadline, NotifyEnd, ProxyBody, WithDeadline, WithGuard, boxed};
use http::header::{EXPECT, HOST};
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use mesh_core::policy::{ClusterSpecifier, Forward};
use mesh_core::routing::{RequestHead, request_hash};
use mesh_health::RequestResult;
use tokio::time::Instant;

pub(super) async fn forward(
    router: &Router,
    mut req: Request<Incoming>,
    fwd: &Forward,
    target: Target<'_>,
    conn: ConnInfo,
) -> Result<Response<ProxyBody>, ProxyError> {
    let cluster_ref = match &fwd.clusters {
        ClusterSpecifier::Cluster(c) => c,
        ClusterSpecifier::WeightedClusters(w) => w.pick(rand::random_range(0..w.total())),
    };
    let cluster = router
        .upstreams
        .clusters
        .get(cluster_ref.index)
        .ok_or(ProxyError::NoHealthyUpstream)?;
    let hash = cluster.wants_hash().then(|| {
        let head = RequestHead {
            method: req.method(),
            authority: target.authority.as_str(),
            path: req.uri().path(),
            scheme: if conn.tls { "https" } else { "http" },
            headers: req.headers(),
        };
        request_hash(
            &fwd.hash_policy,
            &head,
            req.uri().query(),
            conn.peer.ip(),
            mesh_lb::hash_key,
        )
    });
    let Some(endpoint) = cluster.pick(hash.flatten()) else {
        cluster.stats.no_healthy.increment(1);
        return Err(ProxyError::NoHealthyUpstream);
    };
    let in_flight = endpoint.load.start(Instant::now().into_std());

    let upgrade = req.version() == Version::HTTP_11 && is_upgrade(req.headers());
    let downstream_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let tls = cluster.policy.tls.is_some();
    let pool = endpoint.pool(cluster.policy.protocol, tls, parts.version, upgrade);

    let path_and_query = match fwd.rewrite_path(&target.route.matcher, parts.uri.path(), parts.uri.query()) {
        Some(p) => {
            PathAndQuery::try_from(p).map_err(|_| ProxyError::BadRequest("rewritten path is invalid"))?
        }
        None => parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
    };
    let authority = match &fwd.host_rewrite_literal {
        Some(h) => h.clone(),
        None if target.authority.as_str().is_empty() => {
            http::uri::Authority::try_from(endpoint.addr.to_string())
                .map_err(|_| ProxyError::NoHealthyUpstream)?
        }
        None => target.authority,
    };

    let headers = &mut parts.headers;
    strip_hop_by_hop(headers, upgrade);
    // We answered any `Expect: 100-continue` ourselves by reading the body (hyper sends
    // the 100); the upstream gets the body without waiting, as Envoy does by default.
    headers.remove(EXPECT);
    target.route.request_headers.apply(headers);
    target.vhost.request_headers.apply(headers);
    forwarded(headers, conn.peer.ip(), conn.tls);
    if pool.version == Version::HTTP_2 {
        headers.remove(HOST);
    } else {
        // An h2 downstream may have split its cookies; HTTP/1.1 needs them on one line.
        join_cookies(headers);
        if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            headers.insert(HOST, host);
        }
    }
    parts.uri = Uri::builder()
        .scheme(if tls { Scheme::HTTPS } else { Scheme::HTTP })
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| ProxyError::BadRequest("request target cannot be forwarded"))?;
    parts.version = pool.version;
    parts.extensions = http::Extensions::new();

    let (body, request_ended) = NotifyEnd::new(body);
    let deadline: Option<Deadline> = fwd.timeout.map(|timeout| {
        Box::pin(async move {
            let _ = request_ended.await;
            tokio::time::sleep(timeout).await;
        }) as Deadline
    });
    let send = pool.client.request(Request::from_parts(parts, boxed(body)));
    let (result, deadline) = match deadline {
        None => (send.await, None),
        Some(mut deadline) => tokio::select! {
            result = send => (result, Some(deadline)),
            () = &mut deadline => {
                cluster.record(&endpoint, RequestResult::Timeout);
                // A timeout is the slowest answer there is: let peak-EWMA see it.
                in_flight.finish(Instant::now().into_std());
                return Err(ProxyError::Timeout);
            }
        },
    };
    let mut response = result.map_err(|e| {
        if e.is_connect() {
            cluster.record(&endpoint, RequestResult::ConnectFailed);
            ProxyError::ConnectFailure(e.into())
        } else {
            cluster.record(&endpoint, RequestResult::Reset);
            ProxyError::UpstreamReset(e.into())
        }
    })?;
    cluster.record(&endpoint, RequestResult::Status(response.status().as_u16()));
    // Latency to response headers feeds peak-EWMA; the request stays in flight
    // (for least-request) until its response body is done.
    let now = Instant::now().into_std();
    endpoint
        .load
        .observe(now.saturating_duration_since(in_flight.started()), now);

    let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    if let (true, Some(downstream)) = (switched, downstream_upgrade) {
        upgrade::splice(
            downstream,
            hyper::upgrade::on(&mut response),
            router.drain.clone(),
        );
    }
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers, switched && upgrade);
    let body = match deadline {
        Some(deadline) if !switched => boxed(WithGuard::new(WithDeadline::new(body, deadline), in_flight)),
        _ if switched => boxed(body),
        _ => boxed(WithGuard::new(body, in_flight)),
    };
    Ok(Response::from_parts(parts, body))
}
