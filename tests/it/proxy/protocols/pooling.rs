//! Upstream connection pooling: keep-alive reuse for HTTP/1.1 clusters and multiplexing on one
//! connection for HTTP/2 clusters. A [`CountingRelay`] between proxy and backend counts the
//! upstream connections.

use super::{CountingRelay, T, up};
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::within;
use tokio::task::JoinSet;

#[tokio::test]
async fn http1_upstream_connections_are_reused() {
    within(T, async {
        let backend = Http::builder("b1").http1_only().start().await;
        let relay = CountingRelay::start(backend.addr()).await;
        let (_proxy, addr) = up(relay.addr()).protocol("http1").start().await;

        // Sequential requests on one downstream keep-alive connection...
        let mut conn = Connection::http1(addr).await.unwrap();
        for i in 0..5 {
            let reply = conn.get("example.com", &format!("/ka/{i}")).await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
        // ...and on fresh downstream connections, one after another.
        for i in 0..5 {
            let reply = client::get(addr, "example.com", &format!("/fresh/{i}"))
                .await
                .unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
        assert_eq!(backend.requests(), 10);
        // Ideally 1. The pool hands a connection back only once hyper has seen the response end,
        // which races with the next request getting through the proxy, so a spare connection
        // may be opened now and then; one connection per request would be 10.
        let opened = relay.connections();
        assert!(
            (1..=2).contains(&opened),
            "10 sequential requests opened {opened} upstream connections"
        );
    })
    .await;
}

#[tokio::test]
async fn http2_upstream_multiplexes_concurrent_requests() {
    within(T, async {
        let backend = Http::builder("b2").http2_only().start().await;
        let relay = CountingRelay::start(backend.addr()).await;
        let (_proxy, addr) = up(relay.addr()).protocol("http2").start().await;

        // 20 downstream connections, each with one slow request, all in flight at once.
        let mut calls = JoinSet::new();
        for i in 0..20 {
            calls.spawn(async move {
                let mut conn = Connection::http1(addr).await.unwrap();
                let reply = conn
                    .get("example.com", &format!("/delay/300?n={i}"))
                    .await
                    .unwrap();
                (i, reply)
            });
        }
        let mut seen = Vec::new();
        while let Some(done) = calls.join_next().await {
            let (i, reply) = done.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "request {i}: {}", reply.text());
            let r = reply.received();
            assert_eq!(r.version, "HTTP/2.0");
            assert_eq!(r.path, format!("/delay/300?n={i}"));
            seen.push(i);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        assert_eq!(backend.requests(), 20);
        // hyper's pool lets only one HTTP/2 connection be dialled per endpoint; every stream
        // shares it.
        assert_eq!(
            relay.connections(),
            1,
            "HTTP/2 streams must share one upstream connection"
        );
    })
    .await;
}

#[tokio::test]
async fn http1_upstream_opens_connections_for_concurrent_requests() {
    within(T, async {
        // The contrast to multiplexing: HTTP/1.1 carries one request at a time per connection,
        // so concurrent slow requests each need their own, and all still succeed.
        let backend = Http::builder("b1").http1_only().start().await;
        let relay = CountingRelay::start(backend.addr()).await;
        let (_proxy, addr) = up(relay.addr()).protocol("http1").start().await;
        let mut calls = JoinSet::new();
        for _ in 0..5 {
            calls.spawn(async move { client::get(addr, "example.com", "/delay/300").await.unwrap() });
        }
        while let Some(done) = calls.join_next().await {
            assert_eq!(done.unwrap().status, StatusCode::OK);
        }
        assert_eq!(relay.connections(), 5);
        // Once they are idle, they are reused: five more concurrent requests open none.
        for _ in 0..5 {
            calls.spawn(async move { client::get(addr, "example.com", "/delay/300").await.unwrap() });
        }
        while let Some(done) = calls.join_next().await {
            assert_eq!(done.unwrap().status, StatusCode::OK);
        }
        assert_eq!(backend.requests(), 10);
        assert!(
            relay.connections() <= 7,
            "idle connections were not reused: {}",
            relay.connections()
        );
    })
    .await;
}
