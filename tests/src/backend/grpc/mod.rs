//! A gRPC backend (tonic, no codegen): `grpc.health.v1.Health` and the echo service `mesh.test.Echo`.
//!
//! `mesh.test.Echo` (see [`echo`]) has `Unary` (echoes the text, adds the trailer
//! `x-echo-trailer: yes`) and `Bidi` (echoes every message, ends with OK); a message with text
//! `"fail"` gets `INVALID_ARGUMENT` ("fail requested"). Responses carry `x-backend: {name}` metadata.
//! Health reports SERVING for `""` and `"mesh.test.Echo"` until [`Grpc::set_serving`] says otherwise.

pub mod client;
pub mod echo;
pub mod raw;

pub use client::EchoClient;
pub use echo::{ECHO_SERVICE, EchoMessage, EchoService};

use super::bind_loopback;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// A running gRPC backend; dropping it stops accepting and sends GOAWAY on open connections.
#[derive(Debug)]
pub struct Grpc {
    name: String,
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    health: HealthReporter,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Grpc {
    /// Binds `127.0.0.1:0` and serves health + echo (h2c only, as gRPC is).
    pub async fn start(name: &str) -> Grpc {
        let (listener, addr) = bind_loopback().await;
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        health
            .set_service_status(ECHO_SERVICE, ServingStatus::Serving)
            .await;
        let calls = Arc::new(AtomicUsize::new(0));
        let echo = EchoService::new(name, calls.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let router = tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(echo);
        tokio::spawn(async move {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            let _ = router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Grpc {
            name: name.to_owned(),
            addr,
            calls,
            health,
            shutdown: Some(shutdown),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Echo calls (`Unary` and `Bidi`) received so far; health checks are not counted.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sets the health of `""` and `mesh.test.Echo` to SERVING or NOT_SERVING.
    pub async fn set_serving(&self, serving: bool) {
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.health.set_service_status("", status).await;
        self.health.set_service_status(ECHO_SERVICE, status).await;
    }
}

impl Drop for Grpc {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
