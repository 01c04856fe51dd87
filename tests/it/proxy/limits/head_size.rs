//! Request heads over `max_request_headers_kb` or with more than `max_headers_count` fields get 431
//! from the codec, and never reach the backend.

use super::start;
use crate::proxy::routing::T;
use http::{HeaderValue, Method};
use mesh_tests::client::{self, Connection, body, raw};
use mesh_tests::within;
use std::net::SocketAddr;
use std::time::Duration;

/// A request for `path` with one `x-big` header of `value_len` bytes and `extra` more small header
/// fields (besides `Host` and `Connection`).
fn request(path: &str, value_len: usize, extra: usize) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n");
    if value_len > 0 {
        head.push_str(&format!("x-big: {}\r\n", "a".repeat(value_len)));
    }
    for i in 0..extra {
        head.push_str(&format!("x-h{i}: {i}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The status the proxy answers `bytes` with; also asserts that it closes the connection after.
async fn status_of(addr: SocketAddr, bytes: &[u8]) -> u16 {
    let out = raw::exchange(addr, bytes, Duration::from_secs(10)).await.unwrap();
    assert!(
        out.closed,
        "the proxy must close the connection: {:?}",
        out.text()
    );
    out.status()
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", out.text()))
}

// Refused heads are sent to the backend route (`/limits`), to prove none reaches it. Heads just
// inside the limits go to the direct-response route (`/direct`): the backend is a stock hyper
// server with its own limit of 100 fields, which the proxy's added `x-forwarded-*` would exceed.

#[tokio::test]
async fn default_limits_refuse_oversized_heads_with_431() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        // One header taking the head past 60 KiB, by a little and by a lot.
        assert_eq!(status_of(addr, &request("/limits", 61 * 1024, 0)).await, 431);
        assert_eq!(status_of(addr, &request("/limits", 62 * 1024, 0)).await, 431);
        assert_eq!(status_of(addr, &request("/limits", 1024 * 1024, 0)).await, 431);
        // 101 header fields (Host, Connection and 99 more) against the default of 100.
        assert_eq!(status_of(addr, &request("/limits", 0, 99)).await, 431);
        assert_eq!(b1.requests(), 0, "a refused head never reaches the backend");

        // Just inside both limits the request is served.
        assert_eq!(status_of(addr, &request("/direct", 59 * 1024, 0)).await, 200);
        assert_eq!(
            status_of(addr, &request("/direct", 0, 98)).await,
            200,
            "exactly 100 fields"
        );
        assert_eq!(status_of(addr, &request("/limits", 58 * 1024, 0)).await, 200);
        assert_eq!(b1.requests(), 1);

        // Over HTTP/2 the limit applies to the header list.
        let mut h2 = Connection::h2c(addr).await.unwrap();
        assert_eq!(h2_status(&mut h2, "/limits", 62 * 1024).await, 431);
        assert_eq!(b1.requests(), 1);
        assert_eq!(h2_status(&mut h2, "/direct", 59 * 1024).await, 200);
    })
    .await;
}

/// The status of `GET path` over `conn` with one `x-big` header of `value_len` bytes.
async fn h2_status(conn: &mut Connection, path: &str, value_len: usize) -> u16 {
    let mut req = client::request(Method::GET, "a", path, body::empty());
    req.headers_mut()
        .insert("x-big", HeaderValue::from_str(&"a".repeat(value_len)).unwrap());
    conn.send(req).await.unwrap().status.as_u16()
}

#[tokio::test]
async fn custom_limits_are_applied() {
    within(T, async {
        let (b1, _proxy, addr) = start("    max_request_headers_kb: 16\n    max_headers_count: 10\n").await;
        assert_eq!(status_of(addr, &request("/limits", 20 * 1024, 0)).await, 431);
        assert_eq!(status_of(addr, &request("/limits", 17 * 1024, 0)).await, 431);
        assert_eq!(
            status_of(addr, &request("/limits", 0, 9)).await,
            431,
            "11 fields against 10"
        );
        assert_eq!(b1.requests(), 0);
        assert_eq!(status_of(addr, &request("/limits", 10 * 1024, 0)).await, 200);
        assert_eq!(status_of(addr, &request("/direct", 15 * 1024, 0)).await, 200);
        assert_eq!(
            status_of(addr, &request("/direct", 0, 8)).await,
            200,
            "exactly 10 fields"
        );
        assert_eq!(b1.requests(), 1);
    })
    .await;
}
