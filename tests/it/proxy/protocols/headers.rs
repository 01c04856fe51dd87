//! Header hygiene between hops: `x-forwarded-*`, hop-by-hop removal, `te: trailers`, host
//! rewriting, and trailers in both directions over HTTP/2.

use super::{T, up};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use mesh_tests::backend::{Http, Received};
use mesh_tests::client::{self, Connection, body};
use mesh_tests::within;

/// A GET to `/` with `Host: example.com` and `headers`.
fn get_with(headers: &[(&'static str, &'static str)]) -> Request<client::ReqBody> {
    let mut req = client::request(Method::GET, "example.com", "/", body::empty());
    for (name, value) in headers {
        req.headers_mut().append(*name, HeaderValue::from_static(value));
    }
    req
}

#[tokio::test]
async fn x_forwarded_for_is_appended_or_set_and_proto_is_http() {
    within(T, async {
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).start().await;
        let mut conn = Connection::http1(addr).await.unwrap();

        let reply = conn
            .send(get_with(&[("x-forwarded-for", "1.2.3.4")]))
            .await
            .unwrap();
        let r = reply.received();
        assert_eq!(r.header_all("x-forwarded-for"), ["1.2.3.4, 127.0.0.1"]);
        assert_eq!(r.header_all("x-forwarded-proto"), ["http"]);

        let r = conn.send(get_with(&[])).await.unwrap().received();
        assert_eq!(r.header_all("x-forwarded-for"), ["127.0.0.1"]);
        assert_eq!(r.header_all("x-forwarded-proto"), ["http"]);

        // A client cannot pass itself off as having come over TLS.
        let r = conn
            .send(get_with(&[("x-forwarded-proto", "https")]))
            .await
            .unwrap()
            .received();
        assert_eq!(r.header_all("x-forwarded-proto"), ["http"]);
    })
    .await;
}

