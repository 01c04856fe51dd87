//! The thin client (`mesh-client`) end to end: a real app server behind `MeshContextLayer`
//! calling through a real egress proxy (`trusted_cidrs: [127.0.0.0/8]`, as a sidecar's egress
//! listener trusts its app) to real backends.
//!
//! - [`propagation`]: one request ID and trace context from the frontend's caller to the
//!   backend, the app code never touching them; the default retry policy at work.
//! - [`errors`]: the proxy's answers as typed errors (timeout, overload, no healthy upstream,
//!   connect failure, no route) and a dead or stuck proxy.
//! - [`grpc`]: a tonic channel through the proxy to a tonic server, with propagation.

mod errors;
mod grpc;
mod propagation;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_client::{MeshClient, MeshContext, MeshContextService, context};
use mesh_tests::AbortOnDrop;
use mesh_tests::client::Reply;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Service;

pub(crate) const T: Duration = Duration::from_secs(30);

/// One service the egress proxy routes to: requests with `Host: {name}` go to cluster `name`,
/// whose endpoints are `endpoints`; `extra` adds keys to the cluster (`protocol: http2`).
pub(crate) struct Upstream<'a> {
    pub name: &'a str,
    pub endpoints: &'a [SocketAddr],
    pub extra: &'a str,
}

/// A sidecar's egress side: listener `egress` trusting loopback, one virtual host per service.
pub(crate) fn egress_yaml(upstreams: &[Upstream<'_>]) -> String {
    let mut vhosts = String::new();
    let mut clusters = String::new();
    for u in upstreams {
        let name = u.name;
        vhosts.push_str(&format!(
            "\n      - {{ name: {name}, domains: [\"{name}\"], routes: [ {{ match: {{ prefix: \"/\" }}, route: {{ cluster: {name} }} }} ] }}"
        ));
        let endpoints: Vec<String> = u
            .endpoints
            .iter()
            .map(|a| format!("{{ address: \"{a}\" }}"))
            .collect();
        let extra = if u.extra.is_empty() {
            String::new()
        } else {
            format!(", {}", u.extra)
        };
        clusters.push_str(&format!(
            "\n  - {{ name: {name}, endpoints: [ {} ]{extra} }}",
            endpoints.join(", ")
        ));
    }
    format!(
        "admin: {{ address: 127.0.0.1:0 }}\nlisteners:\n  - name: egress\n    address: 127.0.0.1:0\n    \
         trusted_cidrs: [\"127.0.0.0/8\"]\n    virtual_hosts:{vhosts}\nclusters:{clusters}\n"
    )
}

/// Starts the egress proxy; returns it and a client pointed at it (other settings from `builder`).
pub(crate) async fn egress(
    upstreams: &[Upstream<'_>],
    builder: mesh_client::MeshClientBuilder,
) -> (mesh_proxy::Running, MeshClient) {
    let (running, addr) = mesh_tests::proxy::start_with_listener(&egress_yaml(upstreams), "egress").await;
    let client = builder.egress(addr.to_string()).build().unwrap();
    (running, client)
}

/// The frontend app: a hyper server whose every request runs behind `MeshContextLayer` and is
/// handled by calling `backend` through the client. The handler never reads or sets a header:
/// `/direct` calls from the handler, `/spawned` from a task spawned under `context::scope`.
/// It answers with the backend's body (its description of what it received), or 599 and the
/// client's error.
pub(crate) struct Frontend {
    addr: SocketAddr,
    _task: AbortOnDrop,
}

impl Frontend {
    pub(crate) async fn start(client: MeshClient) -> Frontend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let client = client.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req: http::Request<Incoming>| {
                        let client = client.clone();
                        let mut app = MeshContextService::new(tower::service_fn(move |req| {
                            handle(client.clone(), req)
                        }));
                        app.call(req)
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Frontend {
            addr,
            _task: AbortOnDrop(task),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn handle(
    client: MeshClient,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let result = match req.uri().path() {
        "/spawned" => {
            let work = context::scope(async move { client.get("backend", "/from-frontend").await });
            match tokio::spawn(work).await {
                Ok(result) => result,
                Err(e) => return Ok(answer(599, format!("task failed: {e}"))),
            }
        }
        _ => client.get("backend", "/from-frontend").await,
    };
    let mut response = match result {
        Ok(response) => match Reply::read(response).await {
            Ok(reply) => answer(reply.status.as_u16(), reply.body),
            Err(e) => answer(599, e.to_string()),
        },
        Err(e) => answer(599, e.to_string()),
    };
    // For the test to compare with what the backend got; the call above did not need it.
    if let Some(id) = MeshContext::current().and_then(|c| c.get(&context::REQUEST_ID).cloned()) {
        response.headers_mut().insert(FRONTEND_SAW, id);
    }
    Ok(response)
}

/// The frontend's answers carry the request ID it was handling in this header.
pub(crate) const FRONTEND_SAW: &str = "x-frontend-request-id";

fn answer(status: u16, body: impl Into<Bytes>) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(body.into()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

/// The trace-id field of a W3C `traceparent` (`00-{trace-id}-{parent-id}-{flags}`): what stays
/// the same across hops even where a proxy starts a span of its own.
pub(crate) fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or("")
}
