//! The HTTP backend's request handler: describe, or one of the special paths.

use super::reset::ConnReset;
use crate::BoxError;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub(crate) type RespBody = BoxBody<Bytes, BoxError>;

const CHUNK_LEN: usize = 64 * 1024;
static CHUNK: [u8; CHUNK_LEN] = [b'x'; CHUNK_LEN];
const MAX_DELAY: Duration = Duration::from_secs(600);

/// What the HTTP backend received: the JSON body of its answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The backend's name (`b1`).
    pub backend: String,
    pub method: String,
    /// Path and query, as received.
    pub path: String,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// The request URI's authority (h2's `:authority`, or an absolute-form h1 target).
    pub authority: Option<String>,
    /// Header name → every value, in order received (non-UTF-8 bytes replaced).
    pub headers: BTreeMap<String, Vec<String>>,
    /// Request body bytes, counted as they streamed in.
    pub body_len: u64,
    pub trailers_received: bool,
    pub trailers: BTreeMap<String, Vec<String>>,
    /// Whether the backend's connection was TLS.
    pub tls: bool,
}

impl Received {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.first().map(String::as_str)
    }

    /// Every value of header `name` (lowercase).
    pub fn header_all(&self, name: &str) -> &[String] {
        self.headers.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned()).or_default().push(value);
    }
    map
}

#[derive(Debug)]
pub(crate) struct Handler {
    name: String,
    tls: bool,
    requests: Arc<AtomicUsize>,
    /// Status `/healthz` answers (flipped by tests); health checks are not counted as requests.
    health: Arc<std::sync::atomic::AtomicU16>,
    state: Arc<State>,
}

/// What tests flip (how the backend misbehaves) and read (what it last saw).
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The last request described (its answer may have been dropped, as a mirror's is).
    pub(crate) last: std::sync::Mutex<Option<Received>>,
    /// When non-zero, every counted request is answered with this status.
    pub(crate) always: std::sync::atomic::AtomicU16,
    /// This many of the next requests are answered with `next_status`.
    pub(crate) next: std::sync::atomic::AtomicU32,
    pub(crate) next_status: std::sync::atomic::AtomicU16,
    /// Every counted request waits this long first.
    pub(crate) delay_ms: std::sync::atomic::AtomicU64,
}

impl State {
    /// The status to fail this request with, if any (taking one of `next`).
    fn status(&self) -> Option<u16> {
        let always = self.always.load(Ordering::SeqCst);
        if always != 0 {
            return Some(always);
        }
        self.next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| self.next_status.load(Ordering::SeqCst))
    }
}

impl Handler {
    pub(crate) fn new(
        name: String,
        tls: bool,
        requests: Arc<AtomicUsize>,
        health: Arc<std::sync::atomic::AtomicU16>,
        state: Arc<State>,
    ) -> Self {
        Self {
            name,
            tls,
            requests,
            health,
            state,
        }
    }

