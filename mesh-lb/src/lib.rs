//! mesh-lb: load balancers, tier 1 of mesh.
//!
//! - [`wrr`]: [`WeightedRoundRobin`], a lock-free smooth weighted round-robin picker over a fixed
//!   snapshot of endpoints, for the proxy's request path.
//! - [`round_robin`]: [`RoundRobin`], the same policy as a tower `Service` over a
//!   `tower::discover::Discover` stream, choosing among ready endpoints.
//! - [`random`]: [`Random`], lock-free weighted random choice over a snapshot.
//! - [`least_request`]: [`LeastRequest`], Envoy's least-request (power-of-two-choices over
//!   requests in flight; load-discounted weights when weights differ) over a snapshot.
//! - [`peak_ewma`]: [`PeakEwma`], Linkerd's power-of-two-choices over peak-EWMA latency cost.
//! - [`load`]: [`Load`], the per-host in-flight count and latency estimate those two read, and
//!   the [`InFlight`] guard the request path holds.
//! - [`ring_hash`]: [`RingHash`], Envoy's Ketama consistent-hash ring over a snapshot.
//! - [`maglev`]: [`Maglev`], Envoy's Maglev consistent-hash table over a snapshot.
//! - [`hash`]: [`hash_key`], the xxHash64 request-key hash both of those expect.
//!
//! Balancers depend only on `mesh-core`; they meet the other tier-1 crates through
//! `tower::Service` and `Discover`.
//!
//! ```
//! use std::num::NonZeroU32;
//! let lb = mesh_lb::WeightedRoundRobin::new([("10.0.0.1:80", NonZeroU32::MIN)]);
//! assert_eq!(lb.pick(), Some(&"10.0.0.1:80"));
//! ```

pub mod hash;
pub mod least_request;
pub mod load;
pub mod maglev;
pub mod peak_ewma;
pub mod random;
pub mod ring_hash;
pub mod round_robin;
pub mod wrr;

pub use hash::{DuplicateHostKey, hash_key};
pub use least_request::{InvalidLeastRequestConfig, LeastRequest, LeastRequestConfig};
pub use load::{EwmaConfig, InFlight, Load, ZeroDecay};
pub use maglev::{InvalidTableSize, Maglev, MaglevBuildError, MaglevConfig, TableTooSmall};
pub use peak_ewma::PeakEwma;
pub use random::Random;
pub use ring_hash::{InvalidRingSize, RingHash, RingHashConfig};
pub use round_robin::{NoEndpoints, NotReady, RoundRobin, Weight, Weighted};
pub use wrr::WeightedRoundRobin;
