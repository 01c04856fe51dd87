//! The response future of [`Timeout`](super::Timeout).

use super::Scope;
use super::error::{PerTryTimeout, RouteTimeout};
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::Sleep;

pin_project! {
    /// Resolves to the inner response, or to a timeout error once the deadline passes.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // `None` when the timeout is disabled: nothing to arm.
        #[pin]
        sleep: Option<Sleep>,
        after: Duration,
        scope: Scope,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, timeout: Option<Duration>, scope: Scope) -> Self {
        Self {
            inner,
            sleep: timeout.map(tokio::time::sleep),
            after: timeout.unwrap_or_default(),
            scope,
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
        let this = self.project();
        // The response is polled first so that one arriving in the same tick as the
        // deadline still wins: the upstream did answer in time.
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result.map_err(Into::into));
        }
        let Some(sleep) = this.sleep.as_pin_mut() else {
            return Poll::Pending;
        };
        ready!(sleep.poll(cx));
        let after = *this.after;
        Poll::Ready(Err(match this.scope {
            Scope::Route => RouteTimeout { after }.into(),
            Scope::PerTry => PerTryTimeout { after }.into(),
        }))
    }
}

pub use super::service_time::ServiceTimeFuture;
