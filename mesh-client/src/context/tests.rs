use super::*;
use std::convert::Infallible;
use tower::{Layer, Service, ServiceExt, service_fn};

fn incoming() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-request-id", HeaderValue::from_static("rid-1"));
    h.insert(
        "traceparent",
        HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    );
    h.insert("x-b3-sampled", HeaderValue::from_static("1"));
    h.insert("authorization", HeaderValue::from_static("secret"));
    h
}

#[test]
fn reads_only_the_propagated_headers() {
    let ctx = MeshContext::from_headers(&incoming());
    assert_eq!(ctx.request_id(), Some("rid-1"));
    assert!(ctx.traceparent().is_some_and(|t| t.starts_with("00-0af7")));
    assert_eq!(ctx.tracestate(), None);
    let names: Vec<&str> = ctx.headers().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["x-request-id", "traceparent", "x-b3-sampled"]);
}

#[test]
fn apply_keeps_headers_the_caller_set() {
    let ctx = MeshContext::from_headers(&incoming());
    let mut out = HeaderMap::new();
    out.insert("x-request-id", HeaderValue::from_static("explicit"));
    ctx.apply_to(&mut out);
    assert_eq!(out["x-request-id"], "explicit");
    assert_eq!(out["x-b3-sampled"], "1");
    assert!(out.contains_key("traceparent"));
    assert!(
        !out.contains_key("authorization"),
        "only propagated headers travel"
    );
}

#[test]
fn with_ignores_headers_that_are_not_propagated() {
    let ctx = MeshContext::new().with(
        &HeaderName::from_static("cookie"),
        HeaderValue::from_static("a=b"),
    );
    assert!(ctx.is_empty());
    let ctx = ctx.with(&REQUEST_ID, HeaderValue::from_static("r"));
    assert_eq!(ctx.get(&REQUEST_ID).map(HeaderValue::as_bytes), Some(&b"r"[..]));
}

#[tokio::test]
async fn the_context_is_scoped_and_follows_spawns_only_when_wrapped() {
    assert!(MeshContext::current().is_none());
    let ctx = MeshContext::from_headers(&incoming());
    let (inside, plain, wrapped) = ctx
        .clone()
        .scope(async {
            let plain = tokio::spawn(async { MeshContext::current() });
            let wrapped = tokio::spawn(scope(async { MeshContext::current() }));
            (
                MeshContext::current(),
                plain.await.ok().flatten(),
                wrapped.await.ok().flatten(),
            )
        })
        .await;
    assert_eq!(inside.as_ref(), Some(&ctx));
    assert_eq!(plain, None, "a task-local does not follow tokio::spawn by itself");
    assert_eq!(wrapped, Some(ctx));
    assert!(MeshContext::current().is_none(), "the scope ends with the future");
}

#[tokio::test]
async fn the_layer_scopes_each_request_and_its_synchronous_call() {
    let handler = service_fn(|_req: http::Request<()>| {
        // Read in `call`, before the future: a closure handler's synchronous part.
        let at_call = MeshContext::current();
        async move { Ok::<_, Infallible>((at_call, MeshContext::current())) }
    });
    let mut svc = MeshContextLayer::new().layer(handler);
    for id in ["a", "b"] {
        let req = http::Request::builder()
            .header("x-request-id", id)
            .body(())
            .unwrap();
        let (at_call, in_future) = svc.ready().await.unwrap().call(req).await.unwrap();
        assert_eq!(at_call.unwrap().request_id(), Some(id));
        assert_eq!(in_future.unwrap().request_id(), Some(id));
    }
    assert!(MeshContext::current().is_none());
}
