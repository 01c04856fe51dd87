//! Graceful drain in process: `Running::shutdown` stops accepting, reports `DRAINING` on `/ready`,
//! lets in-flight requests finish within `drain_timeout`, and closes what is left after it.

use super::super::routing::T;
use http::StatusCode;
use mesh_proxy::DrainOutcome;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

fn yaml(drain_timeout: &str, b1: SocketAddr) -> String {
    let yaml = r#"
admin: { address: 127.0.0.1:0 }
drain_timeout: DRAIN
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: b1, timeout: 0s } } ] }
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;
    fill(&yaml.replace("DRAIN", drain_timeout), &[("B1", b1)])
}

/// Waits until the backend has received `n` requests.
async fn backend_saw(requests: &AtomicUsize, n: usize) {
    eventually(
        Duration::from_secs(10),
        "the request reached the backend",
        || async { requests.load(Ordering::SeqCst) >= n },
    )
    .await;
}

#[tokio::test]
async fn drain_finishes_in_flight_requests_and_refuses_new_connections() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&yaml("30s", b1.addr()), "web").await;
        let admin = running.admin_addr();
        let mut idle = Connection::http1(addr).await.unwrap();
        assert_eq!(idle.get("a", "/").await.unwrap().status, StatusCode::OK);

        let in_flight = tokio::spawn(client::get(addr, "a", "/delay/1500"));
        backend_saw(&b1.request_counter(), 2).await;
        let shutdown = tokio::spawn(running.shutdown());

        // While the request is still running, the admin reports the drain.
        eventually(Duration::from_secs(5), "/ready answers 503", || async {
            admin_get(admin, "/ready").await.status == StatusCode::SERVICE_UNAVAILABLE
        })
        .await;
        assert_eq!(admin_get(admin, "/ready").await.text().trim(), "DRAINING");
        // The listener stops accepting: new connections are refused.
        eventually(
            Duration::from_secs(5),
            "connections to the listener are refused",
            || async { TcpStream::connect(addr).await.is_err() },
        )
        .await;
        // An idle keep-alive connection is closed rather than left to hold the drain up.
        eventually(
            Duration::from_secs(5),
            "the idle connection is closed",
            || async { idle.is_closed() },
        )
        .await;
        assert!(
            !in_flight.is_finished() && !shutdown.is_finished(),
            "the drain waits for the request"
        );

        let reply = in_flight.await.unwrap().expect("the in-flight request completes");
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.received().path, "/delay/1500");
        assert_eq!(shutdown.await.unwrap(), DrainOutcome::Complete);
    })
    .await;
}

#[tokio::test]
async fn drain_timeout_closes_what_is_left() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&yaml("500ms", b1.addr()), "web").await;
        let in_flight = tokio::spawn(client::get(addr, "a", "/delay/10000"));
        backend_saw(&b1.request_counter(), 1).await;

        let started = Instant::now();
        let outcome = running.shutdown().await;
        let took = started.elapsed();
        assert_eq!(outcome, DrainOutcome::TimedOut);
        assert!(
            took >= Duration::from_millis(450),
            "returned after {took:?}, before the drain timeout"
        );
        assert!(took < Duration::from_secs(2), "returned after {took:?}");

        // The client sees its connection closed, not a response.
        let result = within(Duration::from_secs(5), in_flight).await.unwrap();
        assert!(result.is_err(), "want a closed connection, got {result:?}");
    })
    .await;
}

#[tokio::test]
async fn drain_with_nothing_in_flight_completes_at_once() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&yaml("30s", b1.addr()), "web").await;
        let mut h1 = Connection::http1(addr).await.unwrap();
        let mut h2 = Connection::h2c(addr).await.unwrap();
        assert_eq!(h1.get("a", "/").await.unwrap().status, StatusCode::OK);
        assert_eq!(h2.get("a", "/").await.unwrap().status, StatusCode::OK);

        // Nor may a connection that has not sent a byte yet.
        let _silent = TcpStream::connect(addr).await.unwrap();

        let started = Instant::now();
        // Idle h1 and h2 connections must not hold a 30s drain up.
        assert_eq!(running.shutdown().await, DrainOutcome::Complete);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
    })
    .await;
}
