//! Slow and idle clients: `request_headers_timeout` (slowloris) and `idle_timeout`.

use super::start;
use crate::proxy::routing::T;
use http::StatusCode;
use mesh_tests::client::{Connection, raw::RawConn};
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long after `started` the proxy closed `conn`, reading for at most 10 s.
async fn closed_after(conn: &mut RawConn, started: Instant) -> Duration {
    let out = conn.read_for(Duration::from_secs(10)).await;
    assert!(
        out.closed,
        "the proxy did not close the connection within 10 s: {:?}",
        out.text()
    );
    started.elapsed()
}

async fn assert_closed_by_timeout(conn: &mut RawConn, started: Instant, what: &str) {
    let after = closed_after(conn, started).await;
    assert!(
        after >= Duration::from_millis(800),
        "{what}: closed after {after:?}, before the 1s timeout"
    );
}

#[tokio::test]
async fn slow_request_head_is_cut_off() {
    within(T, async {
        let (b1, _proxy, addr) = start("    request_headers_timeout: 1s\n").await;

        // Half a head, then nothing.
        let mut slow = RawConn::connect(addr).await.unwrap();
        let started = Instant::now();
        slow.send(b"GET /slow HTTP/1.1\r\nHost: a\r\nx-partial: 1")
            .await
            .unwrap();
        assert_closed_by_timeout(&mut slow, started, "partial head").await;

        // A head that arrives in pieces but completes in time is served.
        let mut ok = RawConn::connect(addr).await.unwrap();
        ok.send(b"GET /ok HTTP/1.1\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        ok.send(b"Host: a\r\nConnection: close\r\n\r\n").await.unwrap();
        let out = ok.read_for(Duration::from_secs(10)).await;
        assert_eq!(out.status(), Some(200), "{:?}", out.text());
        assert_eq!(b1.requests(), 1, "the cut-off request never reached the backend");
    })
    .await;
}

/// The clock starts when the connection begins to wait for a request, so a connection that sends
/// nothing at all, or nothing after its last request, is closed too.
#[tokio::test]
async fn silent_connections_are_closed_by_the_head_timeout() {
    within(T, async {
        let (_b1, _proxy, addr) = start("    request_headers_timeout: 1s\n").await;

        let mut silent = RawConn::connect(addr).await.unwrap();
        assert_closed_by_timeout(&mut silent, Instant::now(), "no bytes at all").await;

        let mut kept_alive = RawConn::connect(addr).await.unwrap();
        kept_alive
            .send(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let out = kept_alive
            .read_until(b"\"tls\":false}", Duration::from_secs(10))
            .await;
        assert_eq!(out.status(), Some(200), "{:?}", out.text());
        assert!(!out.closed);
        assert_closed_by_timeout(&mut kept_alive, Instant::now(), "idle after a request").await;
    })
    .await;
}

/// Waits until `conn` is closed by the proxy; returns how long that took.
async fn wait_closed(conn: &Connection) -> Duration {
    let started = Instant::now();
    eventually(
        Duration::from_secs(10),
        "the proxy closes the connection",
        || async { conn.is_closed() },
    )
    .await;
    started.elapsed()
}

async fn idle_connection_is_closed(addr: SocketAddr, h2: bool) {
    let mut conn = if h2 {
        Connection::h2c(addr).await.unwrap()
    } else {
        Connection::http1(addr).await.unwrap()
    };
    assert_eq!(conn.get("a", "/").await.unwrap().status, StatusCode::OK);
    let after = wait_closed(&conn).await;
    assert!(
        after >= Duration::from_millis(700),
        "closed after {after:?}, before the 1s idle timeout"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    within(T, async {
        let (_b1, _proxy, addr) = start("    idle_timeout: 1s\n").await;
        idle_connection_is_closed(addr, false).await;
        idle_connection_is_closed(addr, true).await;

        // A connection that keeps moving bytes stays open past the timeout.
        let mut busy = Connection::http1(addr).await.unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(2500) {
            assert_eq!(busy.get("a", "/").await.unwrap().status, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(!busy.is_closed());
    })
    .await;
}