    pub(crate) async fn handle(
        &self,
        req: Request<Incoming>,
        reset: &ConnReset,
    ) -> Result<Response<RespBody>, BoxError> {
        if req.uri().path() == "/healthz" {
            let code = StatusCode::from_u16(self.health.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
            let mut reply = Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed());
            *reply.status_mut() = code;
            return Ok(reply);
        }
        self.requests.fetch_add(1, Ordering::SeqCst);
        let delay = self.state.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay).min(MAX_DELAY)).await;
        }
        if let Some(fail) = self.state.status() {
            let mut reply = Response::new(
                Full::new(Bytes::from(self.name.clone()))
                    .map_err(|e| match e {})
                    .boxed(),
            );
            *reply.status_mut() = StatusCode::from_u16(fail).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reply.headers_mut().insert("x-backend", self.name.parse()?);
            return Ok(reply);
        }
        let path = req.uri().path().to_owned();
        let mut segments = path.trim_start_matches('/').splitn(2, '/');
        let status = match (segments.next(), segments.next()) {
            (Some("reset"), None) => {
                reset.reset();
                return Err("reset requested by /reset".into());
            }
            (Some("echo"), None) => return Ok(self.echo(req)),
            (Some("bytes"), Some(n)) => match n.parse::<u64>() {
                Ok(n) => return Ok(self.bytes(n)),
                Err(_) => StatusCode::BAD_REQUEST,
            },
            (Some("delay"), Some(ms)) => match ms.parse::<u64>() {
                Ok(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms).min(MAX_DELAY)).await;
                    StatusCode::OK
                }
                Err(_) => StatusCode::BAD_REQUEST,
            },
            (Some("status"), Some(code)) => code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .filter(|c| !c.is_informational())
                .unwrap_or(StatusCode::BAD_REQUEST),
            _ => StatusCode::OK,
        };
        self.describe(req, status).await
    }

    fn response(&self, status: StatusCode) -> http::response::Builder {
        Response::builder()
            .status(status)
            .header("x-backend", self.name.as_str())
    }

    /// Reads the whole body (counting, never keeping it) and answers with [`Received`].
    async fn describe(
        &self,
        req: Request<Incoming>,
        status: StatusCode,
    ) -> Result<Response<RespBody>, BoxError> {
        let (parts, mut body) = req.into_parts();
        let mut body_len = 0u64;
        let mut trailers = None;
        while let Some(frame) = body.frame().await {
            match frame?.into_data() {
                Ok(data) => body_len += data.len() as u64,
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers = Some(t);
                    }
                }
            }
        }
        let received = Received {
            backend: self.name.clone(),
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string()),
            version: format!("{:?}", parts.version),
            authority: parts.uri.authority().map(ToString::to_string),
            headers: header_map(&parts.headers),
            body_len,
            trailers_received: trailers.is_some(),
            trailers: trailers.as_ref().map(header_map).unwrap_or_default(),
            tls: self.tls,
        };
        if let Ok(mut last) = self.state.last.lock() {
            *last = Some(received.clone());
        }
        let body = if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            Bytes::new()
        } else {
            Bytes::from(serde_json::to_vec(&received)?)
        };
        let mut builder = self
            .response(status)
            .header(http::header::CONTENT_TYPE, "application/json");
        if !body.is_empty() {
            builder = builder.header(http::header::CONTENT_LENGTH, body.len());
        }
        Ok(builder.body(Full::new(body).map_err(|e| match e {}).boxed())?)
    }

    /// Streams the request body (and its trailers) back as the response body.
    fn echo(&self, req: Request<Incoming>) -> Response<RespBody> {
        let (parts, body) = req.into_parts();
        let mut builder = self.response(StatusCode::OK);
        for name in [http::header::CONTENT_TYPE, http::header::CONTENT_LENGTH] {
            if let Some(value) = parts.headers.get(&name) {
                builder = builder.header(name, value);
            }
        }
        let body = body.map_err(|e| -> BoxError { Box::new(e) }).boxed();
        builder.body(body).unwrap_or_else(|_| Response::new(empty()))
    }

    /// `n` bytes of `x`, streamed from a static 64 KiB chunk.
    fn bytes(&self, n: u64) -> Response<RespBody> {
        let chunks = futures_util::stream::unfold(n, |left| async move {
            if left == 0 {
                return None;
            }
            let len = usize::try_from(left).map_or(CHUNK_LEN, |l| l.min(CHUNK_LEN));
            let frame = Frame::data(Bytes::from_static(&CHUNK[..len]));
            Some((Ok::<_, BoxError>(frame), left - len as u64))
        });
        self.response(StatusCode::OK)
            .header(http::header::CONTENT_LENGTH, n)
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(StreamBody::new(chunks).boxed())
            .unwrap_or_else(|_| Response::new(empty()))
    }
}

fn empty() -> RespBody {
    Full::new(Bytes::new()).map_err(|e| match e {}).boxed()
}
