//! One health check against one host: [`probe`] dispatches on the check's [`Checker`] and bounds
//! the whole attempt (connect, request, answer) by the check's `timeout`.
//!
//! Policy, per checker (Envoy's semantics unless noted):
//! - **HTTP** (`http.rs`): `GET path` over HTTP/1.1 (Envoy's default health-check codec) with
//!   `Host` = `host` or the cluster name and `User-Agent: mesh/HC`. Healthy iff
//!   [`HealthCheck::accepts_status`]. A response carrying [`IMMEDIATE_FAIL_HEADER`] (any value,
//!   any status) is [`Outcome::ImmediateFailure`].
//! - **TCP** (`tcp.rs`): connect; write `send` if set; if `receive` is non-empty, read until
//!   every expected byte string has appeared, in order (Envoy's fuzzy match), in what was read.
//! - **gRPC** (`grpc.rs`): `grpc.health.v1.Health/Check` over HTTP/2 with prior knowledge,
//!   `:authority` = `authority` or the cluster name, the protobuf hand-encoded (`proto.rs`).
//!   Healthy iff `grpc-status` is 0 and the answer is `SERVING`.
//!
//! Connections: every check opens a fresh connection and closes it afterwards (HTTP sends
//! `Connection: close`). Envoy keeps one connection per host open between checks by default
//! (`reuse_connection`), which is cheaper at high check rates; a fresh connection also verifies
//! that the host still accepts connections, and keeps this code free of pooled-state bugs.
//!
//! Failure: a probe never errors or panics; every problem is an [`Outcome::Unhealthy`] with the
//! [`ProbeFailure`] that names it, and a slow host is [`ProbeFailure::Timeout`].
//!
//! Placement: called by each host's background task (see [`HealthChecker`](crate::HealthChecker));
//! usable on its own for one-off checks.

mod grpc;
mod http;
mod proto;
mod tcp;

pub use tcp::fuzzy_match;

use crate::outcome::{Outcome, ProbeFailure};
use mesh_core::policy::{Checker, HealthCheck};
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use tokio::net::TcpStream;

/// Response header with which a host asks to be failed at once (any value), e.g. while it drains
/// before shutdown; Envoy's `x-envoy-immediate-health-check-fail`.
pub const IMMEDIATE_FAIL_HEADER: &str = "x-mesh-immediate-health-check-fail";

/// `User-Agent` of HTTP and gRPC checks (Envoy sends `Envoy/HC`).
const USER_AGENT: &str = "mesh/HC";

/// Runs `check` once against `addr`; `cluster` is the default `Host` / `:authority`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use mesh_core::policy::{Checker, HealthCheck};
/// use std::time::Duration;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let check = HealthCheck {
///     timeout: Duration::from_secs(1),
///     interval: Duration::from_secs(5),
///     interval_jitter: Duration::ZERO,
///     interval_jitter_percent: 0,
///     unhealthy_interval: Duration::from_secs(5),
///     no_traffic_interval: Duration::from_secs(60),
///     unhealthy_threshold: 3,
///     healthy_threshold: 2,
///     checker: Checker::Tcp { send: None, receive: vec![] },
/// };
/// let addr = listener.local_addr().unwrap();
/// assert!(mesh_health::probe(&check, "backend", addr).await.is_healthy());
/// drop(listener);
/// assert!(!mesh_health::probe(&check, "backend", addr).await.is_healthy());
/// # }
/// ```
pub async fn probe(check: &HealthCheck, cluster: &str, addr: SocketAddr) -> Outcome {
    let attempt = async {
        match &check.checker {
            Checker::Http { path, host, .. } => {
                http::check(check, path, host.as_deref().unwrap_or(cluster), addr).await
            }
            Checker::Tcp { send, receive } => tcp::check(addr, send.as_deref(), receive).await,
            Checker::Grpc {
                service_name,
                authority,
            } => grpc::check(addr, service_name, authority.as_deref().unwrap_or(cluster)).await,
        }
    };
    tokio::time::timeout(check.timeout, attempt)
        .await
        .unwrap_or(Outcome::Unhealthy(ProbeFailure::Timeout(check.timeout)))
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, ProbeFailure> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| ProbeFailure::Connect(e.to_string()))?;
    // Small request, small answer: don't let Nagle hold either back. Failing to set it is harmless.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn http_error(e: impl Display) -> ProbeFailure {
    ProbeFailure::Http(e.to_string())
}

/// Polls a hyper client connection alongside the request exchanged over it, so nothing outlives
/// the check (no spawned connection task). If the connection ends first, the exchange is finished
/// anyway: it resolves at once with the answer it already has or the error that ended it.
async fn drive<C, E, F, T>(conn: C, exchange: F) -> Result<T, ProbeFailure>
where
    C: Future<Output = Result<(), E>>,
    E: Display,
    F: Future<Output = Result<T, ProbeFailure>>,
{
    let mut conn = pin!(conn);
    let mut exchange = pin!(exchange);
    tokio::select! {
        biased;
        answer = &mut exchange => answer,
        ended = &mut conn => match (exchange.await, ended) {
            (Ok(answer), _) => Ok(answer),
            (Err(_), Err(e)) => Err(http_error(e)),
            (Err(e), Ok(())) => Err(e),
        },
    }
}
