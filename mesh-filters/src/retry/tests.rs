//! The retry layer against a scripted upstream, in paused time.

mod attempts;
mod bodies;
mod budget;
mod conditions;
mod hedging;
mod props;

use super::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::BoxBody};
use mesh_core::BoxError;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

type Body = BoxBody<Bytes, BoxError>;

/// What the upstream does with one attempt, in order.
#[derive(Debug, Clone)]
enum Step {
    Status(u16),
    /// A status with one extra response header.
    With(u16, &'static str, &'static str),
    Io(std::io::ErrorKind),
    /// Answers the status after a delay.
    Slow(Duration, u16),
}

/// One attempt as the upstream saw it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    attempt: String,
    body: Bytes,
    previous: Option<Vec<SocketAddr>>,
}

/// An upstream that plays a script (then answers 200) and records every attempt. Each
/// attempt reports host `10.0.0.n:80` for attempt `n` through [`AttemptHost`].
#[derive(Debug, Clone, Default)]
struct Upstream {
    script: Arc<Mutex<VecDeque<Step>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Upstream {
            script: Arc::new(Mutex::new(steps.into_iter().collect())),
            seen: Arc::default(),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn attempts(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    async fn handle(self, req: http::Request<ReplayBody<Body>>) -> Result<http::Response<Body>, BoxError> {
        let at = Instant::now();
        let attempt = req.headers()[ATTEMPT_COUNT].to_str()?.to_owned();
        let previous = req
            .extensions()
            .get::<PreviousHosts>()
            .map(|p| p.hosts().to_vec());
        if let Some(reporter) = req.extensions().get::<AttemptHost>() {
            let n: u8 = attempt.parse()?;
            reporter.record(SocketAddr::from(([10, 0, 0, n], 80)));
        }
        let body = req.into_body().collect().await?.to_bytes();
        self.seen.lock().unwrap().push(Seen {
            at,
            attempt,
            body,
            previous,
        });
        let step = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Step::Status(200));
        let (status, header) = match step {
            Step::Status(status) => (status, None),
            Step::With(status, name, value) => (status, Some((name, value))),
            Step::Io(kind) => return Err(std::io::Error::from(kind).into()),
            Step::Slow(delay, status) => {
                tokio::time::sleep(delay).await;
                (status, None)
            }
        };
        let mut response = http::Response::builder().status(status);
        if let Some((name, value)) = header {
            response = response.header(name, value);
        }
        Ok(response.body(empty())?)
    }

    fn service(
        &self,
    ) -> impl Service<
        http::Request<ReplayBody<Body>>,
        Response = http::Response<Body>,
        Error = BoxError,
        Future: Send,
    > + Clone
    + Send
    + 'static {
        let this = self.clone();
        tower::service_fn(move |req| this.clone().handle(req))
    }
}

fn policy(retry_on: &str) -> RetryPolicy {
    RetryPolicy {
        retry_on: retry_on.parse().unwrap(),
        ..RetryPolicy::default()
    }
}

fn empty() -> Body {
    Empty::new().map_err(|e| match e {}).boxed()
}

fn full(bytes: &'static str) -> Body {
    Full::new(Bytes::from(bytes)).map_err(|e| match e {}).boxed()
}

/// A body of `chunks` with no length known up front, as a streaming upload.
fn streaming(chunks: &[&'static str]) -> Body {
    let frames = chunks
        .iter()
        .map(|c| Ok::<_, BoxError>(http_body::Frame::data(Bytes::from(*c))));
    StreamBody::new(futures_util::stream::iter(frames.collect::<Vec<_>>())).boxed()
}

fn get() -> http::Request<Body> {
    http::Request::get("/").body(empty()).unwrap()
}

/// Sends `req` through `layer` over `upstream`.
async fn send(
    layer: &RetryLayer,
    upstream: &Upstream,
    req: http::Request<Body>,
) -> Result<http::Response<Body>, BoxError> {
    layer.layer(upstream.service()).oneshot(req).await
}

/// Counts what the retry layer asks of a circuit breaker; admits while `admit` holds.
#[derive(Debug, Default)]
struct Breaker {
    admit: std::sync::atomic::AtomicBool,
    begun: std::sync::atomic::AtomicU32,
    ended: std::sync::atomic::AtomicU32,
}

impl crate::RetryAdmission for Breaker {
    fn try_begin_retry(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        let admit = self.admit.load(SeqCst);
        if admit {
            self.begun.fetch_add(1, SeqCst);
        }
        admit
    }

    fn end_retry(&self) {
        self.ended.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
