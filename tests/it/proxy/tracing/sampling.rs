//! Who decides what is traced (the caller's flag, else the request ID), reloads, and a
//! collector that is not there.

use super::*;

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