/// Sends hop-by-hop headers next to ordinary ones from an HTTP/1.1 client through a cluster
/// speaking `protocol`, and checks only the ordinary ones arrive.
async fn hop_by_hop_stripped(protocol: &'static str, backend: Http) {
    let (_proxy, addr) = up(backend.addr()).protocol(protocol).start().await;
    let mut conn = Connection::http1(addr).await.unwrap();
    let req = get_with(&[
        ("connection", "keep-alive, x-hop"),
        ("x-hop", "secret"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("te", "gzip"),
        ("x-ordinary", "kept"),
        ("x-multi", "one"),
        ("x-multi", "two"),
    ]);
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{protocol}: {}", reply.text());
    let r = reply.received();
    for hop in ["connection", "x-hop", "keep-alive", "proxy-connection", "te"] {
        assert!(
            !r.headers.contains_key(hop),
            "{protocol}: hop-by-hop header {hop} reached the backend: {:?}",
            r.headers
        );
    }
    assert_eq!(r.header_all("x-ordinary"), ["kept"], "{protocol}");
    assert_eq!(
        r.header_all("x-multi"),
        ["one", "two"],
        "{protocol}: repeated headers keep their order"
    );
    // `Connection: keep-alive` was about the downstream hop only: it stays open.
    let reply = conn.get("example.com", "/again").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{protocol}");
}

#[tokio::test]
async fn hop_by_hop_headers_do_not_reach_an_http1_backend() {
    within(
        T,
        hop_by_hop_stripped("http1", Http::builder("b1").http1_only().start().await),
    )
    .await;
}

#[tokio::test]
async fn hop_by_hop_headers_do_not_reach_an_http2_backend() {
    within(
        T,
        hop_by_hop_stripped("http2", Http::builder("b2").http2_only().start().await),
    )
    .await;
}

#[tokio::test]
async fn te_trailers_survives_to_an_http2_backend() {
    within(T, async {
        let backend = Http::builder("b2").http2_only().start().await;
        let (_proxy, addr) = up(backend.addr()).protocol("http2").start().await;
        // From an h2c client (as gRPC sends it) and from an HTTP/1.1 client.
        let mut h2 = Connection::h2c(addr).await.unwrap();
        let r = h2.send(get_with(&[("te", "trailers")])).await.unwrap().received();
        assert_eq!(r.header_all("te"), ["trailers"]);
        let mut h1 = Connection::http1(addr).await.unwrap();
        let r = h1.send(get_with(&[("te", "trailers")])).await.unwrap().received();
        assert_eq!(r.header_all("te"), ["trailers"]);
    })
    .await;
}

/// What `backend` saw of a GET for `example.com` from an HTTP/1.1 and from an h2c client, through
/// a cluster speaking `protocol` whose route has `host_rewrite_literal: rewrite`.
async fn rewritten(protocol: &str, backend: Http, rewrite: &str) -> Vec<Received> {
    let (_proxy, addr) = up(backend.addr())
        .protocol(protocol)
        .host_rewrite(rewrite)
        .start()
        .await;
    let mut seen = Vec::new();
    for mut conn in [
        Connection::http1(addr).await.unwrap(),
        Connection::h2c(addr).await.unwrap(),
    ] {
        seen.push(conn.get("example.com", "/").await.unwrap().received());
    }
    seen
}

#[tokio::test]
async fn host_rewrite_literal_changes_the_upstream_host() {
    within(T, async {
        // HTTP/1.1 upstream: the Host header.
        let b1 = Http::builder("b1").http1_only().start().await;
        for r in rewritten("http1", b1, "rewritten.internal:8080").await {
            assert_eq!(r.header_all("host"), ["rewritten.internal:8080"]);
        }

        // HTTP/2 upstream: :authority, and no stale Host beside it.
        let b2 = Http::builder("b2").http2_only().start().await;
        for r in rewritten("http2", b2, "rewritten.internal").await {
            assert_eq!(r.authority.as_deref(), Some("rewritten.internal"));
            assert!(
                r.header_all("host").iter().all(|h| h == "rewritten.internal"),
                "stale Host: {:?}",
                r.header_all("host")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn request_and_response_trailers_cross_http2() {
    within(T, async {
        let backend = Http::builder("b2").http2_only().start().await;
        let (_proxy, addr) = up(backend.addr()).protocol("http2").start().await;
        let mut conn = Connection::h2c(addr).await.unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", HeaderValue::from_static("abc123"));

        // Request trailers reach the backend.
        let req = client::request(
            Method::POST,
            "example.com",
            "/upload",
            body::with_trailers(vec![1u8; 5000], trailers.clone()),
        );
        let r = conn.send(req).await.unwrap().received();
        assert_eq!(r.body_len, 5000);
        assert!(r.trailers_received, "request trailers were dropped");
        assert_eq!(r.trailers.get("x-checksum"), Some(&vec!["abc123".to_owned()]));

        // `/echo` sends them back as response trailers, which reach the client.
        let req = client::request(
            Method::POST,
            "example.com",
            "/echo",
            body::with_trailers("payload", trailers),
        );
        let reply = conn.send(req).await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(&reply.body[..], b"payload");
        let got = reply.trailers.expect("response trailers were dropped");
        assert_eq!(got.get("x-checksum").map(|v| v.as_bytes()), Some(&b"abc123"[..]));
    })
    .await;
}

#[tokio::test]
async fn repeated_x_forwarded_for_lines_are_all_kept() {
    within(T, async {
        // Two field lines are one comma-separated list (RFC 9110 §5.3): no hop may be lost.
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).start().await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let req = get_with(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2")]);
        let r = conn.send(req).await.unwrap().received();
        assert_eq!(
            r.header_all("x-forwarded-for").join(", "),
            "1.1.1.1, 2.2.2.2, 127.0.0.1"
        );
    })
    .await;
}

#[tokio::test]
async fn h2_split_cookies_are_joined_for_an_http1_upstream() {
    within(T, async {
        // HTTP/2 clients may send each cookie as its own field (RFC 9113 §8.2.3); HTTP/1.1 allows
        // only one Cookie line (RFC 6265 §5.4), so they must be joined with "; " on the way.
        let backend = Http::builder("b1").http1_only().start().await;
        let (_proxy, addr) = up(backend.addr()).protocol("http1").start().await;
        let mut conn = Connection::h2c(addr).await.unwrap();
        let req = get_with(&[("cookie", "a=1"), ("cookie", "b=2")]);
        let r = conn.send(req).await.unwrap().received();
        assert_eq!(r.header_all("cookie"), ["a=1; b=2"]);
    })
    .await;
}
