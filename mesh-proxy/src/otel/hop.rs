//! One hop's span: started when the request head arrives, ended when the response body is
//! done (the server dropped it after its last frame, or the client went away).
//!
//! Kind SERVER, named after the listener: the span stands for the whole request as this proxy
//! served it (what Envoy's HCM records as its `ingress`/`egress` operation; Envoy's
//! OpenTelemetry tracer also makes it SERVER unless the listener is marked outbound, and
//! listeners here carry no direction). Its attributes are OpenTelemetry's HTTP semantic
//! conventions plus Envoy's `guid:x-request-id`, `upstream_cluster`, `upstream_address` and
//! `response_flags`; a 5xx sets the span's status to error.
//!
//! Cost: an unsampled request records nothing; it only gets a fresh `traceparent` with flags
//! `00` when it came without a context (a request with one keeps its headers untouched).

use crate::body::{ProxyBody, WithGuard, boxed};
use crate::handler::ConnInfo;
use http::header::USER_AGENT;
use http::{HeaderName, HeaderValue, Request, Response};
use mesh_core::policy::{ListenerTracing, Percent};
use mesh_filters::access_log::{RESPONSE_FLAGS_HEADER, ResponseFlags, UpstreamCluster, UpstreamHost};
use mesh_filters::request_id::{RequestIdValue, X_REQUEST_ID};
use mesh_filters::trace::{self, TraceContext};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};
use std::sync::Arc;

/// Request extension: this request's span is recorded, so forwarding notes the upstream
/// cluster and host on the response for it (and only then pays for that).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recorded;

/// Starts hops for one HTTP listener.
#[derive(Debug, Clone)]
pub(crate) struct HopTracer {
    tracer: SdkTracer,
    listener: Arc<str>,
    sampling: Percent,
}

/// A request's span, if it has one.
#[derive(Debug)]
pub(crate) enum Hop {
    Unrecorded,
    /// Boxed: the handler's future carries a `Hop` for every request, sampled or not.
    Recording(Box<Span>),
}

impl HopTracer {
    pub(super) fn new(tracer: SdkTracer, listener: Arc<str>, sampling: ListenerTracing) -> Self {
        HopTracer {
            tracer,
            listener,
            sampling: sampling.random_sampling,
        }
    }

    /// Decides, starts the span when sampled, and writes the context the upstream gets.
    pub(crate) fn start<B>(&self, req: &mut Request<B>, conn: &ConnInfo) -> Hop {
        let parent = trace::extract(req.headers());
        let parent_ctx = parent.as_ref().map(|p| &p.context);
        let id = request_id(req).map(HeaderValue::as_bytes);
        let sampled = trace::decide(parent_ctx, id, self.sampling, rand::random);
        if !sampled {
            if parent.is_none() {
                trace::inject(req.headers_mut(), &TraceContext::random(false), None);
            }
            return Hop::Unrecorded;
        }
        let cx = match parent_ctx {
            Some(p) => Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from_bytes(p.trace_id),
                SpanId::from_bytes(p.span_id),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            )),
            None => Context::new(),
        };
        let span = self
            .tracer
            .span_builder(self.listener.to_string())
            .with_kind(SpanKind::Server)
            .with_attributes(request_attributes(req, conn))
            .start_with_context(&self.tracer, &cx);
        let ids = span.span_context();
        let hop = TraceContext {
            trace_id: ids.trace_id().to_bytes(),
            span_id: ids.span_id().to_bytes(),
            sampled: Some(true),
        };
        trace::inject(req.headers_mut(), &hop, parent.as_ref());
        req.extensions_mut().insert(Recorded);
        Hop::Recording(Box::new(span))
    }
}

impl Hop {
    /// Notes the outcome on the span, which then ends with the response body.
    pub(crate) fn finish(self, response: Response<ProxyBody>) -> Response<ProxyBody> {
        let Hop::Recording(mut span) = self else {
            return response;
        };
        let status = response.status();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        ));
        let upstream = response.extensions().get::<UpstreamHost>().map(|h| h.0);
        // The header only speaks for this hop on its own local replies: on a forwarded
        // response it is the next hop's (which this proxy passes on to the client).
        let flags = match (response.extensions().get::<ResponseFlags>(), upstream) {
            (Some(f), _) => Some(f.0.clone()),
            (None, None) => header(&response, &RESPONSE_FLAGS_HEADER),
            (None, Some(_)) => None,
        };
        span.set_attribute(KeyValue::new(
            "response_flags",
            flags.unwrap_or_else(|| "-".into()),
        ));
        if let Some(cluster) = response.extensions().get::<UpstreamCluster>() {
            span.set_attribute(KeyValue::new("upstream_cluster", cluster.0.clone()));
        }
        if let Some(host) = upstream {
            span.set_attribute(KeyValue::new("upstream_address", host.to_string()));
        }
        if status.is_server_error() {
            span.set_status(Status::error(status.to_string()));
        }
        let (parts, body) = response.into_parts();
        Response::from_parts(parts, boxed(WithGuard::new(body, span)))
    }
}

/// The request ID the sampling decision and the `guid:x-request-id` attribute use: the one the
/// request-ID layer chose, else the header as it came.
fn request_id<B>(req: &Request<B>) -> Option<&HeaderValue> {
    match req.extensions().get::<RequestIdValue>() {
        Some(id) => Some(&id.0),
        None => req.headers().get(&X_REQUEST_ID),
    }
}

fn header<B>(message: &Response<B>, name: &HeaderName) -> Option<String> {
    let value = message.headers().get(name)?.to_str().ok()?;
    Some(value.to_owned())
}

fn request_attributes<B>(req: &Request<B>, conn: &ConnInfo) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", req.method().as_str().to_owned()),
        KeyValue::new("url.path", req.uri().path().to_owned()),
        KeyValue::new("url.scheme", if conn.tls { "https" } else { "http" }),
        KeyValue::new("network.protocol.version", protocol_version(req.version())),
        KeyValue::new("network.peer.address", conn.peer.ip().to_string()),
        KeyValue::new("network.peer.port", i64::from(conn.peer.port())),
    ];
    let authority = req
        .uri()
        .authority()
        .map(|a| (a.host().to_owned(), a.port_u16()))
        .or_else(|| {
            let host = req.headers().get(http::header::HOST)?.to_str().ok()?;
            let a: http::uri::Authority = host.parse().ok()?;
            Some((a.host().to_owned(), a.port_u16()))
        });
    if let Some((host, port)) = authority {
        attributes.push(KeyValue::new("server.address", host));
        if let Some(port) = port {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    if let Some(agent) = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()) {
        attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
    }
    if let Some(id) = request_id(req).and_then(|v| v.to_str().ok()) {
        attributes.push(KeyValue::new("guid:x-request-id", id.to_owned()));
    }
    attributes
}

fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}
