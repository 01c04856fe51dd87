//! Retries failed requests under a budget (Envoy's route `retry_policy`).
//!
//! **Policy.** An attempt is retried when its response or error matches
//! [`RetryOn`] (`5xx`, `gateway-error`, `reset`, `connect-failure`, `retriable-4xx`,
//! `refused-stream`, `retriable-status-codes`, and the gRPC `cancelled`,
//! `deadline-exceeded`, `internal`, `resource-exhausted`, `unavailable` read from a
//! trailers-only response's `grpc-status`), at most `num_retries` times, after a
//! full-jitter [`Backoff`]. Errors are judged by the policy's [`Classify`] function
//! (the proxy supplies one that knows hyper's errors; the default reads `io::Error`s).
//! A per-try timeout is a failure that `5xx`, `gateway-error` and `reset` retry.
//! Each attempt carries `x-mesh-attempt-count: n` (Envoy's `x-envoy-attempt-count`).
//!
//! **Defaults** (Envoy's): nothing retried until `retry_on` is set, `num_retries` 1,
//! no per-try timeout, backoff 25 ms base and 250 ms max (10 × base when only the base
//! is set), `Retry-After` ignored, no host predicate, 1 MiB of body kept for replay.
//!
//! **Admission.** Before each retry the cluster's circuit breaker is asked
//! ([`RetryAdmission::try_begin_retry`](crate::RetryAdmission), released when that attempt
//! ends), then the [`RetryBudget`] (20% of requests plus 10 retries per second) pays for
//! it. Either refusal ends the request with the last outcome and is counted in
//! [`RetryStats`] (`overflow`, `budget_exhausted`).
//!
//! **Failure.** When retries, budget or admission run out, the last response or error
//! is returned unchanged; a final per-try timeout is a [`PerTryTimeout`] error.
//!
//! **Bodies.** Each attempt's body is a [`ReplayBody`]: the first attempt streams the
//! original and keeps a copy up to `buffer_limit`; a retry sends the copy. A body over
//! the limit is sent once and its request is not retried. A retry needs the whole body:
//! the copy, or the original back from the earlier attempt (it is handed back when that
//! attempt's body is dropped); an attempt whose connection still streams the original is
//! not retried. Bodies must be `Unpin` (hyper's `Incoming` and boxed bodies are).
//!
//! **Hedging** (`hedge_on_per_try_timeout`): the per-try timeout no longer cancels an
//! attempt; it starts another (after backoff, under the same admission and budget) while
//! the first runs on. The first response that is not retriable wins and the rest are
//! dropped; failures are held back while another attempt is in flight. A hedge needs
//! the body fully copied, so an attempt still uploading is not hedged.
//!
//! **Hosts.** With `avoid_previous_hosts`, attempts carry [`PreviousHosts`] and an
//! [`AttemptHost`] for the balancer: see the contract in [`hosts`].
//!
//! **Placement.** Inside the route timeout (which bounds all attempts and backoffs),
//! outside the per-try timeout (here, or an inner layer whose errors classify as
//! [`ErrorClass::Timeout`]) and the balancer, so each retry picks a host afresh.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use mesh_filters::retry::{ReplayBody, RetryLayer, RetryPolicy};
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mesh_core::BoxError> {
//! let calls = Arc::new(AtomicU32::new(0));
//! let upstream = service_fn({
//!     let calls = calls.clone();
//!     move |req: http::Request<ReplayBody<Full<Bytes>>>| {
//!         let calls = calls.clone();
//!         async move {
//!             // Every attempt sees the same bytes.
//!             assert_eq!(req.into_body().collect().await?.to_bytes(), "order=42");
//!             let status = if calls.fetch_add(1, Ordering::SeqCst) == 0 { 503 } else { 200 };
//!             Ok::<_, mesh_core::BoxError>(http::Response::builder().status(status).body(())?)
//!         }
//!     }
//! });
//! let policy = RetryPolicy { retry_on: "5xx,reset".parse()?, ..RetryPolicy::default() };
//! let layer = RetryLayer::new(policy);
//! let request = http::Request::post("/orders").body(Full::new(Bytes::from("order=42")))?;
//! let response = layer.layer(upstream).oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(calls.load(Ordering::SeqCst), 2);
//! assert_eq!(layer.stats().success_after_retry(), 1);
//! # Ok(()) }
//! ```

mod backoff;
mod body;
mod budget;
mod driver;
mod error;
pub mod hosts;
mod policy;
mod retry_after;
mod service;
mod stats;

#[cfg(test)]
mod tests;

pub use crate::timeout::PerTryTimeout;
pub use backoff::Backoff;
pub use body::ReplayBody;
pub use budget::RetryBudget;
pub use error::{InvalidBackoff, InvalidBudget, ReplayBodyError, ReplayError};
pub use hosts::{AttemptHost, PreviousHosts};
pub use policy::{
    Classify, Condition, ErrorClass, RetryOn, RetryPolicy, classify_io, retries_error, retries_response,
};
pub use service::{ResponseFuture, Retry, RetryLayer};
pub use stats::RetryStats;

/// The request header carrying the attempt number, from 1 (Envoy's `x-envoy-attempt-count`).
pub const ATTEMPT_COUNT: http::HeaderName = http::HeaderName::from_static("x-mesh-attempt-count");
