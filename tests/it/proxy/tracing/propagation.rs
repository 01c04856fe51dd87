//! One trace across two proxies: parent links, span attributes, W3C and B3 callers, error
//! status, and headers left alone without tracing.

use super::*;

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
