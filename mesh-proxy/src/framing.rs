//! Request-smuggling defence for HTTP/1: refuse a request that carries both
//! `Content-Length` and `Transfer-Encoding`.
//!
//! hyper resolves that conflict itself (RFC 9112 §6.3: it drops `Content-Length`,
//! reads the chunked body, and closes the connection afterwards), so by the time
//! the request reaches the proxy it looks like any chunked request. Envoy and
//! HAProxy refuse such requests instead, and so does mesh: this module watches the
//! bytes hyper reads, tracks HTTP/1 message framing (heads, fixed and chunked
//! bodies) and records which request, by sequence number, had both headers. The
//! request path asks [`Framing::conflicts`] for each request, in order, and answers
//! the flagged one with 400 and `Connection: close` before anything is sent upstream.
//!
//! The tracker fails open: on anything it does not understand (an HTTP/2 preface,
//! an upgrade, a malformed chunk) it stops watching that connection. hyper's own
//! normalisation still applies there, so no conflicting request is ever forwarded
//! with both framings.

use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A head longer than this is refused by hyper (431) before it matters to us.
const MAX_LINE: usize = 64 * 1024;

/// What the request path reads: per-connection request sequence numbers.
#[derive(Debug, Default)]
pub(crate) struct Framing {
    /// Heads seen by the tracker, 1-based.
    heads: AtomicU64,
    /// Sequence number of the first head with both framings (0: none).
    first_conflict: AtomicU64,
    /// Requests handed to the service so far.
    requests: AtomicU64,
}

impl Framing {
    /// Called once per request, in order: true if this request's head had both framings.
    pub(crate) fn conflicts(&self) -> bool {
        let seq = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        self.first_conflict.load(Ordering::Acquire) == seq
    }
}

#[derive(Debug)]
enum State {
    /// Before a request line (leading blank lines are allowed).
    Start,
    Head {
        line: Vec<u8>,
        first: bool,
        cl: Option<Option<u64>>,
        te: Option<bool>,
        upgrade: bool,
    },
    Fixed(u64),
    ChunkSize(Vec<u8>),
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailers(Vec<u8>),
    Off,
}

#[derive(Debug)]
pub(crate) struct Tracker {
    state: State,
    shared: Arc<Framing>,
}

impl Tracker {
    pub(crate) fn new(shared: Arc<Framing>) -> Self {
        Tracker {
            state: State::Start,
            shared,
        }
    }

    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (used, next) = self.step(bytes);
            bytes = &bytes[used..];
            if let Some(next) = next {
                self.state = next;
            }
        }
    }

    /// Consumes a prefix of `bytes`; returns how much and the next state, if it changes.
    fn step(&mut self, bytes: &[u8]) -> (usize, Option<State>) {
        match &mut self.state {
            State::Off => (bytes.len(), None),
            State::Start => match bytes[0] {
                b'\r' | b'\n' => (1, None),
                _ => (0, Some(head())),
            },
            State::Fixed(left) => {
                let n = (*left).min(bytes.len() as u64);
                *left -= n;
                (n as usize, (*left == 0).then_some(State::Start))
            }
            State::ChunkData(left) => {
                let n = (*left).min(bytes.len() as u64);
                *left -= n;
                (n as usize, (*left == 0).then_some(State::ChunkEnd))
            }
            State::ChunkEnd => match bytes[0] {
                b'\r' => (1, None),
                b'\n' => (1, Some(State::ChunkSize(Vec::new()))),
                _ => (bytes.len(), Some(State::Off)),
            },
            State::Head { line, .. } | State::ChunkSize(line) | State::Trailers(line) => {
                let Some(nl) = bytes.iter().position(|&b| b == b'\n') else {
                    if line.len() + bytes.len() > MAX_LINE {
                        return (bytes.len(), Some(State::Off));
                    }
                    line.extend_from_slice(bytes);
                    return (bytes.len(), None);
                };
                line.extend_from_slice(&bytes[..nl]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let next = self.end_of_line();
                (nl + 1, next)
            }
        }
    }

    /// A complete line sits in the state's buffer; act on it.
    fn end_of_line(&mut self) -> Option<State> {
        match &mut self.state {
            State::Head {
                line,
                first,
                cl,
                te,
                upgrade,
            } => {
                if *first {
                    if line.starts_with(b"PRI * HTTP/2.0") {
                        return Some(State::Off); // h2c prior knowledge: not ours to track
                    }
                    *first = false;
                    *upgrade = line.starts_with(b"CONNECT ");
                } else if line.is_empty() {
                    return Some(self.end_of_head());
                } else if let Some(colon) = line.iter().position(|&b| b == b':') {
                    let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
                    if name.eq_ignore_ascii_case(b"content-length") {
                        let len = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                        // Repeated (even identical) values: keep the first; hyper checks they agree.
                        cl.get_or_insert(len);
                    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                        let last = value.rsplit(|&b| b == b',').next().map(trim).unwrap_or_default();
                        *te = Some(last.eq_ignore_ascii_case(b"chunked"));
                    } else if name.eq_ignore_ascii_case(b"upgrade") {
                        *upgrade = true;
                    }
                }
                line.clear();
                None
            }
            State::ChunkSize(line) => {
                let size = line.split(|&b| b == b';').next().map(trim).unwrap_or_default();
                let parsed = std::str::from_utf8(size)
                    .ok()
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                Some(match parsed {
                    Some(0) => State::Trailers(Vec::new()),
                    Some(n) => State::ChunkData(n),
                    None => State::Off,
                })
            }
            State::Trailers(line) if line.is_empty() => Some(State::Start),
            State::Trailers(line) => {
                line.clear();
                None
            }
            _ => Some(State::Off),
        }
    }

    fn end_of_head(&mut self) -> State {
        let State::Head {
            cl,
            te,
            upgrade,
            line,
            ..
        } = &mut self.state
        else {
            return State::Off;
        };
        let seq = self.shared.heads.fetch_add(1, Ordering::Relaxed) + 1;
        if cl.is_some() && te.is_some() {
            let _ = self
                .shared
                .first_conflict
                .compare_exchange(0, seq, Ordering::AcqRel, Ordering::Relaxed);
        }
        if *upgrade {
            // Whatever follows may be another protocol; stop here.
            return State::Off;
        }
        match te {
            Some(true) => State::ChunkSize(std::mem::take(line)),
            // hyper rejects a request whose last transfer coding is not chunked.
            Some(false) => State::Off,
            None => match cl {
                None | Some(Some(0)) => State::Start,
                Some(Some(n)) => State::Fixed(*n),
                // hyper answers an unparsable length with 400 and closes.
                Some(None) => State::Off,
            },
        }
    }
}

fn head() -> State {
    State::Head {
        line: Vec::new(),
        first: true,
        cl: None,
        te: None,
        upgrade: false,
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

pin_project! {
    /// An IO object whose reads are fed to a [`Tracker`].
    #[derive(Debug)]
    pub(crate) struct FramingIo<T> {
        #[pin]
        inner: T,
        tracker: Tracker,
    }
}

impl<T> FramingIo<T> {
    pub(crate) fn new(inner: T, shared: Arc<Framing>) -> Self {
        FramingIo {
            inner,
            tracker: Tracker::new(shared),
        }
    }
}

impl<T: AsyncRead> AsyncRead for FramingIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let r = this.inner.poll_read(cx, buf);
        if r.is_ready() && !matches!(this.tracker.state, State::Off) {
            this.tracker.feed(&buf.filled()[before..]);
        }
        r
    }
}

impl<T: AsyncWrite> AsyncWrite for FramingIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, b)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
