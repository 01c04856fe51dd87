//! Request mirroring (Envoy's `request_mirror_policies`, "shadowing"): a share of a
//! route's requests is copied to another cluster, fire and forget.
//!
//! Policy: each mirror policy draws on its own (`percentage`, default 100%). A copy keeps
//! the rewritten head of the primary request, with `-shadow` added to its host (before
//! any port, as Envoy), and gets the primary's body as it streams ([`Tee`]); it is sent
//! through the mirror cluster's own balancer and circuit breakers, without retries,
//! under the route timeout, and its response is dropped.
//!
//! Failure semantics: a copy never slows or fails the primary. Each copy's body is a
//! bounded channel fed with `try_send`: a shadow that falls behind by more than
//! [`BACKLOG`] frames, or a primary body that ends early or errs, aborts that copy
//! (its upstream sees a reset body), never the primary.

use super::attempt::{Attempt, Plan};
use crate::upstream::Upstreams;
use bytes::Bytes;
use http::uri::Authority;
use http::{Request, request};
use http_body::{Body, Frame, SizeHint};
use mesh_core::BoxError;
use mesh_core::policy::MirrorPolicy;
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tower::ServiceExt;

/// Frames a copy may lag behind its primary before it is given up.
pub(crate) const BACKLOG: usize = 16;

/// Sends a copy of the request whose head is `head` to each mirror of `policies` that
/// draws this request, and returns the primary body to send in place of `body`.
pub(crate) fn mirror<B>(
    upstreams: &Arc<Upstreams>,
    policies: &[MirrorPolicy],
    head: &request::Parts,
    plan: &Plan,
    timeout: Option<Duration>,
    body: B,
) -> Tee<B>
where
    B: Body<Data = Bytes>,
{
    let chosen: Vec<&MirrorPolicy> = policies
        .iter()
        .filter(|m| m.percentage.admits(rand::random()))
        .collect();
    let (tee, copies) = Tee::new(body, chosen.len());
    for (policy, copy) in chosen.into_iter().zip(copies) {
        let mut builder = Request::builder()
            .method(head.method.clone())
            .uri(head.uri.clone())
            .version(head.version);
        if let Some(headers) = builder.headers_mut() {
            *headers = head.headers.clone();
        }
        let Ok(req) = builder.body(copy) else { continue };
        let shadow = Plan {
            cluster: policy.cluster.index,
            hash: plan.hash,
            priority: plan.priority,
            authority: plan.authority.as_ref().map(shadow_authority),
            path_and_query: plan.path_and_query.clone(),
            downstream: plan.downstream,
            upgrade: false,
            reselect: 1,
            timed_out: AtomicBool::new(false),
        };
        let attempt = Attempt {
            upstreams: upstreams.clone(),
            plan: Arc::new(shadow),
        };
        tokio::spawn(async move {
            let send = attempt.oneshot(req);
            let outcome = match timeout {
                Some(limit) => tokio::time::timeout(limit, send).await.ok(),
                None => Some(send.await),
            };
            if let Some(Err(e)) = outcome {
                tracing::debug!(error = %e, "mirrored request failed");
            }
        });
    }
    tee
}

/// `host[:port]` → `host-shadow[:port]`; left as it is if that is not a valid authority.
fn shadow_authority(authority: &Authority) -> Authority {
    let shadow = match authority.port() {
        Some(port) => format!("{}-shadow:{port}", authority.host()),
        None => format!("{}-shadow", authority.host()),
    };
    Authority::try_from(shadow).unwrap_or_else(|_| authority.clone())
}

/// One copy's end of the tee. `complete` is set only when the primary body ended
/// cleanly while this copy kept up, so a copy dropped for lagging never looks finished.
#[derive(Debug)]
struct Feed {
    tx: mpsc::Sender<Frame<Bytes>>,
    complete: Arc<AtomicBool>,
}

pin_project! {
    /// The primary body, handing each frame to every copy still keeping up.
    pub(crate) struct Tee<B> {
        #[pin]
        inner: B,
        feeds: Vec<Feed>,
    }
}

impl<B: Body<Data = Bytes>> Tee<B> {
    fn new(inner: B, n: usize) -> (Self, Vec<Copy>) {
        let (feeds, copies): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| {
                let (tx, frames) = mpsc::channel(BACKLOG);
                let complete = Arc::new(AtomicBool::new(false));
                let copy = Copy {
                    frames,
                    complete: complete.clone(),
                };
                (Feed { tx, complete }, copy)
            })
            .unzip();
        let mut tee = Tee { inner, feeds };
        // An empty body may never be polled: settle the copies now.
        if tee.inner.is_end_stream() {
            finish(&mut tee.feeds);
        }
        (tee, copies)
    }
}

/// The primary ended cleanly: every copy still fed is complete.
fn finish(feeds: &mut Vec<Feed>) {
    for feed in feeds.drain(..) {
        feed.complete.store(true, Ordering::Release);
    }
}

impl<B: Body<Data = Bytes>> Body for Tee<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                // A copy that cannot take the frame now is dropped: the primary never waits.
                this.feeds.retain(|feed| feed.tx.try_send(copy_of(frame)).is_ok());
                // hyper may never poll past the last frame of a sized body.
                if this.inner.is_end_stream() {
                    finish(this.feeds);
                }
            }
            Poll::Ready(None) => finish(this.feeds),
            Poll::Ready(Some(Err(_))) => this.feeds.clear(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn copy_of(frame: &Frame<Bytes>) -> Frame<Bytes> {
    match (frame.data_ref(), frame.trailers_ref()) {
        (Some(data), _) => Frame::data(data.clone()),
        (None, Some(trailers)) => Frame::trailers(trailers.clone()),
        (None, None) => Frame::data(Bytes::new()),
    }
}

/// A copy's body: the primary's frames as they arrive; an error if the copy was given up.
#[derive(Debug)]
pub(crate) struct Copy {
    frames: mpsc::Receiver<Frame<Bytes>>,
    complete: Arc<AtomicBool>,
}

/// The copy fell behind, or the primary body did not end cleanly.
#[derive(Debug, thiserror::Error)]
#[error("mirrored request body abandoned")]
pub(crate) struct CopyAbandoned;

impl Body for Copy {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(Ok(frame))),
            // Closed: a clean end only if the primary finished and this copy kept up.
            Poll::Ready(None) if self.complete.load(Ordering::Acquire) => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(CopyAbandoned.into()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
