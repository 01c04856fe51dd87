//! Starts a `mesh-proxy` in process from YAML.
//!
//! Addresses in the YAML should be `127.0.0.1:0`; ask the returned [`mesh_proxy::Running`] for
//! `listener_addr(name)` / `admin_addr()`.

/// Loads `yaml` (origin `test.yaml`) and starts the proxy; panics with the full error on failure.
pub async fn start(yaml: &str) -> mesh_proxy::Running {
    let config = mesh_core::load::from_yaml(yaml, "test.yaml")
        .unwrap_or_else(|e| panic!("invalid proxy config:\n{e}\n--- yaml ---\n{yaml}"));
    mesh_proxy::start(config)
        .await
        .unwrap_or_else(|e| panic!("mesh_proxy::start failed: {e}\n--- yaml ---\n{yaml}"))
}

/// Like [`start`], then returns the address of listener `name` too (panics if there is none).
pub async fn start_with_listener(yaml: &str, name: &str) -> (mesh_proxy::Running, std::net::SocketAddr) {
    let running = start(yaml).await;
    let addr = running
        .listener_addr(name)
        .unwrap_or_else(|| panic!("proxy has no listener named {name:?}"));
    (running, addr)
}
