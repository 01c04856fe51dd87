//! Request mirroring (Envoy's `request_mirror_policies`, "shadowing"): a share of the
//! requests is copied to shadow services, fire and forget.
//!
//! Policy: each shadow draws on its own with its [`Percent`]. A copy gets the request's
//! method, URI, version and headers, with `-shadow` added to its host (before any port, as
//! Envoy: `api.internal:8080` → `api.internal-shadow:8080`, in the URI's authority and the
//! `Host` header alike), and the request's body as it streams through a [`Tee`]. The copy
//! is sent on a task of its own, bounded by the layer's timeout (none by default), and its
//! response is dropped.
//!
//! Failure semantics: a copy never slows or fails the primary. Each copy's body is a
//! bounded channel fed with `try_send`: a shadow that falls behind by more than [`BACKLOG`]
//! frames, or a primary body that ends early or errs, aborts that copy (its body yields
//! [`CopyAbandoned`]), never the primary. Shadow errors are logged at debug level.
//!
//! Placement: outside retries (a request is mirrored once, however many tries it takes),
//! inside rate limits and faults. The proxy calls [`copy_to`] from its router; any tower
//! stack can use [`Mirror`] / [`MirrorLayer`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mesh_core::BoxError> {
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use mesh_core::policy::Percent;
//! use mesh_filters::mirror::Mirror;
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use tower::{ServiceExt, service_fn};
//!
//! let seen = Arc::new(AtomicUsize::new(0));
//! let counter = seen.clone();
//! let shadow = service_fn(move |req: Request<mesh_filters::mirror::Copy>| {
//!     let counter = counter.clone();
//!     async move {
//!         assert_eq!(req.uri().host(), Some("api-shadow"));
//!         let body = req.into_body().collect().await?.to_bytes();
//!         assert_eq!(&body[..], b"hello");
//!         counter.fetch_add(1, Ordering::SeqCst);
//!         Ok::<_, mesh_core::BoxError>(Response::new(()))
//!     }
//! });
//! let primary = service_fn(|req: Request<_>| async move {
//!     let body = BodyExt::collect(req.into_body()).await?.to_bytes();
//!     Ok::<_, mesh_core::BoxError>(Response::new(body))
//! });
//! let mirror = Mirror::new(primary, vec![(shadow, Percent::HUNDRED)]);
//! let req = Request::builder().uri("http://api/x").body(Full::new(bytes::Bytes::from("hello")))?;
//! let response = mirror.oneshot(req).await?;
//! assert_eq!(&response.body()[..], b"hello");
//! # tokio::time::timeout(std::time::Duration::from_secs(5), async {
//! #     while seen.load(Ordering::SeqCst) == 0 { tokio::task::yield_now().await; }
//! # }).await?;
//! # Ok(())
//! # }
//! ```

mod tee;
#[cfg(test)]
mod tests;

pub use tee::{Copy, CopyAbandoned, Tee};

use bytes::Bytes;
use http::uri::{Authority, Uri};
use http::{HeaderValue, Request};
use http_body::Body;
use mesh_core::BoxError;
use mesh_core::policy::Percent;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};

/// Frames a copy may lag behind its primary before it is given up.
pub const BACKLOG: usize = 16;

/// Sends a copy of `req` to each of `shadows` whose draw comes up, on a task of its own
/// (bounded by `timeout`), and returns the primary request, whose body feeds the copies.
/// Must be called within a Tokio runtime.
pub fn copy_to<B, M>(shadows: &[(M, Percent)], timeout: Option<Duration>, req: Request<B>) -> Request<Tee<B>>
where
    B: Body<Data = Bytes>,
    M: Service<Request<Copy>> + Clone + Send + 'static,
    M::Future: Send,
    M::Error: Into<BoxError>,
{
    let chosen: Vec<&M> = shadows
        .iter()
        .filter(|(_, share)| share.admits(rand::random()))
        .map(|(shadow, _)| shadow)
        .collect();
    let (parts, body) = req.into_parts();
    let (tee, copies) = Tee::new(body, chosen.len());
    for (shadow, copy) in chosen.into_iter().zip(copies) {
        let mut builder = Request::builder()
            .method(parts.method.clone())
            .uri(shadow_uri(&parts.uri))
            .version(parts.version);
        if let Some(headers) = builder.headers_mut() {
            *headers = parts.headers.clone();
            let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
            if let Some(host) = host.and_then(|h| Authority::try_from(h).ok())
                && let Ok(value) = HeaderValue::from_str(shadow_authority(&host).as_str())
            {
                headers.insert(http::header::HOST, value);
            }
        }
        let Ok(copy_req) = builder.body(copy) else {
            continue;
        };
        let send = shadow.clone().oneshot(copy_req);
        tokio::spawn(async move {
            let outcome = match timeout {
                Some(limit) => tokio::time::timeout(limit, send).await.ok(),
                None => Some(send.await),
            };
            if let Some(Err(e)) = outcome {
                tracing::debug!(error = %e.into(), "mirrored request failed");
            }
        });
    }
    Request::from_parts(parts, tee)
}

/// `host[:port]` → `host-shadow[:port]`; left as it is if that is not a valid authority.
pub fn shadow_authority(authority: &Authority) -> Authority {
    let shadow = match authority.port() {
        Some(port) => format!("{}-shadow:{port}", authority.host()),
        None => format!("{}-shadow", authority.host()),
    };
    Authority::try_from(shadow).unwrap_or_else(|_| authority.clone())
}

fn shadow_uri(uri: &Uri) -> Uri {
    let Some(authority) = uri.authority() else {
        return uri.clone();
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(shadow_authority(authority));
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// Mirrors requests to shadow services; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Mirror<S, M> {
    inner: S,
    shadows: Arc<[(M, Percent)]>,
    timeout: Option<Duration>,
}

impl<S, M> Mirror<S, M> {
    pub fn new(inner: S, shadows: Vec<(M, Percent)>) -> Self {
        Mirror {
            inner,
            shadows: shadows.into(),
            timeout: None,
        }
    }

    /// Bounds each copy (the route timeout, in the proxy). Default: none.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, M, B> Service<Request<B>> for Mirror<S, M>
where
    S: Service<Request<Tee<B>>>,
    B: Body<Data = Bytes>,
    M: Service<Request<Copy>> + Clone + Send + 'static,
    M::Future: Send,
    M::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> S::Future {
        let req = copy_to(&self.shadows, self.timeout, req);
        self.inner.call(req)
    }
}

/// Builds [`Mirror`] services sending copies to the same shadows.
#[derive(Debug, Clone)]
pub struct MirrorLayer<M> {
    shadows: Arc<[(M, Percent)]>,
    timeout: Option<Duration>,
}

impl<M> MirrorLayer<M> {
    pub fn new(shadows: Vec<(M, Percent)>) -> Self {
        MirrorLayer {
            shadows: shadows.into(),
            timeout: None,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl<S, M> Layer<S> for MirrorLayer<M> {
    type Service = Mirror<S, M>;

    fn layer(&self, inner: S) -> Mirror<S, M> {
        Mirror {
            inner,
            shadows: self.shadows.clone(),
            timeout: self.timeout,
        }
    }
}
