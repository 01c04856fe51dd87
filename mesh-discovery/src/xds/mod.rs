//! xDS: Envoy's discovery protocol, served from a published [`Snapshot`] over ADS.
//!
//! Parts: [`api`], the generated Envoy v3 messages and gRPC service (a wire-compatible subset);
//! [`SnapshotCache`], where the owner of the data publishes every resource by type URL;
//! [`AdsServer`], the Aggregated Discovery Service (state of the world; delta xDS is not
//! served); [`map`], Envoy's resources mapped onto mesh-core's configuration shapes. The
//! registry uses them to serve its services as CDS/EDS/LDS; the proxy's xDS client uses the
//! same [`api`] types and [`map`].
//!
//! # Protocol, per stream and type URL
//!
//! - **Subscription.** Each request replaces the client's names for its type. An empty list on
//!   the first request for CDS or LDS, or the name `*`, means every resource of the type
//!   (wildcard); once a client has named resources of a type, an empty list means none.
//!   EDS and RDS responses carry only the names subscribed.
//! - **When to send.** On the first request for a type on a stream (so a client that
//!   reconnects is never left waiting), when the subscription changes, and when the snapshot's
//!   version for the type differs from the one the client reports (a request) or was last
//!   sent (a new snapshot). A new version whose selected resources are exactly those last sent
//!   is not sent: a change to one cluster's endpoints does not wake clients of another. Nor is
//!   an empty response to a named subscription that was never sent anything: names not (yet)
//!   in the snapshot are sent when they appear, and clients time out missing ones themselves.
//!   Every response has a fresh nonce.
//! - **Names on demand.** [`Subscriptions`] counts the names subscribed to across streams, so
//!   the owner of the data can publish what clients ask for (the registry does).
//! - **ACK / NACK.** A request whose `response_nonce` is not the last nonce sent for its type
//!   is stale (it answers an older response) and is ignored whole. A request carrying
//!   `error_detail` is a NACK: it is logged at `warn`, counted ([`AdsStats::nacks`]), and the
//!   rejected version is not sent again; the next version is.
//!
//! ```text
//!                  first request (held back while a named
//!                  subscription would get nothing)
//!   [unsubscribed] ───────────────────────────► [sent v, nonce n] ◄─────────────────┐
//!                                                  │    │    │                        │
//!                     request, nonce ≠ n (stale) ──┘    │    │ snapshot v' ≠ v,       │
//!                     ignored, stays                    │    │ v' not NACKed,         │
//!                                                       │    │ selection changed      │
//!                 request, nonce n, no error_detail     │    └── send v', nonce n+1 ──┘
//!                 (ACK): names changed → send again     │
//!                 request, nonce n, error_detail        ▼
//!                 (NACK) ────────────────────────► [sent v, v NACKed]: only v' ≠ v is sent
//! ```
//!
//! Failure: see [`AdsServer`]; streams never block one another or the publisher (snapshots
//! reach each stream through a `watch`, so a slow client skips intermediate versions).

pub mod api;
pub mod client;
pub mod map;
mod server;
mod snapshot;
mod stream;
mod subscriptions;

#[cfg(test)]
mod tests;

pub use server::{AdsHandle, AdsServer, AdsStats};
pub use snapshot::{Resources, Snapshot, SnapshotCache};
pub use stream::MissingTypeUrl;
pub use subscriptions::Subscriptions;
