//! Forwarding one request to a cluster: choose the cluster, rewrite the request for the
//! upstream hop, send it — through the retry layer when the route (or a trusted caller)
//! asks for retries — under the route timeout, and turn the outcome into a response or
//! a [`ProxyError`]. Each try is an [`Attempt`].
//!
//! A route `idle_timeout` (Envoy's stream idle timeout) ends the request when no bytes
//! moved either way for that long: 408 (flag `SI`) before response headers, a cut-off
//! body after them.
//!
//! The route timeout is Envoy's: it starts when the downstream request has been read
//! completely and covers every try and the whole response. Before response headers it
//! ends in a 504; after them it cuts the body off (the client sees a reset).
//!
//! Mirrors, when the route has them, get copies of the request as it streams.
//!
//! Stack, outside in: route timeout → retries (per-try timeout, backoff, budget, the
//! circuit breaker's retry admission) → service time → attempt (request slot, pick,
//! pool).

use super::attempt::{self, Attempt, Plan};
use super::headers::{forwarded, is_upgrade, join_cookies, strip_hop_by_hop};
use super::local_reply::ProxyError;
use super::request_log::DownstreamBody;
use super::{ConnInfo, Router, Target, mirror, overrides, upgrade};
use crate::body::{Deadline, NotifyEnd, ProxyBody, Touching, WithDeadline, boxed};
use crate::idle::Activity;
use http::header::EXPECT;
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Version};
use mesh_core::BoxError;
use mesh_core::policy::{ClusterSpecifier, Forward};
use mesh_core::routing::{RequestHead, request_hash};
use mesh_filters::access_log::{LateFlag, ResponseFlags, UpstreamCluster};
use mesh_filters::mirror::Tee;
use mesh_filters::retry::{ErrorClass, PerTryTimeout, RetryLayer, RetryPolicy, retries_error};
use mesh_filters::timeout::ServiceTime;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use tower::{Layer, ServiceExt};

