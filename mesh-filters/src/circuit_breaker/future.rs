//! The response future of [`CircuitBreaker`](super::CircuitBreaker).

use super::error::CircuitOpen;
use super::guard::RequestGuard;
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// Resolves to the inner service's response, or at once to [`CircuitOpen`] when the breaker
    /// refused the request. Holds the request slot until the inner future resolves or is dropped.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<F> {
        Admitted { #[pin] future: F, guard: Option<RequestGuard> },
        Refused { error: CircuitOpen },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn admitted(future: F, guard: RequestGuard) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                future,
                guard: Some(guard),
            },
        }
    }

    pub(super) fn refused(error: CircuitOpen) -> Self {
        ResponseFuture {
            kind: Kind::Refused { error },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Admitted { future, guard } => {
                let out = ready!(future.poll(cx));
                // Give the slot back when the response is in, not whenever the caller gets round
                // to dropping this future.
                *guard = None;
                Poll::Ready(out.map_err(Into::into))
            }
            KindProj::Refused { error } => Poll::Ready(Err((*error).into())),
        }
    }
}
