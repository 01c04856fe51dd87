//! The HTTP request path of one listener: validate framing, pick a virtual host and
//! a route, then answer directly, redirect, or forward to a cluster.
//!
//! Everything the path reads (routes, clusters, balancers) is immutable and shared,
//! so a request takes no lock and awaits nothing but its own upstream.

mod attempt;
mod forward;
pub(crate) mod headers;
pub(crate) mod local_reply;
mod mirror;
mod overrides;
pub(crate) mod request_log;
mod route_filters;
mod upgrade;

pub(crate) use request_log::RequestLog;
pub(crate) use route_filters::{InvalidFilter, RouteFilters};

use crate::body::{ProxyBody, full};
use crate::drain;
use crate::stats::{ClassCounters, ListenerStats};
use crate::upstream::Upstreams;
use http::header::{CONTENT_LENGTH, HOST, LOCATION, TRANSFER_ENCODING};
use http::uri::Authority;
use http::{Request, Response, Version};
use hyper::body::Incoming;
use local_reply::{ProxyError, is_grpc};
use mesh_core::policy::{Action, HttpListener, Route, VirtualHost};
use mesh_core::routing::RequestHead;
use request_log::DownstreamBody;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the request path knows about the downstream connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) peer: SocketAddr,
    pub(crate) tls: bool,
    /// The peer is in the listener's `trusted_cidrs`: its `x-mesh-*` headers count.
    pub(crate) trusted: bool,
    /// The connection's drain, handed to upgraded tunnels, which outlive their request.
    pub(crate) drain: drain::Watch,
}

#[derive(Debug)]
pub(crate) struct Router {
    policy: HttpListener,
    /// Rate limits and faults, per route of `policy`.
    filters: RouteFilters,
    upstreams: Arc<Upstreams>,
    stats: ListenerStats,
    /// Request IDs and access logs.
    log: RequestLog,
    /// Spans, when the proxy traces (see `otel`).
    tracer: Option<crate::otel::HopTracer>,
}

/// The route chosen for a request, with what forwarding needs from the match.
pub(crate) struct Target<'a> {
    pub(crate) vhost: &'a VirtualHost,
    pub(crate) route: &'a Route,
    pub(crate) authority: Authority,
}

impl Router {
    pub(crate) fn new(
        policy: HttpListener,
        filters: RouteFilters,
        upstreams: Arc<Upstreams>,
        stats: ListenerStats,
    ) -> Self {
        Router {
            policy,
            filters,
            upstreams,
            stats,
            log: RequestLog::default(),
            tracer: None,
        }
    }

    /// The listener's request IDs and access logs.
    pub(crate) fn with_log(self, log: RequestLog) -> Self {
        Router { log, ..self }
    }

    /// Records a span per request with `tracer` (see `otel`).
    pub(crate) fn traced(self, tracer: Option<crate::otel::HopTracer>) -> Self {
        Router { tracer, ..self }
    }

    pub(crate) async fn handle(&self, req: Request<Incoming>, conn: &ConnInfo) -> Response<ProxyBody> {
        let grpc = is_grpc(req.headers());
        // Until the response body ends: `downstream_rq_active` and `downstream_rq_time`.
        let in_flight = self.stats.start();
        let (mut req, arrival) = self.log.arrive(req, conn);
        // After the request ID is chosen: the sampling decision is derived from it.
        let hop = self.tracer.as_ref().map(|t| t.start(&mut req, conn));
        let mut route = None;
        let (response, local) = match self.dispatch(req, conn, &mut route).await {
            Ok(r) => (r, None),
            Err(e) => {
                tracing::debug!(error = %e, flag = e.flag(), "local reply");
                let flag = e.flag();
                (e.into_response(grpc), Some(flag))
            }
        };
        let status = response.status().as_u16();
        self.stats.rq.record(status);
        if let Some(route) = route {
            route.record(status);
        }
        let response = response.map(|body| crate::body::boxed(crate::body::WithGuard::new(body, in_flight)));
        let response = match hop {
            Some(hop) => hop.finish(response),
            None => response,
        };
        self.log.depart(arrival, response, local)
    }

