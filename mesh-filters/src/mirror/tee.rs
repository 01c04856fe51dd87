//! The primary body and its copies: [`Tee`] hands every frame to each copy that keeps up,
//! [`Copy`] is a copy's body.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

use super::BACKLOG;

/// One copy's end of the tee. `complete` is set only when the primary body ended
/// cleanly while this copy kept up, so a copy dropped for lagging never looks finished.
#[derive(Debug)]
struct Feed {
    tx: mpsc::Sender<Frame<Bytes>>,
    complete: Arc<AtomicBool>,
}

pin_project! {
    /// The primary body, handing each frame to every copy still keeping up.
    pub struct Tee<B> {
        #[pin]
        inner: B,
        feeds: Vec<Feed>,
    }
}

impl<B> Tee<B> {
    /// A tee without copies: the body as it is, for requests nothing mirrors.
    pub fn plain(inner: B) -> Self {
        Tee {
            inner,
            feeds: Vec::new(),
        }
    }
}

impl<B: Body<Data = Bytes>> Tee<B> {
    pub(super) fn new(inner: B, n: usize) -> (Self, Vec<Copy>) {
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
pub struct Copy {
    frames: mpsc::Receiver<Frame<Bytes>>,
    complete: Arc<AtomicBool>,
}

/// The copy fell behind, or the primary body did not end cleanly.
#[derive(Debug, thiserror::Error)]
#[error("mirrored request body abandoned")]
pub struct CopyAbandoned;

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
