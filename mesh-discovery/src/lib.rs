//! mesh-discovery: where a cluster's endpoints come from.
//!
//! What it owns today:
//! - [`FileSource`]: a watched endpoints file (Envoy's filesystem EDS), for clusters with
//!   `discovery: { file: { path, refresh_interval } }`;
//! - [`fixed`]: a static cluster's `endpoints` as a source that never changes;
//! - [`EndpointChanges`]: any source's sets as a `tower::discover::Discover` stream of
//!   `Insert`/`Remove` changes keyed by address, which tower balancers (mesh-lb) consume;
//! - [`registry`]: the mesh registry (Lyft's discovery service) with its embedded store (or a
//!   Redis store shared by several replicas) and HTTP/JSON API,
//!   [`RegistrySource`](registry::RegistrySource) to follow a service in it, and
//!   [`Heartbeat`](registry::Heartbeat) to keep a host registered; it can also serve its
//!   services over xDS;
//! - [`DnsSource`]: every address of a DNS name (Envoy's STRICT_DNS), for clusters with
//!   `discovery: { dns: { hostname, port, ... } }`, re-resolved on the records' TTL;
//! - [`xds`]: Envoy's xDS v3 messages ([`xds::api`], a generated, wire-compatible subset) and a
//!   state-of-the-world ADS server over a published [`xds::SnapshotCache`].
//!
//! Later sources (an xDS client's EDS) publish the same way.
//!
//! Every source publishes whole, validated [`EndpointSet`]s through a
//! `tokio::sync::watch::Receiver<Arc<EndpointSet>>`: readers take the latest set whenever
//! they like and never block the source or each other; intermediate sets may be skipped.
//!
//! Policy: a source runs as a background task that polls (the file: every
//! `refresh_interval`, default 1s, which config validation requires to be above 0s) and
//! publishes only a set that differs from the last one published. A source must load once
//! before it is started: a missing or invalid file at start is an error, so the proxy refuses
//! to start with the file, key path and reason. After that, **errors never empty a cluster**:
//! an unreadable or invalid file keeps the last good set published, is logged at `warn` and
//! counted in [`SourceStats`] once per distinct error, and the next good file is taken as
//! usual. Only a valid file that says `endpoints: []` empties a cluster.
//!
//! Failure: dropping the [`SourceHandle`] stops the task; so does dropping every receiver.
//! Either way the receivers that remain keep the last set.
//!
//! Placement: the proxy starts one source per cluster and its per-cluster membership loop
//! reads the watch. Health primacy (whether a host that discovery removed keeps serving while
//! it passes its health checks, per `ignore_health_on_host_removal`) is applied there, by
//! mesh-health's rule, not here: this crate reports membership as the source states it.
//!
//! ```
//! use std::time::Duration;
//! use mesh_discovery::FileSource;
//!
//! let path = std::env::temp_dir().join(format!("mesh-discovery-doc-{}.yaml", std::process::id()));
//! std::fs::write(&path, "version: \"1\"\nendpoints:\n  - { address: 127.0.0.1:8081, weight: 2 }\n")?;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let set = runtime.block_on(async {
//!     let (sets, handle) = FileSource::new(&path, Duration::from_secs(1)).start()?;
//!     assert_eq!(handle.stats().updates(), 0);
//!     let set = sets.borrow().clone();
//!     Ok::<_, mesh_core::policy::InvalidConfig>(set)
//! })?;
//! assert_eq!(set.version.as_deref(), Some("1"));
//! assert_eq!(set.endpoints[0].address.to_string(), "127.0.0.1:8081");
//! assert_eq!(set.endpoints[0].weight.get(), 2);
//! std::fs::remove_file(&path)?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod changes;
pub mod dns;
mod file;
mod fixed;
mod handle;
pub mod registry;
pub mod xds;

pub use changes::EndpointChanges;
pub use dns::{DnsSource, DnsSourceOptions};
pub use file::FileSource;
pub use fixed::fixed;
pub use handle::{SourceHandle, SourceStats};
pub use mesh_core::policy::EndpointSet;
