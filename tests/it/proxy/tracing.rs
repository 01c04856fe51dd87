//! Tracing end to end: client → proxy A → proxy B → backend, both proxies exporting spans to
//! an in-test OTLP receiver ([`OtlpReceiver`]); the backend reports the trace headers it got.

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
/// `sampling` when `otlp` is set, else has no `tracing` key at all.
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

#[tokio::test]
async fn spans_from_both_proxies_form_one_trace_with_parent_links() {
    let chain = Chain::start("100%").await;
    let entry = chain.entry;
    let received = get(
        entry,
        &[("x-request-id", "chain-1"), ("user-agent", "trace-test/1")],
    )
    .await;
    let backend_addr = chain.backend.addr();
    let (spans, _backend) = chain.finish().await;

    let a = one(&spans, "proxy-a");
    let b = one(&spans, "proxy-b");
    assert_eq!(a.trace_id, b.trace_id, "one trace");
    assert_eq!(a.parent_span_id, "", "A started the trace");
    assert_eq!(b.parent_span_id, a.span_id, "B's span is a child of A's");
    // The backend's parent is B's span, in the same trace, sampled.
    assert_eq!(
        traceparent(&received),
        (b.trace_id.clone(), b.span_id.clone(), "01".into())
    );

    for span in [a, b] {
        assert_eq!(
            span.kind,
            opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server
        );
        assert_eq!(span.attr("http.request.method"), Some("GET"));
        assert_eq!(span.attr("http.response.status_code"), Some("200"));
        assert_eq!(span.attr("url.path"), Some("/items/7"));
        assert_eq!(span.attr("url.scheme"), Some("http"));
        assert_eq!(span.attr("server.address"), Some("svc.test"));
        assert_eq!(span.attr("guid:x-request-id"), Some("chain-1"));
        assert_eq!(span.attr("user_agent.original"), Some("trace-test/1"));
        assert_eq!(span.attr("network.peer.address"), Some("127.0.0.1"));
        assert_eq!(span.attr("upstream_cluster"), Some("next"));
        assert_eq!(span.attr("response_flags"), Some("-"));
        assert_eq!(span.status_code, 0, "a 200 leaves the status unset");
    }
    assert_eq!(a.name, "proxy-a-in");
    assert_eq!(
        b.attr("upstream_address"),
        Some(backend_addr.to_string().as_str())
    );
}

#[tokio::test]
async fn a_callers_sampled_flag_is_followed_either_way() {
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    // Sampled by the caller: traced although the listeners sample nothing on their own.
    let chain = Chain::start("0%").await;
    let sampled = format!("00-{caller_trace}-00f067aa0ba902b7-01");
    let received = get(
        chain.entry,
        &[("traceparent", &sampled), ("x-request-id", "chain-2")],
    )
    .await;
    let (spans, _) = chain.finish().await;
    let (a, b) = (one(&spans, "proxy-a"), one(&spans, "proxy-b"));
    assert_eq!(
        (a.trace_id.as_str(), b.trace_id.as_str()),
        (caller_trace, caller_trace)
    );
    assert_eq!(
        a.parent_span_id, "00f067aa0ba902b7",
        "A is a child of the caller's span"
    );
    assert_eq!(b.parent_span_id, a.span_id);
    assert_eq!(
        traceparent(&received),
        (caller_trace.into(), b.span_id.clone(), "01".into())
    );

    // Not sampled by the caller: nothing recorded although the listeners sample everything,
    // and the caller's context reaches the backend as it was sent.
    let chain = Chain::start("100%").await;
    let unsampled = format!("00-{caller_trace}-00f067aa0ba902b7-00");
    let received = get(
        chain.entry,
        &[
            ("traceparent", &unsampled),
            ("tracestate", "vendor=1"),
            ("x-request-id", "chain-3"),
        ],
    )
    .await;
    let (spans, _) = chain.finish().await;
    assert_eq!(spans, [], "nothing exported for an unsampled caller");
    assert_eq!(header(&received, "traceparent"), Some(unsampled.as_str()));
    assert_eq!(header(&received, "tracestate"), Some("vendor=1"));
}

