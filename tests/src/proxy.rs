//! Starts a `mesh-proxy` in process from YAML, and reads its admin listener.
//!
//! Addresses in the YAML should be `127.0.0.1:0`; ask the returned [`mesh_proxy::Running`] for
//! `listener_addr(name)` / `admin_addr()`.
//!
//! - [`Config`]: builds the YAML of the common proxy (one listener, one route, one cluster).
//! - [`fill`]: puts backend addresses into YAML written out in full (`$B1` placeholders).
//! - [`admin_get`] / [`counter`]: admin pages and Prometheus counters.
//! - [`Trio`]: three backends behind one proxy.
//! - [`EndpointsFile`]: an endpoints file for a cluster with file discovery.

mod admin;
mod config;
mod endpoints_file;
mod trio;

pub use admin::{admin_get, admin_post, counter};
pub use config::{Config, LISTENER};
pub use endpoints_file::EndpointsFile;
pub use trio::Trio;

use std::net::SocketAddr;

/// Loads `yaml` (origin `test.yaml`) and starts the proxy; panics with the full error on failure.
pub async fn start(yaml: &str) -> mesh_proxy::Running {
    let config = mesh_core::load::from_yaml(yaml, "test.yaml")
        .unwrap_or_else(|e| panic!("invalid proxy config:\n{e}\n--- yaml ---\n{yaml}"));
    mesh_proxy::start(config)
        .await
        .unwrap_or_else(|e| panic!("mesh_proxy::start failed: {e}\n--- yaml ---\n{yaml}"))
}

/// Like [`start`], then returns the address of listener `name` too (panics if there is none).
pub async fn start_with_listener(yaml: &str, name: &str) -> (mesh_proxy::Running, SocketAddr) {
    let running = start(yaml).await;
    let addr = running
        .listener_addr(name)
        .unwrap_or_else(|| panic!("proxy has no listener named {name:?}"));
    (running, addr)
}

/// Replaces each `$NAME` in `yaml` with its address (longest names first, so `$B10` is not read as
/// `$B1` followed by `0`).
pub fn fill(yaml: &str, vars: &[(&str, SocketAddr)]) -> String {
    let mut vars = vars.to_vec();
    vars.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    vars.iter().fold(yaml.to_owned(), |yaml, (name, addr)| {
        yaml.replace(&format!("${name}"), &addr.to_string())
    })
}
