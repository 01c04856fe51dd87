//! Upstream servers for the proxy to forward to, each on `127.0.0.1:0`, each stopped when dropped.

pub mod grpc;
pub mod http;
mod http_handler;
mod reset;
pub mod tcp_echo;
pub mod websocket;

pub use grpc::Grpc;
pub use http::{Http, HttpBuilder, HttpMode, Received};
pub use tcp_echo::TcpEcho;
pub use websocket::WebSocket;

use std::net::{Ipv4Addr, SocketAddr};
use tokio::net::TcpListener;

/// Binds `127.0.0.1:0`.
pub(crate) async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr of a bound listener");
    (listener, addr)
}
