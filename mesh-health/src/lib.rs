//! mesh-health: knowing which hosts should get traffic, tier 1 of mesh.
//!
//! - [`probe()`]: one active health check (HTTP/1.1, TCP, gRPC `grpc.health.v1`) of one host,
//!   bounded by the check's timeout, as an [`Outcome`]; a failure names its [`ProbeFailure`].
//! - [`host`]: [`HostHealth`], Envoy's per-host threshold state machine, and its [`Schedule`]
//!   (interval by state and traffic, plus jitter). Pure: times and RNG are passed in.
//! - [`checker`]: [`HealthChecker`], the per-cluster control loop that follows the member hosts,
//!   runs one check task per host and publishes a [`HealthSnapshot`] through a `watch` channel.
//! - [`outlier`]: [`OutlierDetector`], passive health checking: the request path records each
//!   result through a lock-free [`OutlierRecorder`], and a per-cluster control loop ejects
//!   outliers (consecutive failures at once, success rate and failure percentage every interval)
//!   and publishes an [`EjectionSnapshot`] through a `watch` channel.
//! - [`primacy`]: health has primacy over discovery: a host discovery drops stays a member
//!   while it passes its active checks.
//!
//! Depends only on `mesh-core` (whose `policy::HealthCheck` and `policy::OutlierDetection` it
//! consumes).
//!
//! ```
//! use mesh_health::{HealthSnapshot, fuzzy_match};
//! assert!(HealthSnapshot::default().is_empty());
//! assert!(fuzzy_match(&[b"PONG".to_vec()], b"+PONG\r\n"));
//! ```

pub mod checker;
mod handle;
pub mod host;
mod outcome;
pub mod outlier;
pub mod primacy;
mod probe;
pub mod snapshot;

pub use checker::{HealthChecker, HealthCheckerHandle};
pub use handle::LoopHandle;
pub use host::{HealthState, HostHealth, Schedule, Transition};
pub use outcome::{Outcome, ProbeFailure};
pub use outlier::{
    EjectionReason, EjectionSnapshot, EjectionStats, HostEjection, OutlierDetector, OutlierDetectorHandle,
    OutlierRecorder, ReasonCounts, RequestResult, UnknownHost,
};
pub use probe::{IMMEDIATE_FAIL_HEADER, fuzzy_match, probe};
pub use snapshot::{CheckStatus, HealthSnapshot, HealthStats, HostStatus};
