//! The response future of [`FaultInjection`](super::FaultInjection).

use super::error::{FaultAbort, InjectedDelay};
use super::stats::ActiveFault;
use http::{Request, Response};
use mesh_core::BoxError;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::Sleep;
use tower::Service;

pin_project! {
    /// Sleeps out an injected delay, then aborts or calls the inner service.
    #[derive(Debug)]
    pub struct ResponseFuture<S, B, F> {
        #[pin]
        state: State<S, B, F>,
    }
}

pin_project! {
    #[derive(Debug)]
    #[project = Proj]
    enum State<S, B, F> {
        Delay {
            // Boxed so that the common, undelayed path does not carry a timer's worth of bytes.
            sleep: Pin<Box<Sleep>>,
            delay: Duration,
            // The ready service taken out of `FaultInjection`, and the request for it.
            service: Option<S>,
            request: Option<Request<B>>,
            abort: Option<FaultAbort>,
            active: Option<ActiveFault>,
        },
        Call {
            #[pin]
            inner: F,
            delayed: Option<Duration>,
        },
        Abort {
            error: Option<FaultAbort>,
            active: Option<ActiveFault>,
        },
    }
}

impl<S, B, F> ResponseFuture<S, B, F> {
    pub(crate) fn delay(
        delay: Duration,
        service: S,
        request: Request<B>,
        abort: Option<FaultAbort>,
        active: ActiveFault,
    ) -> Self {
        let state = State::Delay {
            sleep: Box::pin(tokio::time::sleep(delay)),
            delay,
            service: Some(service),
            request: Some(request),
            abort,
            active: Some(active),
        };
        Self { state }
    }

    pub(crate) fn abort(error: FaultAbort, active: ActiveFault) -> Self {
        Self {
            state: State::Abort {
                error: Some(error),
                active: Some(active),
            },
        }
    }

    pub(crate) fn call(inner: F) -> Self {
        Self {
            state: State::Call { inner, delayed: None },
        }
    }
}

impl<S, B, F, ResB> Future for ResponseFuture<S, B, F>
where
    S: Service<Request<B>, Response = Response<ResB>, Future = F>,
    F: Future<Output = Result<Response<ResB>, S::Error>>,
    S::Error: Into<BoxError>,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let next = match state.as_mut().project() {
                Proj::Delay {
                    sleep,
                    delay,
                    service,
                    request,
                    abort,
                    active,
                } => {
                    ready!(sleep.as_mut().poll(cx));
                    if let Some(abort) = abort.take() {
                        if let Some(active) = active.take() {
                            active.record_abort();
                        }
                        return Poll::Ready(Err(FaultAbort {
                            delayed: Some(*delay),
                            ..abort
                        }
                        .into()));
                    }
                    // Envoy stops counting the fault as active once the delay is over and no
                    // abort follows: the upstream's own time is not the fault's.
                    drop(active.take());
                    let (Some(mut service), Some(request)) = (service.take(), request.take()) else {
                        // Only reachable by polling after completion.
                        return Poll::Pending;
                    };
                    State::Call {
                        inner: service.call(request),
                        delayed: Some(*delay),
                    }
                }
                Proj::Call { inner, delayed } => {
                    let mut response = ready!(inner.poll(cx)).map_err(Into::into)?;
                    if let Some(delay) = *delayed {
                        response.extensions_mut().insert(InjectedDelay(delay));
                    }
                    return Poll::Ready(Ok(response));
                }
                Proj::Abort { error, active } => {
                    drop(active.take());
                    return match error.take() {
                        Some(error) => Poll::Ready(Err(error.into())),
                        None => Poll::Pending,
                    };
                }
            };
            state.set(next);
        }
    }
}
