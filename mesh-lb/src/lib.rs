//! mesh-lb: load balancers, tier 1 of mesh.
//!
//! - [`wrr`]: [`WeightedRoundRobin`], a lock-free smooth weighted round-robin picker over a fixed
//!   snapshot of endpoints, for the proxy's request path.
//! - [`round_robin`]: [`RoundRobin`], the same policy as a tower `Service` over a
//!   `tower::discover::Discover` stream, choosing among ready endpoints.
//!
//! Balancers depend only on `mesh-core`; they meet the other tier-1 crates through
//! `tower::Service` and `Discover`.
//!
//! ```
//! use std::num::NonZeroU32;
//! let lb = mesh_lb::WeightedRoundRobin::new([("10.0.0.1:80", NonZeroU32::MIN)]);
//! assert_eq!(lb.pick(), Some(&"10.0.0.1:80"));
//! ```

pub mod round_robin;
pub mod wrr;

pub use round_robin::{NoEndpoints, NotReady, RoundRobin, Weight, Weighted};
pub use wrr::WeightedRoundRobin;
