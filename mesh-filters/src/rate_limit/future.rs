//! The response future of [`LocalRateLimit`](super::LocalRateLimit).

use super::error::RateLimited;
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project! {
    /// The inner service's response, or the rate limit error without calling it.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn admitted(inner: F) -> Self {
        Self {
            state: State::Admitted { inner },
        }
    }

    pub(crate) fn limited(error: RateLimited) -> Self {
        Self {
            state: State::Limited { error: Some(error) },
        }
    }
}

pin_project! {
    #[derive(Debug)]
    #[project = Proj]
    enum State<F> {
        Admitted { #[pin] inner: F },
        Limited { error: Option<RateLimited> },
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Proj::Admitted { inner } => inner.poll(cx).map_err(Into::into),
            Proj::Limited { error } => match error.take() {
                Some(error) => Poll::Ready(Err(error.into())),
                // Polled again after completion: the contract allows anything but a panic.
                None => Poll::Pending,
            },
        }
    }
}
