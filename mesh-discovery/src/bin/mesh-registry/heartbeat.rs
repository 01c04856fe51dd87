//! `mesh-registry heartbeat`: keeps one host registered from the command line (Lyft's
//! once-a-minute check-in as a side task), and deregisters it on Ctrl-C or SIGTERM.

use clap::Args;
use mesh_discovery::registry::{Heartbeat, Instance, ServiceName};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct HeartbeatArgs {
    /// The registry's HTTP API.
    #[arg(long, env = "MESH_REGISTRY", default_value = "127.0.0.1:8500")]
    registry: SocketAddr,
    /// The service the host serves.
    #[arg(long)]
    service: String,
    /// The host's `ip:port`.
    #[arg(long)]
    address: SocketAddr,
    #[arg(long)]
    zone: Option<String>,
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    weight: Option<u32>,
    /// `key=value`, repeatable.
    #[arg(long = "tag", value_parser = tag)]
    tags: Vec<(String, String)>,
    /// How often to check in (the registry's TTL is three of its intervals).
    #[arg(long, default_value = "60s", value_parser = super::duration)]
    interval: Duration,
}

fn tag(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not key=value"))?;
    Ok((k.to_owned(), v.to_owned()))
}

pub async fn run(args: HeartbeatArgs) -> Result<(), Box<dyn std::error::Error>> {
    let service = ServiceName::new(args.service)?;
    let instance = Instance {
        id: args.id,
        zone: args.zone,
        weight: args.weight,
        tags: args.tags.into_iter().collect::<BTreeMap<_, _>>(),
        ..Instance::new(args.address)
    };
    let handle = Heartbeat::new(args.registry, service, instance, args.interval).start()?;
    tracing::info!(registry = %args.registry, address = %args.address, "heartbeating; Ctrl-C deregisters");
    stopped().await;
    handle.shutdown().await?;
    Ok(())
}

/// Ctrl-C or SIGTERM (what a process manager sends on a graceful stop).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
