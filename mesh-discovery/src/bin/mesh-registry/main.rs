//! mesh-registry: the mesh's discovery service, with its embedded store or on a shared Redis.
//!
//! Run: `cargo run -p mesh-discovery --bin mesh-registry -- --listen 127.0.0.1:8500`, then
//! `curl -X PUT 127.0.0.1:8500/v1/services/api/instances/10.0.0.1:8080 -d '{"zone":"a"}'` and
//! `curl 127.0.0.1:8500/v1/services/api`. The API is documented in `mesh_discovery::registry`.
//! With `--xds-listen 127.0.0.1:18000` it also serves its services over xDS (ADS), for Envoy
//! and gRPC `xds:///service` clients (see `docs/registry.md`).
//! With `--redis redis://127.0.0.1:6379` (or `MESH_REGISTRY_REDIS`) the hosts live in Redis, and
//! every replica started on the same Redis and `--redis-prefix` serves the same registry. A Redis
//! that is down at start is not fatal: the API answers 503 until it is reachable.
//! `mesh-registry heartbeat --registry 127.0.0.1:8500 --service api --address 10.0.0.1:8080`
//! keeps one host registered (a side task beside an app that does not heartbeat itself) and
//! deregisters it on Ctrl-C or SIGTERM.
//! Logs go to stderr (`RUST_LOG=debug` for more); Ctrl-C stops it.

mod heartbeat;

use clap::{Parser, Subcommand};
use mesh_discovery::registry::{
    DEFAULT_REDIS_PREFIX, RedisStore, RedisStoreConfig, Registry, RegistryConfig, Store,
};
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
    /// Also serve the services over xDS (ADS: CDS, EDS, LDS) on this address (default: off).
    #[arg(long, env = "MESH_REGISTRY_XDS_LISTEN")]
    xds_listen: Option<SocketAddr>,
    /// Keep the hosts in this Redis (shared by every replica) instead of in process.
    #[arg(long, env = "MESH_REGISTRY_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// Prefix of every Redis key; replicas of one registry use the same one.
    #[arg(long, env = "MESH_REGISTRY_REDIS_PREFIX", default_value = DEFAULT_REDIS_PREFIX)]
    redis_prefix: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Keep one host registered until Ctrl-C or SIGTERM, then deregister it.
    Heartbeat(heartbeat::HeartbeatArgs),
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
    if let Some(Command::Heartbeat(beat)) = args.command {
        return heartbeat::run(beat).await;
    }
    let config = RegistryConfig {
        heartbeat_interval: args.heartbeat_interval,
        ttl: args.ttl,
        sweep_interval: None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let xds = match args.xds_listen {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await?),
        None => None,
    };
    match args.redis {
        None => serve(Registry::new(config)?, listener, xds).await,
        Some(url) => {
            let store = RedisStore::new(RedisStoreConfig {
                prefix: args.redis_prefix,
                ..RedisStoreConfig::new(url)
            })?;
            if let Err(e) = store.ping().await {
                tracing::warn!("{e}; serving 503 until it answers");
            }
            serve(Registry::with_store(config, store)?, listener, xds).await
        }
    }
}

async fn serve<S: Store>(
    mut registry: Registry<S>,
    listener: tokio::net::TcpListener,
    xds: Option<tokio::net::TcpListener>,
) -> Result<(), Box<dyn std::error::Error>> {
    let ttl = registry.ttl();
    if let Some(xds) = xds {
        registry = registry.with_xds(xds);
    }
    let server = registry.serve(listener)?;
    let xds = server.xds_addr().map(|a| a.to_string());
    let store = if std::any::type_name::<S>().contains("Redis") {
        "redis"
    } else {
        "memory"
    };
    tracing::info!(listen = %server.local_addr(), xds = xds.as_deref().unwrap_or("off"), ?ttl, store, "mesh-registry serving");
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    server.stop();
    Ok(())
}
