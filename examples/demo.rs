//! A working mesh on this machine in one command:
//!
//! ```text
//! cargo run -p mesh-examples --example demo
//! curl -s localhost:10000/            # answers from backends 1, 2 (twice as often) and, 10% of the time, the canary
//! curl -s localhost:10000/hello       # answered by the proxy itself
//! curl -si localhost:10000/old/page   # 302 to /new/page
//! curl -s localhost:10000/api/users   # backend sees /v2/users
//! curl -s localhost:9901/stats/prometheus
//! ```
//!
//! It reads `examples/demo.yaml`, starts a small HTTP backend on each HTTP endpoint
//! address there (and a TCP echo service for the `echo` cluster), then starts the
//! proxy from the same file. Ctrl-C drains and exits.

use mesh_examples::{serve_echo, serve_http_backend};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/demo.yaml");
    let config = match mesh_core::load::load_file(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut n = 0;
    for cluster in &config.clusters {
        for endpoint in &cluster.endpoints {
            let started = if cluster.name == "echo" {
                serve_echo(endpoint.address).await
            } else {
                n += 1;
                serve_http_backend(format!("backend-{n} ({})", cluster.name), endpoint.address).await
            };
            if let Err(e) = started {
                eprintln!("cannot start a demo backend on {}: {e}", endpoint.address);
                return ExitCode::FAILURE;
            }
        }
    }
    let proxy = match mesh_proxy::start(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot start the proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "mesh demo ready: curl http://{}/  (admin: http://{}/)  Ctrl-C to stop",
        proxy
            .listener_addr("web")
            .map(|a| a.to_string())
            .unwrap_or_default(),
        proxy.admin_addr()
    );
    mesh_proxy::shutdown_signal().await;
    println!("draining: {:?}", proxy.shutdown().await);
    ExitCode::SUCCESS
}
