//! The gRPC checker (`grpc.health.v1.Health/Check`); see the [module docs](super).

use super::{USER_AGENT, connect, drive, http_error, proto};
use crate::outcome::{Outcome, ProbeFailure};
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;

const METHOD: &str = "/grpc.health.v1.Health/Check";

pub(super) async fn check(addr: SocketAddr, service: &str, authority: &str) -> Outcome {
    match call(addr, service, authority).await {
        Ok(proto::SERVING) => Outcome::Healthy,
        Ok(status) => Outcome::Unhealthy(ProbeFailure::NotServing(status)),
        Err(failure) => Outcome::Unhealthy(failure),
    }
}

/// Makes the call and returns the `ServingStatus` the host answered.
async fn call(addr: SocketAddr, service: &str, authority: &str) -> Result<i32, ProbeFailure> {
    let invalid = |e: String| ProbeFailure::InvalidRequest(e);
    let request = Request::post(format!("http://{authority}{METHOD}"))
        .header(header::CONTENT_TYPE, "application/grpc")
        .header(header::TE, "trailers")
        .header(header::USER_AGENT, USER_AGENT)
        .body(Full::new(proto::encode_request(service).map_err(invalid)?))
        .map_err(|e| invalid(e.to_string()))?;
    let io = TokioIo::new(connect(addr).await?);
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .map_err(http_error)?;
    let (head, trailers, body) = drive(conn, async {
        let (head, body) = sender
            .send_request(request)
            .await
            .map_err(http_error)?
            .into_parts();
        let collected = body.collect().await.map_err(http_error)?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        Ok((head, trailers, collected.to_bytes()))
    })
    .await?;
    if head.status != StatusCode::OK {
        return Err(ProbeFailure::Malformed(format!(
            "HTTP status {} on a gRPC call",
            head.status
        )));
    }
    grpc_status(&trailers, &head.headers)?;
    proto::decode_response(&body)
}

/// Reads `grpc-status` from the trailers, or from the headers of a trailers-only answer.
fn grpc_status(trailers: &HeaderMap, headers: &HeaderMap) -> Result<(), ProbeFailure> {
    let source = if trailers.contains_key("grpc-status") {
        trailers
    } else {
        headers
    };
    let code = source
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| ProbeFailure::Malformed("no valid grpc-status".into()))?;
    if code == 0 {
        return Ok(());
    }
    let message = source
        .get("grpc-message")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    Err(ProbeFailure::GrpcStatus { code, message })
}
