//! [`MeshClient`]: calls another service by name through the local proxy's egress listener.
//!
//! Policy: a call names a service (`client.get("location-service", "/v1/near")`); the client
//! sends it to the egress listener with `Host` (`:authority` over HTTP/2) set to that name, so
//! the proxy's routes pick the cluster. It adds the current [`MeshContext`]'s headers (request
//! ID, trace context) that the request does not already carry, and the `x-mesh-*` timeout and
//! retry headers of the call's [`CallOptions`] over the client's defaults (see [`crate::options`]).
//! Failure: the proxy's own failure replies become typed [`Error`]s (see [`crate::error`]);
//! everything else, an upstream's 5xx included, is `Ok(response)`. The local deadline covers
//! the wait for response headers; reading the body is the caller's to bound.
//! Placement: one client per app, cloned freely (it is an `Arc`); connections to the proxy are
//! pooled per service (HTTP/1.1, keep-alive) or shared (HTTP/2).

mod builder;
mod connector;

pub use builder::{DEFAULT_EGRESS, EGRESS_ENV, InvalidEgress, MeshClientBuilder};

use crate::context::MeshContext;
use crate::error::{self, BoxError, Error, TimeoutCause};
use crate::options::{CallOptions, Defaults, Effective};
use bytes::Bytes;
use connector::EgressConnector;
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::sync::Arc;
use std::time::Duration;

type ReqBody = UnsyncBoxBody<Bytes, BoxError>;

/// A client for calling other services through the local proxy. Cheap to clone.
///
/// ```no_run
/// use mesh_client::{CallOptions, MeshClient};
/// use std::time::Duration;
///
/// # async fn handler() -> Result<(), Box<dyn std::error::Error>> {
/// let client = MeshClient::from_env()?; // MESH_EGRESS, else 127.0.0.1:10000
/// let near = client.get("location-service", "/v1/near?lat=1&lon=2").await?;
/// // This one call may take longer, and must not be retried.
/// let req = http::Request::post("/v1/reports").body(http_body_util::Full::new(bytes::Bytes::from("{}")))?;
/// let opts = CallOptions::new().timeout(Duration::from_secs(60)).no_retries();
/// let report = client.request_with("reports", req, &opts).await?;
/// # let _ = (near, report);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MeshClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    egress: Authority,
    defaults: Defaults,
    http2: bool,
    http: Client<EgressConnector, ReqBody>,
}

impl MeshClient {
    /// A builder with the defaults (egress `127.0.0.1:10000`, 15 s timeout, safe retries).
    pub fn builder() -> MeshClientBuilder {
        MeshClientBuilder::new()
    }

    /// A client with the defaults and the egress from `MESH_EGRESS`, when set.
    pub fn from_env() -> Result<MeshClient, InvalidEgress> {
        MeshClientBuilder::from_env().build()
    }

    fn new(egress: Authority, builder: MeshClientBuilder) -> MeshClient {
        let egress_uri = Uri::builder()
            .scheme("http")
            .authority(egress.clone())
            .path_and_query("/")
            .build()
            .unwrap_or_else(|_| Uri::from_static("http://127.0.0.1:10000/"));
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            // Below the proxy's own idle timeouts, so the client is the one that closes.
            .pool_idle_timeout(Duration::from_secs(30))
            .http2_only(builder.http2)
            .build(EgressConnector::new(egress_uri));
        MeshClient {
            inner: Arc::new(Inner {
                egress,
                defaults: builder.defaults,
                http2: builder.http2,
                http,
            }),
        }
    }

    /// The egress listener this client sends to.
    pub fn egress(&self) -> &Authority {
        &self.inner.egress
    }

    /// Whether calls go over HTTP/2.
    pub fn is_http2(&self) -> bool {
        self.inner.http2
    }

    #[cfg(feature = "grpc")]
    pub(crate) fn defaults(&self) -> &Defaults {
        &self.inner.defaults
    }

