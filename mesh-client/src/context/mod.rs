//! The request context an app carries from the request it is handling into the calls it makes.
//!
//! Policy: a [`MeshContext`] holds the headers that tie one request's hops together: the
//! request ID (`x-request-id`), W3C trace context (`traceparent`, `tracestate`) and B3 (the
//! single `b3` header and the `x-b3-*` set). Values are kept as received, never parsed or
//! regenerated: the proxies own generation and span creation, the app only carries them.
//! Defaults: no context at all outside a request; [`MeshClient`](crate::MeshClient) then
//! sends none and the egress proxy generates a request ID.
//! Failure: none; a header that is absent stays absent.
//! Placement: the context lives in a tokio task-local, set for each request by
//! [`MeshContextLayer`] on the server (or [`MeshContext::scope`] by hand) and read by the
//! client at call time. A task-local does not follow `tokio::spawn`: wrap spawned work in
//! [`scope`] to take the context along.
//!
//! ```
//! use mesh_client::context::{self, MeshContext};
//! use http::HeaderMap;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut incoming = HeaderMap::new();
//! incoming.insert("x-request-id", "4bf92f35".parse().unwrap());
//! let ctx = MeshContext::from_headers(&incoming);
//! ctx.scope(async {
//!     assert_eq!(MeshContext::current().unwrap().request_id(), Some("4bf92f35"));
//!     // Spawned work keeps the request's context only when wrapped in `scope`.
//!     let carried = tokio::spawn(context::scope(async { MeshContext::current() }));
//!     assert!(carried.await.unwrap().is_some());
//! })
//! .await;
//! assert!(MeshContext::current().is_none());
//! # }
//! ```

mod layer;

pub use layer::{MeshContextLayer, MeshContextService};

use http::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use tokio::task::futures::TaskLocalFuture;

/// `x-request-id`: one ID for every hop of a request (Envoy's name).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// W3C trace context: `traceparent`.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// W3C trace context: `tracestate`.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

const N: usize = 9;

/// Every header the context carries, in the order [`MeshContext::headers`] yields them.
pub static PROPAGATED: [HeaderName; N] = [
    REQUEST_ID,
    TRACEPARENT,
    TRACESTATE,
    HeaderName::from_static("b3"),
    HeaderName::from_static("x-b3-traceid"),
    HeaderName::from_static("x-b3-spanid"),
    HeaderName::from_static("x-b3-parentspanid"),
    HeaderName::from_static("x-b3-sampled"),
    HeaderName::from_static("x-b3-flags"),
];

tokio::task_local! {
    static CURRENT: MeshContext;
}

/// The propagated headers of the request being handled. Cloning is cheap: each value is a
/// reference-counted `HeaderValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshContext {
    values: [Option<HeaderValue>; N],
}

impl MeshContext {
    /// An empty context (no request ID, no trace).
    pub fn new() -> MeshContext {
        MeshContext::default()
    }

    /// The propagated headers found in `headers` (the first value of each).
    pub fn from_headers(headers: &HeaderMap) -> MeshContext {
        MeshContext {
            values: std::array::from_fn(|i| headers.get(&PROPAGATED[i]).cloned()),
        }
    }

    /// The context of the request this task is handling, if any.
    pub fn current() -> Option<MeshContext> {
        CURRENT.try_with(MeshContext::clone).ok()
    }

    /// Runs `fut` with this context as the current one.
    pub fn scope<F: Future>(self, fut: F) -> TaskLocalFuture<MeshContext, F> {
        CURRENT.scope(self, fut)
    }

    /// Runs `f` with this context as the current one (for synchronous code).
    pub fn sync_scope<R>(self, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, f)
    }

    /// The value of propagated header `name`; `None` for a header the context does not carry.
    pub fn get(&self, name: &HeaderName) -> Option<&HeaderValue> {
        let i = PROPAGATED.iter().position(|p| p == name)?;
        self.values[i].as_ref()
    }

    /// This context with propagated header `name` set to `value`; a header the context does
    /// not carry is ignored (it would not be propagated).
    #[must_use]
    pub fn with(mut self, name: &HeaderName, value: HeaderValue) -> MeshContext {
        if let Some(i) = PROPAGATED.iter().position(|p| p == name) {
            self.values[i] = Some(value);
        }
        self
    }

    /// `x-request-id`, when it is text.
    pub fn request_id(&self) -> Option<&str> {
        self.text(0)
    }

    /// `traceparent`, when it is text.
    pub fn traceparent(&self) -> Option<&str> {
        self.text(1)
    }

    /// `tracestate`, when it is text.
    pub fn tracestate(&self) -> Option<&str> {
        self.text(2)
    }

    fn text(&self, i: usize) -> Option<&str> {
        self.values[i].as_ref()?.to_str().ok()
    }

    /// Whether no propagated header is set.
    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }

    /// The propagated headers that are set.
    pub fn headers(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        PROPAGATED
            .iter()
            .zip(&self.values)
            .filter_map(|(name, value)| Some((name, value.as_ref()?)))
    }

    /// Adds this context's headers to `headers`, keeping any the caller already set: an
    /// explicit header on an outgoing request wins over the one carried along.
    pub fn apply_to(&self, headers: &mut HeaderMap) {
        for (name, value) in self.headers() {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Wraps `fut` so that it runs with the caller's current context (if any) wherever it is
/// polled: `tokio::spawn(context::scope(work))` keeps the request's ID in spawned work.
pub fn scope<F: Future>(fut: F) -> TaskLocalFuture<MeshContext, F> {
    MeshContext::current().unwrap_or_default().scope(fut)
}

#[cfg(test)]
mod tests;
