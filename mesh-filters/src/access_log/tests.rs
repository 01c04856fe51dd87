//! Formats (parsing, text and JSON rendering), the layer with `tower_test` mocks, and the sink.

mod format;
mod json;
mod layer;
mod logs;
mod sink;

use super::*;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use tokio::sync::oneshot;

/// An in-memory writer: the test reads what the sink wrote, and learns when the writer task
/// dropped it (the task's last act, after its final flush).
#[derive(Debug, Clone, Default)]
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    dropped: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
    }

    fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    fn on_drop(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.dropped.lock().unwrap() = Some(tx);
        rx
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        if let Some(tx) = self.dropped.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

impl AsyncWrite for Captured {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A sink writing into memory, and the memory.
fn captured() -> (Sink, Captured) {
    let out = Captured::default();
    (Sink::writer(out.clone(), 64).unwrap(), out)
}
