//! Registry tests: the store under paused time, the API and the client side over real
//! servers on 127.0.0.1:0. Every wait is bounded.

mod api;
mod sources;
mod store;
mod xds;

use super::call::{self, CallError, HttpClient};
use super::*;
use bytes::Bytes;
use http::{Method, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// A registry with its own store on an OS-chosen port.
async fn serve(config: RegistryConfig) -> (RegistryHandle, std::sync::Arc<MemoryStore>) {
    let registry = Registry::new(config).unwrap();
    let store = registry.store();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (registry.serve(listener).unwrap(), store)
}

fn config(heartbeat_interval: Duration) -> RegistryConfig {
    RegistryConfig {
        heartbeat_interval,
        ..RegistryConfig::default()
    }
}

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// One request; the status and body whatever the status.
async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    body: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let body = body.map(|b| b.as_bytes().to_vec());
    let (status, bytes) = match call::call(client, method, url, body, Duration::from_secs(5)).await {
        Ok(ok) => ok,
        Err(CallError::Status { status, body }) => (status, Bytes::from(body)),
        Err(e) => panic!("{url}: {e}"),
    };
    (status, serde_json::from_slice(&bytes).unwrap())
}
