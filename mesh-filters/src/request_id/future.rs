//! The response future of [`RequestId`](super::RequestId).

use http::{HeaderName, HeaderValue, Response};
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// Resolves to the inner response, with the request ID echoed onto it when configured.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // `None` when there is nothing to echo: echo off, or no ID chosen.
        echo: Option<(HeaderName, HeaderValue)>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, echo: Option<(HeaderName, HeaderValue)>) -> Self {
        Self { inner, echo }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx)).map_err(Into::into)?;
        if let Some((name, id)) = this.echo.take() {
            // An upstream that answers with its own ID is the better witness; keep it.
            response.headers_mut().entry(name).or_insert(id);
        }
        Poll::Ready(Ok(response))
    }
}