    /// Sends `req` to `service`. The request's URI supplies only the path and query; its
    /// [`CallOptions`] may ride in its extensions.
    pub async fn request<B>(&self, service: &str, req: Request<B>) -> Result<Response<Incoming>, Error>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let opts = req.extensions().get::<CallOptions>().cloned();
        let effective = self.inner.defaults.resolve(opts.as_ref());
        self.send(service, req, effective).await
    }

    /// Sends `req` to `service` under `opts`.
    pub async fn request_with<B>(
        &self,
        service: &str,
        req: Request<B>,
        opts: &CallOptions,
    ) -> Result<Response<Incoming>, Error>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let effective = self.inner.defaults.resolve(Some(opts));
        self.send(service, req, effective).await
    }

    /// `GET path` on `service`.
    pub async fn get(&self, service: &str, path: &str) -> Result<Response<Incoming>, Error> {
        let req = build(service, http::Method::GET, path, Empty::new())?;
        self.request(service, req).await
    }

    /// `POST path` on `service` with `body`.
    pub async fn post(
        &self,
        service: &str,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<Response<Incoming>, Error> {
        let req = build(service, http::Method::POST, path, Full::new(body.into()))?;
        self.request(service, req).await
    }

    async fn send<B>(
        &self,
        service: &str,
        req: Request<B>,
        effective: Effective,
    ) -> Result<Response<Incoming>, Error>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = req.into_parts();
        parts.uri = service_uri(service, &parts.uri)?;
        // hyper writes Host (HTTP/1.1) or :authority (HTTP/2) from the URI: the service name.
        parts.headers.remove(http::header::HOST);
        if let Some(ctx) = MeshContext::current() {
            ctx.apply_to(&mut parts.headers);
        }
        effective.apply(&parts.method, &mut parts.headers);
        let body: ReqBody = body.map_err(Into::into).boxed_unsync();
        let call = self.inner.http.request(Request::from_parts(parts, body));
        let result = match effective.deadline() {
            Some(deadline) => match tokio::time::timeout(deadline, call).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(Error::Timeout {
                        service: service.to_owned(),
                        cause: TimeoutCause::LocalDeadline(deadline),
                    });
                }
            },
            None => call.await,
        };
        let response = result.map_err(|e| self.transport_error(service, e))?;
        match error::classify(response.status(), response.headers()) {
            None => Ok(response),
            Some(kind) => Err(error::from_reply(
                kind,
                service,
                response.status(),
                response.headers(),
            )),
        }
    }

    fn transport_error(&self, service: &str, e: hyper_util::client::legacy::Error) -> Error {
        if e.is_connect() {
            Error::ProxyUnreachable {
                service: service.to_owned(),
                egress: self.inner.egress.to_string(),
                source: e.into(),
            }
        } else {
            Error::Transport {
                service: service.to_owned(),
                source: e.into(),
            }
        }
    }
}

fn invalid(service: &str, reason: impl ToString) -> Error {
    Error::InvalidRequest {
        service: service.to_owned(),
        reason: reason.to_string(),
    }
}

fn build<B>(service: &str, method: http::Method, path: &str, body: B) -> Result<Request<B>, Error> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(body)
        .map_err(|e| invalid(service, format!("path {path:?}: {e}")))
}

/// `http://{service}{path and query of uri}`.
fn service_uri(service: &str, uri: &Uri) -> Result<Uri, Error> {
    let authority: Authority = service
        .parse()
        .map_err(|_| invalid(service, "the service name is not a valid host"))?;
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query(path)
        .build()
        .map_err(|e| invalid(service, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_becomes_the_authority_and_the_path_is_kept() {
        let uri = service_uri("location-service", &Uri::from_static("/v1/near?lat=1")).unwrap();
        assert_eq!(uri.to_string(), "http://location-service/v1/near?lat=1");
        let uri = service_uri("b", &Uri::from_static("http://elsewhere:9/x")).unwrap();
        assert_eq!(uri.to_string(), "http://b/x");
        let err = service_uri("not a host", &Uri::from_static("/")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest);
    }
}
