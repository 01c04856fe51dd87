//! HTTP version translation: each downstream version (HTTP/1.1, h2c) to each upstream version,
//! chosen by the cluster's `protocol`, with `auto` following the downstream in cleartext.

use super::{T, pattern, up};
use http::{Method, StatusCode, Version};
use mesh_tests::backend::{Http, HttpBuilder};
use mesh_tests::client::{self, Connection, body};
use mesh_tests::within;

/// The downstream side of a case.
#[derive(Debug, Clone, Copy)]
enum Down {
    H1,
    H2c,
}

impl Down {
    async fn connect(self, addr: std::net::SocketAddr) -> Connection {
        match self {
            Down::H1 => Connection::http1(addr).await.unwrap(),
            Down::H2c => Connection::h2c(addr).await.unwrap(),
        }
    }
}

/// Sends a described POST and an `/echo` through a proxy whose cluster speaks `protocol` to
/// `backend`, from a `down` client, and checks what the backend saw arrived as `want_version`.
async fn translate(down: Down, protocol: &'static str, backend: HttpBuilder, want_version: &str) {
    let backend = backend.start().await;
    let (_proxy, addr) = up(backend.addr()).protocol(protocol).start().await;
    let mut conn = down.connect(addr).await;
    let case = format!("{down:?} → {protocol} ({want_version})");

    let req = client::request(
        Method::POST,
        "example.com",
        "/some/path?q=1&r=two",
        body::full(vec![7u8; 1000]),
    );
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text());
    assert_eq!(reply.version, conn.version(), "{case}: downstream version");
    assert_eq!(reply.header("x-backend"), Some("b1"), "{case}");
    let r = reply.received();
    assert_eq!(r.version, want_version, "{case}: upstream version");
    assert_eq!(r.method, "POST", "{case}");
    assert_eq!(r.path, "/some/path?q=1&r=two", "{case}");
    assert_eq!(r.body_len, 1000, "{case}: request body length");
    // The original host is kept: h2 carries it as :authority, HTTP/1.1 as Host.
    if want_version == "HTTP/2.0" {
        assert_eq!(r.authority.as_deref(), Some("example.com"), "{case}: :authority");
    } else {
        assert_eq!(r.header("host"), Some("example.com"), "{case}: Host");
    }

    // A response body larger than one h2 window and one read buffer comes back byte for byte.
    let payload = pattern(300_000);
    let req = client::request(Method::POST, "example.com", "/echo", body::full(payload.clone()));
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text());
    assert_eq!(reply.body.len(), payload.len(), "{case}: echoed length");
    assert!(reply.body == payload, "{case}: echoed body differs");
    assert_eq!(backend.requests(), 2, "{case}");
}

#[tokio::test]
async fn h1_to_h1() {
    within(
        T,
        translate(Down::H1, "http1", Http::builder("b1").http1_only(), "HTTP/1.1"),
    )
    .await;
}

#[tokio::test]
async fn h1_to_h2() {
    within(
        T,
        translate(Down::H1, "http2", Http::builder("b1").http2_only(), "HTTP/2.0"),
    )
    .await;
}

#[tokio::test]
async fn h2c_to_h1() {
    within(
        T,
        translate(Down::H2c, "http1", Http::builder("b1").http1_only(), "HTTP/1.1"),
    )
    .await;
}

#[tokio::test]
async fn h2c_to_h2() {
    within(
        T,
        translate(Down::H2c, "http2", Http::builder("b1").http2_only(), "HTTP/2.0"),
    )
    .await;
}

#[tokio::test]
async fn auto_in_cleartext_follows_the_downstream_version() {
    within(T, async {
        // The backend speaks both, so only the proxy's choice decides the version.
        translate(Down::H1, "auto", Http::builder("b1"), "HTTP/1.1").await;
        translate(Down::H2c, "auto", Http::builder("b1"), "HTTP/2.0").await;
    })
    .await;
}

#[tokio::test]
async fn auto_in_cleartext_switches_per_request_on_one_cluster() {
    within(T, async {
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).protocol("auto").start().await;
        let mut h1 = Connection::http1(addr).await.unwrap();
        let mut h2 = Connection::h2c(addr).await.unwrap();
        assert_eq!(h2.version(), Version::HTTP_2);
        for _ in 0..2 {
            let r = h1.get("example.com", "/").await.unwrap().received();
            assert_eq!(r.version, "HTTP/1.1");
            let r = h2.get("example.com", "/").await.unwrap().received();
            assert_eq!(r.version, "HTTP/2.0");
        }
        assert_eq!(backend.requests(), 4);
    })
    .await;
}
