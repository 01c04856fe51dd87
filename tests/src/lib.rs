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
//! - [`python`]: runs the grpcio (Python) interop client.
//! - [`proxy`]: starts a `mesh-proxy` in process from YAML.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod backend;
pub mod certs;
pub mod client;
pub mod proxy;
pub mod python;
pub mod tls;

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
pub async fn within<F: std::future::Future>(limit: std::time::Duration, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {limit:?}"),
    }
}
