//! mesh-client: talking to the mesh from a Rust service.
//!
//! Today it holds [`registry`]: what an app needs to check itself into the mesh registry
//! (Lyft's once-a-minute heartbeat, deregistered on graceful shutdown). The thin client
//! that reaches the local sidecar (request-ID propagation, default timeouts) and the
//! in-process ("proxyless") outbound stack composed from `mesh-lb`, `mesh-health`,
//! `mesh-discovery` and `mesh-filters` come with the mesh-client issue.

/// Keeping this service's host registered in the mesh registry.
///
/// Start a [`Heartbeat`](registry::Heartbeat) when the service is ready to take traffic
/// and call [`HeartbeatHandle::shutdown`](registry::HeartbeatHandle::shutdown) when it
/// stops, so proxies drop the host at once rather than a TTL later. The same thing runs as
/// a side task with `mesh-registry heartbeat --registry ... --service ... --address ...`.
///
/// ```no_run
/// use mesh_client::registry::{Heartbeat, Instance, ServiceName};
/// # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
/// let me = Instance { zone: Some("us-east-1a".into()), ..Instance::new("10.0.0.7:8080".parse()?) };
/// let beat = Heartbeat::new("10.0.0.2:8500".parse()?, ServiceName::new("payments")?, me,
///     std::time::Duration::from_secs(60)).start()?;
/// // ... serve until asked to stop ...
/// beat.shutdown().await?;
/// # Ok(()) }
/// ```
pub mod registry {
    pub use mesh_discovery::registry::{
        Heartbeat, HeartbeatError, HeartbeatHandle, HeartbeatStats, Instance, InvalidServiceName, ServiceName,
    };
}
