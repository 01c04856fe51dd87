//! gRPC by hand, for plain HTTP/2 clients ([`crate::client::Connection`]): tests that must see the
//! wire itself (trailers vs trailers-only responses, `grpc-status` placement) use these.

use super::echo::EchoMessage;
use crate::BoxError;
use crate::client::body::{self, ReqBody};
use bytes::Bytes;
use http::Request;
use prost::Message;

/// One length-prefixed, uncompressed gRPC message carrying `EchoMessage { text }`.
pub fn frame(text: &str) -> Bytes {
    let msg = EchoMessage::new(text).encode_to_vec();
    let len = u32::try_from(msg.len()).unwrap_or_else(|_| panic!("message over 4 GiB"));
    let mut out = Vec::with_capacity(5 + msg.len());
    out.push(0);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&msg);
    Bytes::from(out)
}

/// The texts of every `EchoMessage` in a gRPC body (a concatenation of [`frame`]s).
pub fn unframe(mut body: &[u8]) -> Result<Vec<String>, BoxError> {
    let mut texts = Vec::new();
    while !body.is_empty() {
        if body.len() < 5 {
            return Err(format!("truncated gRPC frame header: {body:?}").into());
        }
        if body[0] != 0 {
            return Err("compressed gRPC frame".into());
        }
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let end = 5 + len;
        let msg = body
            .get(5..end)
            .ok_or_else(|| format!("truncated gRPC frame: want {len} bytes"))?;
        texts.push(EchoMessage::decode(msg)?.text);
        body = &body[end..];
    }
    Ok(texts)
}

/// `POST /mesh.test.Echo/{method}` with gRPC headers, `Host: {host}` and `frames` as the body.
pub fn request(host: &str, method: &str, frames: Bytes) -> Request<ReqBody> {
    Request::builder()
        .method(http::Method::POST)
        .uri(format!("/mesh.test.Echo/{method}"))
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header(http::header::TE, "trailers")
        .body(body::full(frames))
        .unwrap_or_else(|e| panic!("bad gRPC request for {host:?} {method:?}: {e}"))
}
