//! Lets a request handler abort its own connection with a TCP RST (the `/reset` path).
//!
//! hyper owns the connection's socket, so at accept time we keep a duplicate file descriptor of it.
//! A reset sets `SO_LINGER` to zero through the duplicate (socket options belong to the socket, not
//! the descriptor), closes the duplicate and wakes the connection task, which drops hyper's
//! connection; the last `close` of a zero-linger socket sends RST instead of FIN.

use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::Notify;

#[derive(Debug)]
pub(crate) struct ConnReset {
    dup: Mutex<Option<std::net::TcpStream>>,
    notify: Notify,
}

impl ConnReset {
    /// Returns the stream to serve and its reset control.
    pub(crate) fn split(stream: TcpStream) -> std::io::Result<(TcpStream, Arc<Self>)> {
        let std_stream = stream.into_std()?;
        let dup = std_stream.try_clone()?;
        let stream = TcpStream::from_std(std_stream)?;
        let ctl = Arc::new(Self {
            dup: Mutex::new(Some(dup)),
            notify: Notify::new(),
        });
        Ok((stream, ctl))
    }

    /// Arms zero-linger on the socket and asks the connection task to drop the connection.
    pub(crate) fn reset(&self) {
        let dup = self.dup.lock().map(|mut d| d.take()).unwrap_or(None);
        if let Some(dup) = dup
            && let Ok(dup) = TcpStream::from_std(dup)
        {
            let _ = dup.set_zero_linger();
        }
        self.notify.notify_one();
    }

    /// Resolves once [`reset`](Self::reset) was called.
    pub(crate) async fn requested(&self) {
        self.notify.notified().await;
    }
}
