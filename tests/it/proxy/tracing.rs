//! Tracing end to end: client → proxy A → proxy B → backend, both proxies exporting spans to
//! an in-test OTLP receiver ([`OtlpReceiver`]); the backend reports the trace headers it got.

mod propagation;
mod sampling;

use http::Method;
use mesh_tests::backend::{Http, Received};
use mesh_tests::client::{self, Connection, body};
use mesh_tests::otlp::{OtlpReceiver, Span};
use mesh_tests::{closed_port, proxy, within};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// A proxy named `service` forwarding everything to `upstream`; it traces to `otlp` at
/// `sampling` when `otlp` is set, else has no `tracing` key at all. Its callers (the test
/// client, the other proxy) are trusted, as inside a mesh, so the request IDs the tests pick
/// are kept and decide the sampling.
fn yaml(service: &str, otlp: Option<SocketAddr>, sampling: &str, upstream: SocketAddr) -> String {
    let (top, listener) = match otlp {
        Some(addr) => (
            format!("tracing: {{ otlp: {{ address: \"{addr}\", timeout: 2s }}, service_name: {service} }}"),
            format!("tracing: {{ random_sampling: \"{sampling}\" }}"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
drain_timeout: 1s
{top}
listeners:
  - name: {service}-in
    address: 127.0.0.1:0
    trusted_cidrs: ["127.0.0.0/8"]
    {listener}
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: / }}, route: {{ cluster: next }} }} ] }} ]
clusters:
  - {{ name: next, endpoints: [ {{ address: "{upstream}" }} ] }}
"#
    )
}

/// client → A → B → backend; both proxies trace to `receiver` at `sampling`.
struct Chain {
    receiver: OtlpReceiver,
    backend: Http,
    a: mesh_proxy::Running,
    b: mesh_proxy::Running,
    entry: SocketAddr,
}

impl Chain {
    async fn start(sampling: &str) -> Chain {
        let backend = Http::start("backend").await;
        let upstream = backend.addr();
        Chain::start_to(sampling, backend, upstream).await
    }

    /// A chain whose proxy B forwards to `upstream` rather than to `backend`.
    async fn start_to(sampling: &str, backend: Http, upstream: SocketAddr) -> Chain {
        let receiver = OtlpReceiver::start().await;
        let otlp = Some(receiver.addr());
        let (b, b_addr) =
            proxy::start_with_listener(&yaml("proxy-b", otlp, sampling, upstream), "proxy-b-in").await;
        let (a, entry) =
            proxy::start_with_listener(&yaml("proxy-a", otlp, sampling, b_addr), "proxy-a-in").await;
        Chain {
            receiver,
            backend,
            a,
            b,
            entry,
        }
    }

    /// Shuts both proxies down, which flushes their spans, and returns every span received.
    async fn finish(self) -> (Vec<Span>, Http) {
        within(T, self.a.shutdown()).await;
        within(T, self.b.shutdown()).await;
        (self.receiver.spans(), self.backend)
    }
}

/// `GET /items/7` through `addr` with extra `headers`.
async fn send(addr: SocketAddr, headers: &[(&str, &str)]) -> client::Reply {
    let mut req = client::request(Method::GET, "svc.test", "/items/7", body::empty());
    for (name, value) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let mut conn = within(T, Connection::http1(addr)).await.unwrap();
    within(T, conn.send(req)).await.unwrap()
}

/// Like [`send`], for a request that must reach the backend: what the backend received.
async fn get(addr: SocketAddr, headers: &[(&str, &str)]) -> Received {
    let reply = send(addr, headers).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.received()
}

fn header<'a>(received: &'a Received, name: &str) -> Option<&'a str> {
    received.headers.get(name)?.first().map(String::as_str)
}

/// The traceparent's `(trace id, parent span id, flags)`.
fn traceparent(received: &Received) -> (String, String, String) {
    let value = header(received, "traceparent").unwrap_or_else(|| panic!("no traceparent: {received:?}"));
    let parts: Vec<&str> = value.split('-').collect();
    let [version, trace, parent, flags] = parts[..] else {
        panic!("malformed traceparent {value:?}")
    };
    assert_eq!(version, "00");
    (trace.to_owned(), parent.to_owned(), flags.to_owned())
}

fn by_service<'a>(spans: &'a [Span], service: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.service == service).collect()
}

fn one<'a>(spans: &'a [Span], service: &str) -> &'a Span {
    match by_service(spans, service)[..] {
        [span] => span,
        ref other => panic!("expected one span from {service}, got {other:#?}"),
    }
}
