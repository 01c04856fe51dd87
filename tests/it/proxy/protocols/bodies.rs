//! Large and streamed bodies through the proxy, and `Expect: 100-continue`.

use super::up;
use http::{Method, StatusCode};
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection, RawConn, body};
use mesh_tests::within;
use std::time::Duration;

/// Big bodies take longer on a shared 2-core machine, in a debug build.
const BIG: Duration = Duration::from_secs(60);
const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn chunked_10mib_upload_from_http1_arrives_whole() {
    within(BIG, async {
        let backend = Http::start("b1").await;
        for protocol in ["http1", "http2"] {
            let (_proxy, addr) = up(backend.addr()).protocol(protocol).start().await;
            let mut conn = Connection::http1(addr).await.unwrap();
            // A stream with no known length: hyper sends it chunked, with no content-length.
            let req = client::request(Method::PUT, "example.com", "/upload", body::zeros(10 * MIB));
            let reply = conn.send(req).await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{protocol}: {}", reply.text());
            let r = reply.received();
            assert_eq!(r.body_len, 10 * MIB, "{protocol}: upload truncated or padded");
            assert_eq!(
                r.header("content-length"),
                None,
                "{protocol}: no length was ever known"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn ten_mib_upload_from_h2c_arrives_whole() {
    within(BIG, async {
        // Far beyond the listener's 1 MiB connection window: flow control must keep it moving.
        let backend = Http::start("b1").await;
        for protocol in ["http1", "http2"] {
            let (_proxy, addr) = up(backend.addr()).protocol(protocol).start().await;
            let mut conn = Connection::h2c(addr).await.unwrap();
            let req = client::request(Method::PUT, "example.com", "/upload", body::zeros(10 * MIB));
            let reply = conn.send(req).await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{protocol}: {}", reply.text());
            assert_eq!(
                reply.received().body_len,
                10 * MIB,
                "{protocol}: upload truncated or padded"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn five_mib_download_streams_back_over_http1_and_h2c() {
    within(BIG, async {
        let n = 5 * MIB as usize;
        let path = format!("/bytes/{n}");
        for protocol in ["http1", "http2"] {
            let backend = Http::start("b1").await;
            let (_proxy, addr) = up(backend.addr()).protocol(protocol).start().await;
            for mut conn in [
                Connection::http1(addr).await.unwrap(),
                Connection::h2c(addr).await.unwrap(),
            ] {
                let case = format!("{:?} → {protocol}", conn.version());
                let reply = conn.get("example.com", &path).await.unwrap();
                assert_eq!(reply.status, StatusCode::OK, "{case}");
                assert_eq!(
                    reply.header("content-length"),
                    Some(n.to_string().as_str()),
                    "{case}"
                );
                assert_eq!(reply.body.len(), n, "{case}: body length");
                assert!(reply.body.iter().all(|&b| b == b'x'), "{case}: body corrupted");
                // The connection is still usable after a large body.
                assert_eq!(conn.get("example.com", "/").await.unwrap().status, StatusCode::OK);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn expect_100_continue_gets_100_before_the_final_response() {
    within(super::T, async {
        let backend = Http::start("b1").await;
        let (_proxy, addr) = up(backend.addr()).start().await;
        let mut conn = RawConn::connect(addr).await.unwrap();
        let body = b"hello, continued world";
        let head = format!(
            "POST /upload HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.send(head.as_bytes()).await.unwrap();
        let interim = conn.read_until(b"\r\n\r\n", Duration::from_secs(10)).await;
        assert!(
            interim.text().starts_with("HTTP/1.1 100 Continue\r\n"),
            "want 100 Continue before sending the body, got {interim:?}"
        );

        conn.send(body).await.unwrap();
        // `Connection: close`: the whole final response is what arrives before the close.
        let fin = conn.read_for(Duration::from_secs(10)).await;
        assert!(
            fin.closed,
            "the connection should close after the response: {fin:?}"
        );
        assert_eq!(fin.status(), Some(200), "{}", fin.text());
        let text = fin.text();
        let json = &text[text.find("\r\n\r\n").unwrap() + 4..];
        let r: mesh_tests::backend::Received = serde_json::from_str(json).unwrap();
        assert_eq!(r.body_len, body.len() as u64);
        assert_eq!(r.method, "POST");
        assert!(
            !r.headers.contains_key("expect"),
            "the proxy answered the expectation itself"
        );
    })
    .await;
}
