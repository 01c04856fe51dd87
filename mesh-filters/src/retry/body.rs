//! Request bodies that can be sent again.
//!
//! The first attempt streams the original body and keeps a copy of each chunk (cheap:
//! `Bytes` clones share the buffer) and the trailers, up to a limit. A retry sends the copy
//! and, if the original was not finished when the earlier attempt ended, takes the
//! original back and streams (and copies) the rest. A body that outgrows the limit drops
//! its copy: the attempt in flight goes on, but the request can no longer be retried.
//!
//! Only one attempt at a time can hold the original; the retry layer starts an attempt
//! only when [`Recording::can_replay`] says it could finish.

use super::error::{ReplayBodyError, ReplayError};
use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

/// One attempt's request body: the original streamed through a recorder, or a replay.
#[derive(Debug)]
pub struct ReplayBody<B> {
    shared: Arc<Shared<B>>,
    /// Held while this attempt streams the original; given back on drop.
    original: Option<B>,
    /// How many copied chunks this attempt has sent.
    replayed: usize,
    trailers_sent: bool,
}

/// The retry layer's handle on a request's body, from which each attempt's body is made.
#[derive(Debug)]
pub(super) struct Recording<B>(Arc<Shared<B>>);

#[derive(Debug)]
struct Shared<B> {
    limit: usize,
    state: Mutex<State<B>>,
}

#[derive(Debug)]
struct State<B> {
    /// The original, when no attempt holds it and it is not finished.
    original: Option<B>,
    chunks: Vec<Bytes>,
    /// Chunks ever copied; stays put when the copy is dropped, so a replay can tell.
    recorded: usize,
    /// Bytes in the copy.
    copied: usize,
    trailers: Option<HeaderMap>,
    /// The original reached its end: the copy is the whole body.
    complete: bool,
    /// The copy was dropped (too big) or the original failed: no replay is possible.
    spoiled: bool,
}

impl<B: Body> Recording<B> {
    pub(super) fn new(body: B, limit: usize) -> Self {
        let complete = body.is_end_stream();
        // A declared length over the limit will overflow; do not copy any of it.
        let spoiled = !complete && body.size_hint().lower() > limit as u64;
        let state = State {
            original: (!complete).then_some(body),
            chunks: Vec::new(),
            recorded: 0,
            copied: 0,
            trailers: None,
            complete,
            spoiled,
        };
        Recording(Arc::new(Shared {
            limit,
            state: Mutex::new(state),
        }))
    }

    /// A body for the next attempt. The first replays nothing and streams the original.
    pub(super) fn body(&self) -> ReplayBody<B> {
        ReplayBody {
            shared: self.0.clone(),
            original: None,
            replayed: 0,
            trailers_sent: false,
        }
    }

    /// Whether another attempt could send the whole body: the copy is intact, and either
    /// complete or the original is free for that attempt to finish. `beside_others`: other
    /// attempts are in flight, and one that has not polled its body yet would find the
    /// original taken, so only a complete copy will do.
    pub(super) fn can_replay(&self, beside_others: bool) -> bool {
        let state = self.0.lock();
        !state.spoiled && (state.complete || (!beside_others && state.original.is_some()))
    }
}

impl<B> Shared<B> {
    fn lock(&self) -> MutexGuard<'_, State<B>> {
        // A panic elsewhere cannot leave the state half-updated in a way that matters
        // here: at worst a copy is incomplete, and `spoiled` is then already set.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `Unpin` because the original moves between attempts; hyper's `Incoming` and boxed
/// bodies are.
impl<B: Body + Unpin> Body for ReplayBody<B> {
    type Data = Bytes;
    type Error = ReplayBodyError<B::Error>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.original.is_none() {
            let mut state = this.shared.lock();
            if this.replayed < state.recorded {
                // The copy is gone only for an attempt the layer already abandoned.
                let Some(chunk) = state.chunks.get(this.replayed).filter(|_| !state.spoiled) else {
                    return Poll::Ready(Some(Err(ReplayBodyError::Replay(ReplayError::Overflowed))));
                };
                this.replayed += 1;
                return Poll::Ready(Some(Ok(Frame::data(chunk.clone()))));
            }
            if state.complete {
                if state.spoiled && !this.trailers_sent {
                    return Poll::Ready(Some(Err(ReplayBodyError::Replay(ReplayError::Overflowed))));
                }
                let trailers = if this.trailers_sent {
                    None
                } else {
                    state.trailers.clone()
                };
                this.trailers_sent = true;
                return Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))));
            }
            match state.original.take() {
                Some(original) => this.original = Some(original),
                None => return Poll::Ready(Some(Err(ReplayBodyError::Replay(ReplayError::BodyInUse)))),
            }
        }
        let Some(original) = this.original.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = ready!(Pin::new(original).poll_frame(cx));
        let mut state = this.shared.lock();
        match frame {
            None => {
                state.complete = true;
                this.trailers_sent = true;
                this.original = None;
                Poll::Ready(None)
            }
            Some(Err(e)) => {
                state.spoiled = true;
                Poll::Ready(Some(Err(ReplayBodyError::Body(e))))
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(mut data) => {
                    let chunk = data.copy_to_bytes(data.remaining());
                    this.replayed += 1;
                    record(&mut state, this.shared.limit, chunk.clone());
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Err(frame) => {
                    let trailers = frame.into_trailers().ok();
                    if !state.spoiled {
                        state.trailers.clone_from(&trailers);
                    }
                    this.trailers_sent = true;
                    Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        if let Some(original) = &self.original {
            return original.is_end_stream();
        }
        let state = self.shared.lock();
        if self.replayed < state.recorded {
            return false;
        }
        if state.complete {
            return self.trailers_sent || state.trailers.is_none();
        }
        state.original.as_ref().is_some_and(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        if let Some(original) = &self.original {
            return original.size_hint();
        }
        let state = self.shared.lock();
        let pending: u64 = state
            .chunks
            .iter()
            .skip(self.replayed)
            .map(|c| c.len() as u64)
            .sum();
        if state.complete {
            return SizeHint::with_exact(pending);
        }
        let mut hint = SizeHint::new();
        hint.set_lower(pending);
        if let Some(rest) = state.original.as_ref().map(Body::size_hint) {
            hint.set_lower(pending + rest.lower());
            if let Some(upper) = rest.upper() {
                hint.set_upper(pending + upper);
            }
        }
        hint
    }
}

/// Adds a chunk to the copy, or drops the copy when it would outgrow `limit`.
fn record<B>(state: &mut State<B>, limit: usize, chunk: Bytes) {
    if state.spoiled {
        return;
    }
    if state.copied + chunk.len() > limit {
        state.spoiled = true;
        state.chunks = Vec::new();
        state.trailers = None;
        return;
    }
    state.copied += chunk.len();
    state.recorded += 1;
    state.chunks.push(chunk);
}

impl<B> Drop for ReplayBody<B> {
    fn drop(&mut self) {
        if let Some(original) = self.original.take() {
            self.shared.lock().original = Some(original);
        }
    }
}
