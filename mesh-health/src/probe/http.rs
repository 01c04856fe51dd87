//! The HTTP/1.1 checker; see the [module docs](super).

use super::{IMMEDIATE_FAIL_HEADER, USER_AGENT, connect, drive, http_error};
use crate::outcome::{Outcome, ProbeFailure};
use bytes::Bytes;
use http::{Request, header};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use mesh_core::policy::HealthCheck;
use std::net::SocketAddr;

pub(super) async fn check(check: &HealthCheck, path: &str, host: &str, addr: SocketAddr) -> Outcome {
    match exchange(path, host, addr).await {
        Ok(head) => judge(check, &head),
        Err(failure) => Outcome::Unhealthy(failure),
    }
}

/// Sends the request and returns the response head; the body is never read (the connection is
/// closed right after).
async fn exchange(path: &str, host: &str, addr: SocketAddr) -> Result<http::response::Parts, ProbeFailure> {
    let request = Request::get(path)
        .header(header::HOST, host)
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| ProbeFailure::InvalidRequest(e.to_string()))?;
    let io = TokioIo::new(connect(addr).await?);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(http_error)?;
    let response = drive(conn, async {
        sender.send_request(request).await.map_err(http_error)
    })
    .await?;
    Ok(response.into_parts().0)
}

fn judge(check: &HealthCheck, head: &http::response::Parts) -> Outcome {
    if head.headers.contains_key(IMMEDIATE_FAIL_HEADER) {
        Outcome::ImmediateFailure
    } else if check.accepts_status(head.status.as_u16()) {
        Outcome::Healthy
    } else if check.retries_status(head.status.as_u16()) {
        Outcome::Unhealthy(ProbeFailure::RetriableStatus(head.status.as_u16()))
    } else {
        Outcome::Unhealthy(ProbeFailure::UnexpectedStatus(head.status.as_u16()))
    }
}
