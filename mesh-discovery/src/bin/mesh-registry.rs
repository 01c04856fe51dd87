//! mesh-registry: the mesh's discovery service with its embedded store.
//!
//! Run: `cargo run -p mesh-discovery --bin mesh-registry -- --listen 127.0.0.1:8500`, then
//! `curl -X PUT 127.0.0.1:8500/v1/services/api/instances/10.0.0.1:8080 -d '{"zone":"a"}'` and
//! `curl 127.0.0.1:8500/v1/services/api`. The API is documented in `mesh_discovery::registry`.
//! Logs go to stderr (`RUST_LOG=debug` for more); Ctrl-C stops it.

use clap::Parser;
use mesh_discovery::registry::{Registry, RegistryConfig};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "The mesh registry: hosts register and heartbeat, proxies follow them"
)]
struct Args {
    /// Address of the HTTP/JSON API.
    #[arg(long, env = "MESH_REGISTRY_LISTEN", default_value = "127.0.0.1:8500")]
    listen: SocketAddr,
    /// How often hosts are told to heartbeat.
    #[arg(long, env = "MESH_REGISTRY_HEARTBEAT_INTERVAL", default_value = "60s", value_parser = duration)]
    heartbeat_interval: Duration,
    /// How long a host stays without a heartbeat (default: 3 heartbeat intervals).
    #[arg(long, env = "MESH_REGISTRY_TTL", value_parser = duration)]
    ttl: Option<Duration>,
}

fn duration(text: &str) -> Result<Duration, String> {
    mesh_core::duration::parse(text)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = RegistryConfig {
        heartbeat_interval: args.heartbeat_interval,
        ttl: args.ttl,
        sweep_interval: None,
    };
    let registry = Registry::new(config)?;
    let ttl = registry.ttl();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let server = registry.serve(listener)?;
    tracing::info!(listen = %server.local_addr(), ?ttl, "mesh-registry serving");
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    server.stop();
    Ok(())
}
