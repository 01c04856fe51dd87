//! gRPC through the local proxy: a tonic channel to a named service, with the same
//! propagation, timeout and retry headers as [`MeshClient`]'s HTTP calls.
//!
//! Policy: [`MeshClient::channel`] returns a [`MeshChannel`], a tonic `Channel` (h2c to the
//! egress listener, `:authority` = the service name, so the proxy routes by it) behind a
//! small service that adds, per call, the current [`MeshContext`]'s headers and the `x-mesh-*`
//! controls. A call's own deadline (`grpc-timeout`, tonic's `Request::set_timeout`) becomes
//! the proxy timeout; without one, the client's default applies. Retries follow the client's
//! policy as for a POST (`connect-failure,refused-stream` by default): a gRPC method's
//! idempotency is unknown here.
//! Failure: the channel connects lazily; a proxy failure reply arrives as a trailers-only
//! `Status` (`UNAVAILABLE` for most), whose metadata keeps `x-mesh-response-flags`:
//! [`error_kind`] reads it back into an [`ErrorKind`]. The local deadline is tonic's channel
//! timeout (the default timeout plus the grace).
//! Placement: generated clients take it in place of a `Channel`: `FooClient::new(channel)`.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let client = mesh_client::MeshClient::from_env()?;
//! let channel = client.channel("inventory")?;
//! let mut grpc = tonic::client::Grpc::new(channel); // or a generated `InventoryClient::new(channel)`
//! # let _ = &mut grpc;
//! # Ok(()) }
//! ```

use crate::MeshClient;
use crate::context::MeshContext;
use crate::error::{self, Error, ErrorKind};
use crate::options::Defaults;
use http::HeaderValue;
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower::Service;

/// A tonic channel to one service through the local proxy (see the module doc). Cheap to clone.
#[derive(Debug, Clone)]
pub struct MeshChannel {
    inner: Channel,
    defaults: Defaults,
}

impl MeshClient {
    /// A gRPC channel to `service` through the egress listener. Connects on first use.
    pub fn channel(&self, service: &str) -> Result<MeshChannel, Error> {
        let invalid = |reason: String| Error::InvalidRequest {
            service: service.to_owned(),
            reason,
        };
        let origin = format!("http://{service}")
            .parse()
            .map_err(|_| invalid("the service name is not a valid host".into()))?;
        let mut endpoint = Endpoint::from_shared(format!("http://{}", self.egress()))
            .map_err(|e| invalid(e.to_string()))?
            .origin(origin)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(2));
        let defaults = self.defaults().clone();
        if let Some(deadline) = defaults.resolve(None).deadline() {
            endpoint = endpoint.timeout(deadline);
        }
        Ok(MeshChannel {
            inner: endpoint.connect_lazy(),
            defaults,
        })
    }
}

impl Service<http::Request<Body>> for MeshChannel {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = <Channel as Service<http::Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        prepare(&self.defaults, &mut req);
        self.inner.call(req)
    }
}

/// Adds the context and control headers to one call.
fn prepare<B>(defaults: &Defaults, req: &mut http::Request<B>) {
    if let Some(ctx) = MeshContext::current() {
        ctx.apply_to(req.headers_mut());
    }
    let mut effective = defaults.resolve(None);
    if let Some(deadline) = req.headers().get("grpc-timeout").and_then(grpc_timeout) {
        effective = effective.with_timeout(deadline);
    }
    let method = req.method().clone();
    effective.apply(&method, req.headers_mut());
}

/// The proxy condition behind a failed gRPC call, when the proxy (not the server) ended it.
pub fn error_kind(status: &tonic::Status) -> Option<ErrorKind> {
    if status.code() == tonic::Code::Ok {
        return None;
    }
    error::classify_flags(&status.metadata().clone().into_headers())
}

/// A `grpc-timeout` value (`"250m"`: up to 8 digits and a unit) as a duration.
fn grpc_timeout(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let (digits, unit) = text.split_at_checked(text.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        let cases = [
            ("1H", Some(Duration::from_secs(3600))),
            ("2M", Some(Duration::from_secs(120))),
            ("3S", Some(Duration::from_secs(3))),
            ("250m", Some(Duration::from_millis(250))),
            ("7u", Some(Duration::from_micros(7))),
            ("9n", Some(Duration::from_nanos(9))),
            ("123456789S", None),
            ("m", None),
            ("5x", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(grpc_timeout(&HeaderValue::from_static(text)), want, "{text:?}");
        }
    }

    #[test]
    fn a_proxy_reply_in_a_status_maps_to_its_kind() {
        let mut status = tonic::Status::unavailable("no healthy upstream");
        status.metadata_mut().insert(
            "x-mesh-response-flags",
            tonic::metadata::MetadataValue::from_static("UH"),
        );
        assert_eq!(error_kind(&status), Some(ErrorKind::NoHealthyUpstream));
        assert_eq!(error_kind(&tonic::Status::unavailable("server said so")), None);
    }

    #[test]
    fn a_call_carries_the_context_and_its_own_deadline_to_the_proxy() {
        let mut req = http::Request::post("/inventory.Stock/Get").body(()).unwrap();
        req.headers_mut()
            .insert("grpc-timeout", HeaderValue::from_static("250m"));
        let ctx = MeshContext::new().with(&crate::context::REQUEST_ID, HeaderValue::from_static("rid"));
        ctx.sync_scope(|| prepare(&Defaults::default(), &mut req));
        let h = req.headers();
        assert_eq!(h["x-request-id"], "rid");
        assert_eq!(h["x-mesh-upstream-rq-timeout-ms"], "250");
        assert_eq!(h["x-mesh-retry-on"], "connect-failure,refused-stream");

        let mut req = http::Request::post("/inventory.Stock/Get").body(()).unwrap();
        prepare(&Defaults::default(), &mut req);
        assert_eq!(req.headers()["x-mesh-upstream-rq-timeout-ms"], "15000");
        assert!(!req.headers().contains_key("x-request-id"));
    }
}
