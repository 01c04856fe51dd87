//! The bodies the access log wraps: the request body counts bytes received, the response body
//! counts bytes sent and writes the line when it ends (or, dropped early, with flag `DC`).

use super::record::Record;
use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

pin_project! {
    /// A request body that counts the bytes read from it (`%BYTES_RECEIVED%`) when the request
    /// is logged.
    #[derive(Debug)]
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        received: Option<Arc<AtomicU64>>,
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn new(inner: B, received: Option<Arc<AtomicU64>>) -> Self {
        Self { inner, received }
    }

    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<B: Body> Body for RequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let (Some(Ok(frame)), Some(received)) = (&frame, this.received)
            && let Some(data) = frame.data_ref()
        {
            received.fetch_add(data.remaining() as u64, Ordering::Relaxed);
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

pin_project! {
    /// A response body that writes the access log line when it ends.
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        record: Record,
    }
}

impl<B: Body> ResponseBody<B> {
    pub(crate) fn new(inner: B, mut record: Record) -> Self {
        // An empty body may never be polled: its line must not wait for (or be lost to) a poll.
        if inner.is_end_stream() {
            record.finish();
        }
        Self { inner, record }
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    this.record.sent(data.remaining());
                } else if let Some(trailers) = frame.trailers_ref() {
                    this.record.trailers(trailers);
                }
                // Servers stop polling once a body says it has ended, and may drop it at once.
                if this.inner.is_end_stream() {
                    this.record.finish();
                }
            }
            // A failed body ends the response too; the line shows what was sent before it.
            Some(Err(_)) | None => this.record.finish(),
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
