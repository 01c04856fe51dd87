//! The integration-test harness: real servers and clients, started in process on `127.0.0.1:0`.
//!
//! Every server here binds an ephemeral loopback port, reports its address, and stops when its handle
//! is dropped, so a test never leaks listeners into the next one and never collides on a fixed port.
//!
//! - [`backend`]: upstreams the proxy forwards to: an HTTP server that describes what it received
//!   ([`backend::Http`]), a gRPC echo + health server ([`backend::Grpc`]), a WebSocket echo server
//!   ([`backend::WebSocket`]) and a TCP echo server that proves half-close ([`backend::TcpEcho`]).
//! - [`client`]: downstream clients: HTTP/1.1, h2c and TLS (ALPN) connections, and raw TCP bytes.
//! - [`certs`] / [`tls`]: the test CA and server certificate, and rustls configurations built from them.
//! - [`dns`]: a DNS server whose records the test changes ([`dns::TestDnsServer`]).
//! - [`otlp`]: an OpenTelemetry collector (OTLP/gRPC `TraceService`) that hands received spans to
//!   the test ([`otlp::OtlpReceiver`]).
//! - [`python`]: runs the grpcio (Python) interop client.
//! - [`redis`]: a real `redis-server` on a free loopback port, for the registry's Redis store.
//! - [`proxy`]: starts a `mesh-proxy` in process from YAML (written out, or built with
//!   [`proxy::Config`]) and reads its admin stats.
//! - Here: [`within`] and [`eventually`] bound every wait; [`closed_port`] is an address nothing
//!   listens on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod backend;
pub mod certs;
pub mod client;
pub mod dns;
pub mod otlp;
pub mod proxy;
pub mod python;
pub mod redis;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The error type of the harness' fallible helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Aborts a background task when dropped: what makes every server here stop with its handle.
#[derive(Debug)]
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Awaits `fut`, panicking if it takes longer than `limit`: every test bounds its waits with this.
pub async fn within<F: Future>(limit: Duration, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {limit:?}"),
    }
}

/// Polls `check` every 10 ms until it holds; panics with `what` if it does not within `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An address on which nothing listens: bound, read, and closed again. Connecting to it is
/// refused (unless another test happens to bind the same port in between, which is unlikely).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr of a bound listener")
}
