//! TLS at both ends: terminated on the listener (ALPN picks the downstream version) and
//! originated to the cluster (`tls: { ca_file, sni }`, ALPN per the cluster's `protocol`).

use super::{T, up};
use http::{StatusCode, Version};
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::{tls, within};

#[tokio::test]
async fn listener_tls_alpn_h2_gets_http2() {
    within(T, async {
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).listener_tls().start().await;
        let mut conn = Connection::tls(addr, "localhost", &[tls::H2, tls::HTTP11])
            .await
            .unwrap();
        assert_eq!(
            conn.version(),
            Version::HTTP_2,
            "the proxy must choose h2 when offered"
        );
        let reply = conn.get("example.com", "/secure?a=1").await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.version, Version::HTTP_2);
        let r = reply.received();
        assert_eq!(r.path, "/secure?a=1");
        assert_eq!(
            r.header("host"),
            Some("example.com"),
            "the :authority becomes Host upstream"
        );
        assert_eq!(r.header("x-forwarded-proto"), Some("https"));
        // The cluster is plaintext http1: TLS ends at the proxy.
        assert_eq!((r.version.as_str(), r.tls), ("HTTP/1.1", false));
    })
    .await;
}

#[tokio::test]
async fn listener_tls_alpn_http11_gets_http11() {
    within(T, async {
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).listener_tls().start().await;
        let mut conn = Connection::tls(addr, "localhost", &[tls::HTTP11]).await.unwrap();
        assert_eq!(conn.version(), Version::HTTP_11);
        for _ in 0..2 {
            let reply = conn.get("example.com", "/").await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            assert_eq!(reply.version, Version::HTTP_11);
            let r = reply.received();
            assert_eq!(r.header("x-forwarded-proto"), Some("https"));
            assert_eq!(r.header("host"), Some("example.com"));
        }
        // The certificate is valid for the IP too, and one-shot clients work the same.
        let reply = client::tls_get(addr, &[tls::H2], "example.com", "/")
            .await
            .unwrap();
        assert_eq!(reply.version, Version::HTTP_2);
        Connection::tls(addr, "127.0.0.1", &[tls::H2]).await.unwrap();
    })
    .await;
}

/// GET through a cluster with `protocol` over TLS (SNI `localhost`) to `backend`; returns what
/// the backend saw.
async fn via_upstream_tls(protocol: &'static str, backend: &Http, downstream_h2: bool) -> String {
    let (_proxy, addr) = up(backend.addr())
        .protocol(protocol)
        .upstream_tls("localhost")
        .start()
        .await;
    let mut conn = if downstream_h2 {
        Connection::h2c(addr).await.unwrap()
    } else {
        Connection::http1(addr).await.unwrap()
    };
    let reply = conn.get("example.com", "/over/tls?x=1").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{protocol}: {}", reply.text());
    let r = reply.received();
    assert!(r.tls, "{protocol}: the backend connection must be TLS");
    assert_eq!(r.path, "/over/tls?x=1", "{protocol}");
    let host = r.authority.as_deref().or(r.header("host"));
    assert_eq!(host, Some("example.com"), "{protocol}: the original host is kept");
    r.version
}

#[tokio::test]
async fn upstream_tls_http1() {
    within(T, async {
        let backend = Http::builder("t1").tls(true).start().await;
        assert_eq!(via_upstream_tls("http1", &backend, false).await, "HTTP/1.1");
        // An h2 downstream is translated down to HTTP/1.1 over TLS too.
        assert_eq!(via_upstream_tls("http1", &backend, true).await, "HTTP/1.1");
    })
    .await;
}

#[tokio::test]
async fn upstream_tls_http2() {
    within(T, async {
        let backend = Http::builder("t2").http2_only().tls(true).start().await;
        assert_eq!(via_upstream_tls("http2", &backend, false).await, "HTTP/2.0");
        assert_eq!(via_upstream_tls("http2", &backend, true).await, "HTTP/2.0");
    })
    .await;
}

#[tokio::test]
async fn upstream_tls_auto_negotiates_with_alpn() {
    within(T, async {
        // An h2-capable backend: ALPN picks h2 whatever the downstream spoke.
        let both = Http::builder("both").tls(true).start().await;
        assert_eq!(via_upstream_tls("auto", &both, false).await, "HTTP/2.0");
        assert_eq!(via_upstream_tls("auto", &both, true).await, "HTTP/2.0");
        // An HTTP/1.1-only backend: ALPN falls back to http/1.1, whatever the downstream spoke.
        let h1 = Http::builder("h1").http1_only().tls(true).start().await;
        assert_eq!(via_upstream_tls("auto", &h1, false).await, "HTTP/1.1");
        assert_eq!(via_upstream_tls("auto", &h1, true).await, "HTTP/1.1");
    })
    .await;
}

#[tokio::test]
async fn upstream_tls_with_wrong_sni_is_a_connect_failure() {
    within(T, async {
        let backend = Http::builder("t1").tls(true).start().await;
        for protocol in ["http1", "http2", "auto"] {
            let (_proxy, addr) = up(backend.addr())
                .protocol(protocol)
                .upstream_tls("wrong.example")
                .start()
                .await;
            let reply = client::get(addr, "example.com", "/").await.unwrap();
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{protocol}: {}",
                reply.text()
            );
            assert_eq!(reply.header("x-mesh-response-flags"), Some("UF"), "{protocol}");
        }
        // The handshake failed before any request reached the backend.
        assert_eq!(backend.requests(), 0);
    })
    .await;
}
