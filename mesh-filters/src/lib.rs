//! mesh-filters: the tower layers between a request and its upstream.
//!
//! Each layer is a `Foo` service plus a `FooLayer`, usable in the proxy, in `mesh-client`
//! and in any tower stack, and fails with a small error type named for the condition; the
//! proxy maps those errors to local replies in one place.
//!
//! - [`circuit_breaker`]: Envoy's per-cluster thresholds (`max_connections`,
//!   `max_pending_requests`, `max_requests`, `max_retries` or a retry budget); overflow fails
//!   at once.
//! - [`retry`]: `retry_on` conditions, full-jitter backoff, a Finagle-style retry budget,
//!   request bodies replayed up to a limit.
//! - [`timeout`], [`rate_limit`], [`fault`]: route and per-try timeouts, local token
//!   buckets, fault injection.
//!
//! - [`mirror`]: request mirroring (shadowing), fire and forget.
//! - [`request_id`]: `x-request-id` kept from trusted peers or generated (UUIDv4), and the
//!   trace-sampling decision derived from it, the same at every hop.
//! - [`access_log`]: Envoy-style text or JSON access logs with response flags, to stdout or a
//!   file through a non-blocking writer, sampled per request.
//!
//! - [`trace`]: W3C `traceparent` and B3 trace context read and written, and the per-hop
//!   sampling rule (parent-based, else the request ID).
//!
//! Still to come (later issues): stats. Depends on `mesh-core` only.

pub mod access_log;
pub mod admission;
pub mod circuit_breaker;
pub mod fault;
pub mod mirror;
pub mod rate_limit;
pub mod request_id;
pub mod retry;
pub mod timeout;
pub mod trace;

pub use admission::{RetryAdmission, Unlimited};
