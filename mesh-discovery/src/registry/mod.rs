//! The mesh registry (Lyft's discovery service): hosts register and heartbeat over HTTP/JSON,
//! readers follow a service's hosts by snapshot and long poll, and entries expire after a TTL.
//!
//! Parts: [`Store`] with the embedded [`MemoryStore`] and [`RedisStore`] (one Redis shared by
//! several stateless registry replicas); [`Registry`], the HTTP server (binary: `mesh-registry`); [`RegistrySource`], a
//! cluster's endpoints from the registry, published like [`FileSource`](crate::FileSource);
//! [`Heartbeat`], which keeps one host registered. With [`Registry::with_xds`] it also serves
//! its services over xDS (ADS: a CDS cluster, an EDS assignment and an LDS api-listener per
//! service), so Envoy and gRPC's `xds:///` clients can follow it (module `xds`).
//!
//! Defaults: heartbeat interval 60s; TTL 3 intervals (180s); sweep every TTL/3 (60s); a long
//! poll waits 30s unless `wait` says otherwise, and never more than 5 min.
//!
//! # HTTP API
//!
//! Service names: 1 to 128 of `A-Z a-z 0-9 . _ -`. Addresses: `10.0.0.1:8080`, or
//! `%5B::1%5D:8080` for IPv6. Every reply is JSON; every refusal is `{"error": "...", "field":
//! "..."}` (`field` on 400s) with 400 (bad input, naming the field), 404 (unknown route or
//! instance), 405, 413 (body over 64 KiB) or 503 (store unavailable).
//!
//! | Request | Reply |
//! |---|---|
//! | `PUT /v1/services/{service}/instances/{address}` with an optional body `{"id", "zone", "tags": {k: v}, "weight": 1.., "health_check"}` | `201` when new, `200` when it was there (a heartbeat): `{"version", "ttl", "heartbeat_interval"}` |
//! | `DELETE /v1/services/{service}/instances/{address}` | `200 {"version"}`, or `404` if not registered |
//! | `GET /v1/services/{service}` | `200 {"version", "instances": [{"id"?, "address", "zone"?, "tags", "weight"?, "health_check"?}]}` |
//! | `GET /v1/services?service=a&service=b` | `200 {"version", "services": {"a": [...], "b": [...]}}` |
//!
//! Both reads take `wait_version=N` and `wait=30s` (a long poll): the reply comes at once if
//! the version of the services read is not `N`, else at their next change, else after `wait`
//! with version `N` unchanged. The version of a read is the registry's global version at the
//! latest change to those services, so changes elsewhere do not wake a reader. "Not N" rather
//! than "above N" lets a reader holding a version from before a registry restart (versions
//! start again at 0) catch up at once. A heartbeat that changes nothing does not move it.
//!
//! ```
//! use mesh_discovery::registry::{Instance, Registry, RegistryConfig, ServiceName, Store};
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let registry = Registry::new(RegistryConfig::default())?;
//!     let store = registry.store();
//!     let api = ServiceName::new("api")?;
//!     let host = Instance::new("10.0.0.1:8080".parse()?);
//!     let first = store.register(&api, host.clone(), registry.ttl()).await?;
//!     let again = store.register(&api, host, registry.ttl()).await?;
//!     assert!(first.created && !again.created);
//!     assert_eq!(first.version, again.version); // a heartbeat that changes nothing
//!     let snap = store.snapshot(&[api.clone()]).await?;
//!     assert_eq!(snap.services[&api].len(), 1);
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod api;
mod call;
mod client;
mod config;
mod heartbeat;
mod model;
mod redis_store;
mod server;
mod store;
mod wire;
mod xds;
mod xds_resources;

#[cfg(test)]
mod tests;

pub use api::Registry;
pub use call::CallError;
pub use client::{RegistrySource, RegistrySourceOptions, StartError};
pub use config::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_WAIT, InvalidRegistryConfig, MAX_WAIT, RegistryConfig};
pub use heartbeat::{Heartbeat, HeartbeatError, HeartbeatHandle, HeartbeatStats};
pub use model::{Instance, InvalidServiceName, ServiceName};
pub use redis_store::{DEFAULT_REDIS_PREFIX, InvalidRedisStore, RedisStore, RedisStoreConfig};
pub use server::RegistryHandle;
pub use store::{MemoryStore, Registered, Snapshot, Store, StoreError};
pub use wire::{BadRequest, METADATA_HEALTH_CHECK, METADATA_ID};