pub(super) async fn forward(
    router: &Router,
    mut req: Request<DownstreamBody>,
    fwd: &Forward,
    target: Target<'_>,
    conn: &ConnInfo,
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
    // Untrusted peers' control headers were removed before routing: nothing to take.
    let effective = match conn.trusted {
        true => overrides::take(req.headers_mut(), fwd),
        false => overrides::Effective::route(fwd),
    };

    // Set when a deadline cuts the response body off after its headers (the log's `UT`, `SI`).
    let late = req.extensions().get::<LateFlag>().cloned();
    let upgrade = req.version() == Version::HTTP_11 && is_upgrade(req.headers());
    let downstream_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
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
        Some(h) => Some(h.clone()),
        None if target.authority.as_str().is_empty() => None,
        None => Some(target.authority),
    };

    let headers = &mut parts.headers;
    strip_hop_by_hop(headers, upgrade);
    // We answered any `Expect: 100-continue` ourselves by reading the body (hyper sends
    // the 100); the upstream gets the body without waiting, as Envoy does by default.
    headers.remove(EXPECT);
    target.route.request_headers.apply(headers);
    target.vhost.request_headers.apply(headers);
    forwarded(headers, conn.peer.ip(), conn.tls);
    // An h2 downstream may have split its cookies; HTTP/1.1 needs them on one line, and
    // one line is valid HTTP/2 too.
    join_cookies(headers);

    // The access log and the span read the cluster off the response.
    let note_cluster = router.log.logging() || parts.extensions.get::<crate::otel::Recorded>().is_some();
    let retry = effective.retry.as_ref().filter(|_| !upgrade);
    let plan = Arc::new(Plan {
        cluster: cluster_ref.index,
        hash: hash.flatten(),
        priority: fwd.priority,
        authority,
        path_and_query,
        downstream: parts.version,
        upgrade,
        reselect: retry.map_or(1, |p| p.host_selection_retry_max_attempts.max(1)),
        timed_out: AtomicBool::new(false),
        tries: AtomicU32::new(0),
    });
    let attempt = ServiceTime::new(Attempt {
        upstreams: router.upstreams.clone(),
        plan: plan.clone(),
    });
    let req = Request::from_parts(parts, body);
    let (parts, body) = match fwd.request_mirror_policies.as_slice() {
        [] => {
            let (parts, body) = req.into_parts();
            (parts, Tee::plain(body))
        }
        policies => mirror::mirror(&router.upstreams, policies, &plan, effective.timeout, req).into_parts(),
    };
    // The route's stream idle timeout: any request or response bytes re-arm it.
    let idle = fwd.idle_timeout.map(|timeout| (Activity::new(), timeout));
    let body = Touching::new(body, idle.as_ref().map(|(activity, _)| activity.clone()));
    let (body, request_ended) = NotifyEnd::new(body);
    let req = Request::from_parts(parts, body);
    let limit = fwd.per_request_buffer_limit_bytes;
    let retry_policy = retry.map(|policy| RetryPolicy::from_config(policy, limit, attempt::classify));
    let send = async {
        match &retry_policy {
            Some(policy) => {
                let layer = RetryLayer::from_parts(
                    policy.clone(),
                    cluster.retry_budget.clone(),
                    cluster.breakers.admission(fwd.priority),
                    cluster.retry_stats.clone(),
                );
                layer.layer(attempt).oneshot(req).await
            }
            None => attempt.oneshot(req).await,
        }
    };
    let expired = plan.clone();
    let deadline: Option<Deadline> = effective.timeout.map(|timeout| {
        Box::pin(async move {
            let _ = request_ended.await;
            tokio::time::sleep(timeout).await;
            // Set before `select!` drops the abandoned try, whose guard reads it. Once
            // response headers are in, no try is pending and this changes nothing.
            expired.timed_out.store(true, Ordering::Relaxed);
        }) as Deadline
    });
    let mut deadline = deadline;
    let mut idle_deadline = idle.as_ref().map(|(activity, timeout)| {
        let (activity, timeout) = (activity.clone(), *timeout);
        Box::pin(async move { activity.idle_for(timeout).await }) as Deadline
    });
    let result = tokio::select! {
        result = send => result,
        () = expiry(&mut deadline) => {
            cluster.stats.timeout.increment(1);
            return Err(ProxyError::Timeout);
        }
        () = expiry(&mut idle_deadline) => return Err(ProxyError::StreamIdleTimeout),
    };
    let tries = plan.tries.load(Ordering::Relaxed);
    let exhausted = retry_policy.is_some_and(|p| retries_exhausted(&p, tries, &result));
    let mut response = result.map_err(|e| match proxy_error(e) {
        e if exhausted => ProxyError::RetriesExhausted(Box::new(e)),
        e => e,
    })?;
    if exhausted {
        response.extensions_mut().insert(ResponseFlags("URX".to_owned()));
    }
    if note_cluster {
        let name = cluster.policy.name.clone();
        response.extensions_mut().insert(UpstreamCluster(name));
    }

    let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    if let (true, Some(downstream)) = (switched, downstream_upgrade) {
        upgrade::splice(downstream, hyper::upgrade::on(&mut response), conn.drain.clone());
    }
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers, switched && upgrade);
    let body = match (idle, idle_deadline) {
        (Some((activity, _)), Some(idle)) if !switched => {
            let idle = flagging(idle, late.clone(), "SI");
            boxed(WithDeadline::new(Touching::new(body, Some(activity)), idle))
        }
        _ => body,
    };
    let body = match deadline {
        Some(deadline) if !switched => boxed(WithDeadline::new(body, flagging(deadline, late, "UT"))),
        _ => body,
    };
    Ok(Response::from_parts(parts, body))
}

/// `deadline`, setting `flag` on the access log's line when it cuts a response body off.
fn flagging(deadline: Deadline, late: Option<LateFlag>, flag: &'static str) -> Deadline {
    match late {
        Some(late) => Box::pin(async move {
            deadline.await;
            late.set(flag);
        }),
        None => deadline,
    }
}

/// Resolves when `deadline` passes; never without one.
async fn expiry(deadline: &mut Option<Deadline>) {
    match deadline {
        Some(deadline) => deadline.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Whether the retry layer returned a retriable outcome because every retry was used (Envoy's
/// `URX`), rather than because the budget, the circuit breaker or an unreplayable body stopped it.
fn retries_exhausted(
    policy: &RetryPolicy,
    tries: u32,
    outcome: &Result<Response<ProxyBody>, BoxError>,
) -> bool {
    tries > policy.num_retries
        && match outcome {
            Ok(response) => policy.retries_response(response),
            Err(error) => {
                let class = match error.is::<PerTryTimeout>() {
                    true => ErrorClass::Timeout,
                    false => (policy.classify)(error),
                };
                retries_error(policy.retry_on, class)
            }
        }
}

/// The failure behind a try (or the retry layer's last one).
fn proxy_error(error: BoxError) -> ProxyError {
    if error.is::<PerTryTimeout>() {
        return ProxyError::Timeout;
    }
    match error.downcast::<ProxyError>() {
        Ok(e) => *e,
        Err(other) => ProxyError::UpstreamReset(other),
    }
}
