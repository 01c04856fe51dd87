//! Body types of the data path. Bodies always stream: nothing here buffers.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::sync::oneshot;

/// What flows through the proxy in both directions.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// A whole body from bytes (local replies, admin pages).
pub(crate) fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(crate) fn empty() -> ProxyBody {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(crate) fn boxed<B>(body: B) -> ProxyBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

pin_project! {
    /// A request body that says when the downstream has finished sending it
    /// (end of stream, error, or the body being dropped): Envoy's route timeout
    /// starts only then.
    pub(crate) struct NotifyEnd<B> {
        #[pin]
        inner: B,
        done: Option<oneshot::Sender<()>>,
    }
}

impl<B: Body> NotifyEnd<B> {
    pub(crate) fn new(inner: B) -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let done = if inner.is_end_stream() {
            let _ = tx.send(());
            None
        } else {
            Some(tx)
        };
        (NotifyEnd { inner, done }, rx)
    }
}

impl<B: Body> Body for NotifyEnd<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if matches!(frame, None | Some(Err(_)))
            && let Some(tx) = this.done.take()
        {
            let _ = tx.send(());
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The route timeout as a future: fires `timeout` after the request ended.
pub(crate) type Deadline = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Error a response body yields when the route timeout fires mid-stream.
#[derive(Debug, thiserror::Error)]
#[error("route timeout fired while streaming the response body")]
pub struct ResponseTimeout;

pin_project! {
    /// A response body cut off when the route's deadline passes. Headers are already
    /// sent by then, so the downstream sees a reset stream (h2) or a closed connection (h1).
    pub(crate) struct WithDeadline<B> {
        #[pin]
        inner: B,
        deadline: Deadline,
    }
}

impl<B> WithDeadline<B> {
    pub(crate) fn new(inner: B, deadline: Deadline) -> Self {
        WithDeadline { inner, deadline }
    }
}

impl<B> Body for WithDeadline<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(ResponseTimeout.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project! {
    /// A body that stamps `activity` on every frame (when there is one to stamp): how
    /// a route's stream idle timeout sees bytes moving.
    pub(crate) struct Touching<B> {
        #[pin]
        inner: B,
        activity: Option<crate::idle::Activity>,
    }
}

impl<B> Touching<B> {
    pub(crate) fn new(inner: B, activity: Option<crate::idle::Activity>) -> Self {
        Touching { inner, activity }
    }
}

impl<B: Body> Body for Touching<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let (Poll::Ready(Some(Ok(_))), Some(activity)) = (&polled, this.activity) {
            activity.touch();
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

pin_project! {
    /// A body that holds `guard` until the body is dropped (finished or abandoned):
    /// how a request stays "in flight" for least-request balancing while its
    /// response streams.
    pub(crate) struct WithGuard<B, G> {
        #[pin]
        inner: B,
        guard: G,
    }
}

impl<B, G> WithGuard<B, G> {
    pub(crate) fn new(inner: B, guard: G) -> Self {
        WithGuard { inner, guard }
    }
}

impl<B: Body, G> Body for WithGuard<B, G> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
