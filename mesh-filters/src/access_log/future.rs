//! The response future of [`AccessLog`](super::AccessLog).

use super::body::ResponseBody;
use super::record::Record;
use http_body::Body;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// Hands the record to the response body, or writes the line when the inner service fails.
    /// Dropped before the response (the client left), the record writes the line with `DC`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        record: Record,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, record: Record) -> Self {
        Self { inner, record }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: Body,
{
    type Output = Result<http::Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        Poll::Ready(match result {
            Ok(response) => {
                this.record.response(&response);
                let record = std::mem::replace(this.record, Record::off());
                Ok(response.map(|body| ResponseBody::new(body, record)))
            }
            Err(error) => {
                // No response: the line shows code 0, as Envoy's does for a reset stream.
                this.record.finish();
                Err(error)
            }
        })
    }
}
