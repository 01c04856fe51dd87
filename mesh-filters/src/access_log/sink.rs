//! [`Sink`]: where lines go, written by one background task so the request path never waits on I/O.
//!
//! Lines travel through a bounded channel. When it is full (the disk or the terminal is slower
//! than the traffic) the line is dropped and counted in [`Sink::dropped`]: losing log lines is
//! better than adding latency to requests. Write errors are counted in [`Sink::errors`] and
//! logged once, not per line, so a full disk does not flood the process log. The writer flushes
//! whenever the channel runs empty and when the last [`Sink`] handle is dropped.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot};

/// Lines a sink holds before it starts dropping them.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A handle to one access log destination; clones share the writer and the counters.
#[derive(Debug, Clone)]
pub struct Sink {
    tx: mpsc::Sender<Message>,
    counters: Arc<Counters>,
}

#[derive(Debug)]
enum Message {
    Line(String),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    errors: AtomicU64,
}

impl Sink {
    /// Writes to the process's stdout.
    pub fn stdout(capacity: usize) -> io::Result<Sink> {
        Sink::writer(tokio::io::stdout(), capacity)
    }

    /// Appends to `path`, creating it if missing. Opening happens now, so a bad path is a
    /// configuration error rather than a stream of dropped lines.
    pub fn file(path: impl AsRef<Path>, capacity: usize) -> io::Result<Sink> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Sink::writer(tokio::fs::File::from_std(file), capacity)
    }

    /// Writes to any async writer (a socket, a pipe, a test buffer). A zero capacity counts as one.
    ///
    /// Every constructor starts the writer task on the current tokio runtime, and fails when
    /// called outside one rather than panicking as `tokio::spawn` would.
    pub fn writer<W>(writer: W, capacity: usize) -> io::Result<Sink>
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        runtime.spawn(run(BufWriter::new(writer), rx, counters.clone()));
        Ok(Sink { tx, counters })
    }

    /// Queues one line without waiting; drops and counts it when the queue is full.
    pub fn write(&self, line: String) {
        if self.tx.try_send(Message::Line(line)).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every line queued before this call has been written and flushed. For
    /// shutdown and tests; never call it on the request path.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Lines dropped because the queue was full (or the writer had stopped).
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Failed writes and flushes.
    pub fn errors(&self) -> u64 {
        self.counters.errors.load(Ordering::Relaxed)
    }
}

/// The writer task: drains the channel, flushing whenever it runs dry, until every handle is gone.
async fn run<W: AsyncWrite + Unpin>(
    mut out: BufWriter<W>,
    mut rx: mpsc::Receiver<Message>,
    counters: Arc<Counters>,
) {
    while let Some(message) = rx.recv().await {
        match message {
            Message::Line(line) => {
                let result = out.write_all(line.as_bytes()).await;
                record(result, &counters);
                if rx.is_empty() {
                    record(out.flush().await, &counters);
                }
            }
            Message::Flush(done) => {
                record(out.flush().await, &counters);
                let _ = done.send(());
            }
        }
    }
    record(out.flush().await, &counters);
}

fn record(result: io::Result<()>, counters: &Counters) {
    if let Err(error) = result
        && counters.errors.fetch_add(1, Ordering::Relaxed) == 0
    {
        // Once only: later failures are most likely the same one, and show in `errors()`.
        tracing::warn!(%error, "access log write failed; further failures are only counted");
    }
}