#[tokio::test]
async fn b3_callers_join_the_trace_in_their_own_style() {
    let chain = Chain::start("0%").await;
    // B3 single, 64-bit trace ID, sampled.
    let single = get(chain.entry, &[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-1")]).await;
    // B3 multi, 128-bit trace ID, sampled.
    let multi = get(
        chain.entry,
        &[
            ("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"),
            ("x-b3-spanid", "0020000000000001"),
            ("x-b3-sampled", "1"),
        ],
    )
    .await;
    let (spans, _) = chain.finish().await;
    assert_eq!(spans.len(), 4, "{spans:#?}");

    let widened = "0000000000000000a3ce929d0e0e4736";
    let trace = |id: &str| {
        spans
            .iter()
            .filter(|s| s.trace_id == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let single_spans = trace(widened);
    let (a, b) = (one(&single_spans, "proxy-a"), one(&single_spans, "proxy-b"));
    assert_eq!(a.parent_span_id, "00f067aa0ba902b7");
    assert_eq!(b.parent_span_id, a.span_id);
    // Answered in B3 single, naming B's span with A's as its parent, and in W3C.
    let expected_b3 = format!("a3ce929d0e0e4736-{}-1-{}", b.span_id, a.span_id);
    assert_eq!(header(&single, "b3"), Some(expected_b3.as_str()));
    assert_eq!(
        traceparent(&single),
        (widened.into(), b.span_id.clone(), "01".into())
    );

    let multi_spans = trace("463ac35c9f6413ad48485a3953bb6124");
    let (a, b) = (one(&multi_spans, "proxy-a"), one(&multi_spans, "proxy-b"));
    assert_eq!(a.parent_span_id, "0020000000000001");
    assert_eq!(b.parent_span_id, a.span_id);
    assert_eq!(
        header(&multi, "x-b3-traceid"),
        Some("463ac35c9f6413ad48485a3953bb6124")
    );
    assert_eq!(header(&multi, "x-b3-spanid"), Some(b.span_id.as_str()));
    assert_eq!(header(&multi, "x-b3-parentspanid"), Some(a.span_id.as_str()));
    assert_eq!(header(&multi, "x-b3-sampled"), Some("1"));
}

#[tokio::test]
async fn the_request_id_picks_the_same_chains_at_every_hop() {
    let chain = Chain::start("50%").await;
    // The first 8 hex digits give the bucket (Envoy's rule): 37, 137, ... 9937; below 5000
    // (50%) exactly for i < 50.
    let ids: Vec<String> = (0..100u32)
        .map(|i| format!("{:08x}-0000-4000-8000-{i:012x}", i * 100 + 37))
        .collect();
    let mut unsampled_at_backend = 0;
    for (i, id) in ids.iter().enumerate() {
        let received = get(chain.entry, &[("x-request-id", id)]).await;
        let (_, _, flags) = traceparent(&received);
        assert_eq!(flags, if i < 50 { "01" } else { "00" }, "request {i}");
        unsampled_at_backend += usize::from(flags == "00");
    }
    let (spans, _) = chain.finish().await;
    let ids_at = |service: &str| -> BTreeSet<String> {
        by_service(&spans, service)
            .iter()
            .map(|s| s.attr("guid:x-request-id").unwrap().to_owned())
            .collect()
    };
    let expected: BTreeSet<String> = ids[..50].iter().cloned().collect();
    assert_eq!(ids_at("proxy-a"), expected);
    assert_eq!(ids_at("proxy-b"), expected);
    assert_eq!(unsampled_at_backend, 50);
    // One trace per sampled request, each holding one span per proxy.
    let traces: BTreeSet<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!((traces.len(), spans.len()), (50, 100));
}

#[tokio::test]
async fn without_a_tracing_key_trace_headers_pass_untouched() {
    let backend = Http::start("backend").await;
    let (proxy, addr) =
        proxy::start_with_listener(&yaml("plain", None, "", backend.addr()), "plain-in").await;
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let received = get(
        addr,
        &[
            ("traceparent", caller),
            ("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-1"),
        ],
    )
    .await;
    assert_eq!(header(&received, "traceparent"), Some(caller));
    assert_eq!(
        header(&received, "b3"),
        Some("a3ce929d0e0e4736-00f067aa0ba902b7-1")
    );
    // Nor does the proxy start a context of its own.
    let received = get(addr, &[]).await;
    assert_eq!(header(&received, "traceparent"), None);
    within(T, proxy.shutdown()).await;
}

#[tokio::test]
async fn an_unreachable_collector_costs_requests_nothing() {
    let backend = Http::start("backend").await;
    let yaml = yaml("lonely", Some(closed_port()), "100%", backend.addr());
    let (proxy, addr) = proxy::start_with_listener(&yaml, "lonely-in").await;
    for _ in 0..20 {
        let received = get(addr, &[]).await;
        assert_eq!(traceparent(&received).2, "01");
    }
    // Shutting down tries to flush to the closed port, and still ends.
    within(T, proxy.shutdown()).await;
}

#[tokio::test]
async fn a_5xx_marks_the_span_as_an_error_with_its_hops_own_flags() {
    // B cannot connect upstream: B replies 503 (UF) itself, A forwards that reply.
    let backend = Http::start("unused").await;
    let chain = Chain::start_to("100%", backend, closed_port()).await;
    let b_addr = chain.b.listener_addr("proxy-b-in").unwrap();
    let reply = send(chain.entry, &[("x-request-id", "chain-5")]).await;
    assert_eq!(reply.status, 503);
    let (spans, _) = chain.finish().await;
    let (a, b) = (one(&spans, "proxy-a"), one(&spans, "proxy-b"));
    for span in [a, b] {
        assert_eq!(span.attr("http.response.status_code"), Some("503"));
        assert_eq!(span.status_code, 2, "error status on a 5xx: {span:#?}");
    }
    assert_eq!(b.attr("response_flags"), Some("UF"));
    assert_eq!(b.attr("upstream_address"), None, "no host answered B");
    // A's upstream (B) did answer: B's flag is B's, not A's.
    assert_eq!(a.attr("response_flags"), Some("-"));
    assert_eq!(a.attr("upstream_address"), Some(b_addr.to_string().as_str()));
}

#[tokio::test]
async fn reloads_change_sampling_but_not_the_exporter() {
    let receiver = OtlpReceiver::start().await;
    let backend = Http::start("backend").await;
    let config = |otlp: SocketAddr, sampling: &str| {
        let yaml = yaml("solo", Some(otlp), sampling, backend.addr());
        mesh_core::load::from_yaml(&yaml, "reload.yaml").unwrap()
    };
    let proxy = mesh_proxy::start(config(receiver.addr(), "0%")).await.unwrap();
    let addr = proxy.listener_addr("solo-in").unwrap();
    // Bucket 37: sampled at any share from 0.38% up.
    let id = "00000025-0000-4000-8000-000000000000";
    assert_eq!(traceparent(&get(addr, &[("x-request-id", id)]).await).2, "00");

    within(T, proxy.reload(&config(receiver.addr(), "1%")))
        .await
        .unwrap();
    assert_eq!(traceparent(&get(addr, &[("x-request-id", id)]).await).2, "01");

    let refused = within(T, proxy.reload(&config(closed_port(), "1%"))).await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.starts_with("tracing: cannot change on reload"),
        "{message}"
    );
    within(T, proxy.shutdown()).await;
    let spans = receiver.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].attr("guid:x-request-id"), Some(id));
}
