//! mesh-client: talking to the mesh from a Rust service.
//!
//! - [`MeshClient`]: the thin client. Calls another service by name through the local
//!   sidecar's egress listener (`MESH_EGRESS`, default `127.0.0.1:10000`), carries the
//!   request ID and trace context of the request being handled, sets a default timeout (15 s)
//!   and a safe retry policy through the proxy's `x-mesh-*` headers (per client with
//!   [`MeshClientBuilder`], per call with [`CallOptions`]), and turns the proxy's own failure
//!   replies into typed [`Error`]s (`Timeout`, `Overloaded`, `NoHealthyUpstream`,
//!   `ConnectFailure`, ...).
//! - [`context`]: the server side of propagation: [`MeshContextLayer`] takes each incoming
//!   request's `x-request-id` and trace headers into a task-local [`MeshContext`] (hyper,
//!   axum and tonic servers alike), so the client finds them without the app passing them.
//! - [`grpc`] (feature `grpc`, on by default): [`MeshClient::channel`], a tonic channel to a
//!   named service with the same propagation.
//! - [`registry`]: checking this service into the mesh registry.
//!
//! ```no_run
//! use mesh_client::{MeshClient, MeshContextLayer};
//! # async fn handle(client: MeshClient) -> Result<(), mesh_client::Error> {
//! // In a handler behind `MeshContextLayer`: the incoming request's ID travels along.
//! let reply = client.get("location-service", "/v1/near?lat=1&lon=2").await?;
//! println!("{}", reply.status());
//! # Ok(()) }
//! ```
//!
//! The in-process ("proxyless") outbound stack composed from `mesh-lb`, `mesh-health`,
//! `mesh-discovery` and `mesh-filters` comes later.

mod client;
pub mod context;
pub mod error;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod options;

pub use client::{DEFAULT_EGRESS, EGRESS_ENV, InvalidEgress, MeshClient, MeshClientBuilder};
pub use context::{MeshContext, MeshContextLayer, MeshContextService};
pub use error::{Error, ErrorKind, ProxyReply, TimeoutCause};
#[cfg(feature = "grpc")]
pub use grpc::MeshChannel;
pub use options::{CallOptions, Retries};

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