    /// `matched`: set to the route's counters when a route with a `name` is chosen.
    async fn dispatch<'s>(
        &'s self,
        mut req: Request<DownstreamBody>,
        conn: &ConnInfo,
        matched: &mut Option<&'s ClassCounters>,
    ) -> Result<Response<ProxyBody>, ProxyError> {
        check_framing(&req)?;
        // Before routing, so an untrusted peer can neither steer a route that matches on
        // them nor reach an upstream's mesh with them.
        if !conn.trusted {
            headers::strip_control_headers(req.headers_mut());
        }
        let authority = authority(&req)?;
        let hosts = &self.policy.virtual_hosts;
        let vhost = hosts.select(authority.as_str()).ok_or(ProxyError::NoRoute)?;
        let route = vhost
            .route(&head(&req, &authority, conn))
            .ok_or(ProxyError::NoRoute)?;
        *matched = route.name.as_ref().and_then(|name| self.stats.routes.get(name));
        // Rate limit, then fault, for every action: see `route_filters`.
        let admitted = self.filters.apply(hosts, vhost, route, req).await?;
        let req = admitted.request;
        let mut response = match &route.action {
            Action::DirectResponse(d) => {
                let mut r = Response::new(full(d.body.clone()));
                *r.status_mut() = d.status;
                r
            }
            Action::Redirect(r) => {
                let location = r.location(&route.matcher, &head(&req, &authority, conn), req.uri().query());
                Response::builder()
                    .status(r.response_code)
                    .header(LOCATION, location)
                    .body(crate::body::empty())
                    .map_err(|_| ProxyError::BadRequest("redirect target is not a valid Location"))?
            }
            Action::Route(fwd) => {
                let target = Target {
                    vhost,
                    route,
                    authority: authority.clone(),
                };
                forward::forward(self, req, fwd, target, conn).await?
            }
        };
        route.response_headers.apply(response.headers_mut());
        vhost.response_headers.apply(response.headers_mut());
        // For the access log's `DI` flag; clients never see extensions.
        if let Some(delayed) = admitted.delayed {
            response.extensions_mut().insert(delayed);
        }
        Ok(response)
    }
}

/// What routing and redirects look at in a request.
fn head<'a, B>(req: &'a Request<B>, authority: &'a Authority, conn: &ConnInfo) -> RequestHead<'a> {
    RequestHead {
        method: req.method(),
        authority: authority.as_str(),
        path: req.uri().path(),
        scheme: if conn.tls { "https" } else { "http" },
        headers: req.headers(),
    }
}

/// Request smuggling defence: a message with both framings is refused outright
/// (RFC 9112 §6.3 lets a server pick chunked; Envoy and HAProxy refuse it by default).
fn check_framing<B>(req: &Request<B>) -> Result<(), ProxyError> {
    let h = req.headers();
    let both = h.contains_key(TRANSFER_ENCODING) && h.contains_key(CONTENT_LENGTH);
    // hyper drops Content-Length when both arrive, so the connection's framing
    // tracker is what usually tells (see `framing`); the header check covers the rest.
    let flagged = req
        .extensions()
        .get::<crate::listener::ConflictingFraming>()
        .is_some();
    if req.version() <= Version::HTTP_11 && (both || flagged) {
        return Err(ProxyError::BadRequest(
            "both Content-Length and Transfer-Encoding",
        ));
    }
    Ok(())
}

/// The request's authority: `:authority` for HTTP/2 and absolute-form URIs, else Host.
fn authority<B>(req: &Request<B>) -> Result<Authority, ProxyError> {
    if let Some(a) = req.uri().authority() {
        return Ok(a.clone());
    }
    match req.headers().get(HOST) {
        Some(host) => {
            Authority::try_from(host.as_bytes()).map_err(|_| ProxyError::BadRequest("invalid Host header"))
        }
        None if req.version() == Version::HTTP_10 => Ok(Authority::from_static("")),
        None => Err(ProxyError::BadRequest("missing Host header")),
    }
}
