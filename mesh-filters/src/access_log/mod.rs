//! Access logs: one line per request, in an Envoy-style text format or as JSON, to stdout or a file.
//!
//! Policy: [`Format::parse`] compiles an Envoy format string (`%START_TIME%`,
//! `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH):64%`, `%RESPONSE_CODE%`, `%RESPONSE_FLAGS%`, `%DURATION%`,
//! `%UPSTREAM_HOST%` ...; [`ENVOY_DEFAULT`] is Envoy's default line) and [`Format::json`] a
//! `json_format` map, with numeric operators as JSON numbers. Unknown values render `-` in text
//! and `null` in JSON. Every request is logged unless an [`AccessLogSampling`] says otherwise; the
//! decision is taken when the request arrives.
//!
//! When: the line is written when the response body ends, so `%BYTES_SENT%` and `%DURATION%`
//! cover the whole body; when the body (or the response future) is dropped first it is written
//! with the flag `DC` (downstream disconnect) added; when the inner service fails it is written
//! at once with response code `0`. Response flags come from the [`ResponseFlags`] response
//! extension, else the `x-mesh-response-flags` header; the upstream host and cluster from the
//! [`UpstreamHost`] and [`UpstreamCluster`] extensions, the peer from [`DownstreamAddress`]; a
//! flag seen only after the headers (a timeout cutting the body off) through a [`LateFlag`].
//!
//! Failure: logging never fails or delays a request. Lines go through a bounded queue to one
//! writer task per [`Sink`]; a full queue drops the line ([`Sink::dropped`]), write errors are
//! counted ([`Sink::errors`]) and logged once.
//!
//! Placement: outermost in the HTTP stack, outside the route timeout and retries, so that the
//! line sees the final response (local replies included) and the whole duration; inside the
//! request-ID layer, so the line and the sampling see the ID the request goes on with.
//!
//! Several logs: [`AccessLogs`] holds any number of (format, sink, sampling), decides per log
//! when the request arrives and fills one [`Entry`] for all of them. A caller that is not a tower
//! stack (the proxy's router) drives the same steps itself: [`AccessLogs::start`], then
//! [`Record::request_body`], [`Record::response`] and [`Record::body`].
//!
//! ```
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use mesh_filters::access_log::{AccessLogLayer, Format, ResponseFlags, Sink};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::env::temp_dir().join(format!("mesh-access-log-doc-{}.log", std::process::id()));
//! let sink = Sink::file(&path, 1024)?;
//! let format = Format::parse("%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_SENT%")?;
//! let svc = AccessLogLayer::new(format, sink.clone()).layer(service_fn(|_req| async {
//!     let mut response = Response::new(Full::new(bytes::Bytes::from("hello")));
//!     response.extensions_mut().insert(ResponseFlags("URX".into()));
//!     Ok::<_, std::convert::Infallible>(response)
//! }));
//!
//! let request = Request::get("/greet?x=1").body(Full::new(bytes::Bytes::new()))?;
//! let response = svc.oneshot(request).await?;
//! response.into_body().collect().await?; // the line is written when the body ends
//! sink.flush().await;
//!
//! assert_eq!(std::fs::read_to_string(&path)?, "GET /greet?x=1 200 URX 5\n");
//! assert_eq!((sink.dropped(), sink.errors()), (0, 0));
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

mod body;
mod entry;
mod extensions;
mod format;
pub mod future;
mod record;
mod sampling;
mod sink;
#[cfg(test)]
mod tests;
mod time;

pub use body::{RequestBody, ResponseBody};
pub use entry::Entry;
pub use extensions::{
    DownstreamAddress, LateFlag, RESPONSE_FLAGS_HEADER, ResponseFlags, UpstreamCluster, UpstreamHost,
};
pub use format::Format;
pub use mesh_core::policy::access_log::{ENVOY_DEFAULT, FormatError, Reason};
pub use record::{AccessLogs, MAX_LOGS, Record};
pub use sampling::AccessLogSampling;
pub use sink::{DEFAULT_CAPACITY, Sink};

use future::ResponseFuture;
use http_body::Body;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Writes one access log line per (sampled) request and log; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
    logs: AccessLogs,
}

impl<S> AccessLog<S> {
    pub fn new(inner: S, format: Format, sink: Sink, sampling: AccessLogSampling) -> Self {
        Self {
            inner,
            logs: AccessLogs::new([(format, sink, sampling)]),
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, RB> Service<http::Request<B>> for AccessLog<S>
where
    S: Service<http::Request<RequestBody<B>>, Response = http::Response<RB>>,
    RB: Body,
{
    type Response = http::Response<ResponseBody<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let (parts, body) = req.into_parts();
        let record = self.logs.start(&parts);
        let req = http::Request::from_parts(parts, record.request_body(body));
        ResponseFuture::new(self.inner.call(req), record)
    }
}

/// Builds [`AccessLog`]s that share their logs (formats and sinks).
#[derive(Debug, Clone)]
pub struct AccessLogLayer {
    logs: AccessLogs,
}

impl AccessLogLayer {
    /// Logs every request; see [`AccessLogLayer::sampling`].
    pub fn new(format: Format, sink: Sink) -> Self {
        Self {
            logs: AccessLogs::new([(format, sink, AccessLogSampling::All)]),
        }
    }

    /// Several logs, each with its own sampling.
    pub fn from_logs(logs: AccessLogs) -> Self {
        Self { logs }
    }

    /// Logs only the requests `sampling` picks (in every log of this layer).
    pub fn sampling(mut self, sampling: AccessLogSampling) -> Self {
        self.logs = self.logs.with_sampling(&sampling);
        self
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog {
            inner,
            logs: self.logs.clone(),
        }
    }
}
