//! Connection idle timeout: close a connection on which no bytes moved for a while.
//!
//! The IO wrapper stamps the time of every successful read or write; a watcher
//! sleeps until `last + timeout` and re-arms while there was activity, so the
//! per-byte cost is one clock read and one relaxed store.

use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Shared last-activity clock, in milliseconds since `origin`.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            origin: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn touch(&self) {
        let ms = self.origin.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once nothing moved for `timeout`.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Sleeps forever when no timeout is configured, so callers can always `select!` on it.
pub(crate) async fn idle_or_forever(activity: &Activity, timeout: Option<Duration>) {
    match timeout {
        Some(t) => activity.idle_for(t).await,
        None => std::future::pending().await,
    }
}

pin_project! {
    /// An IO object that records activity on every read and write.
    #[derive(Debug)]
    pub(crate) struct IdleIo<T> {
        #[pin]
        inner: T,
        activity: Activity,
    }
}

impl<T> IdleIo<T> {
    pub(crate) fn new(inner: T, activity: Activity) -> Self {
        IdleIo { inner, activity }
    }
}

impl<T: AsyncRead> AsyncRead for IdleIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let r = this.inner.poll_read(cx, buf);
        if r.is_ready() {
            this.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite> AsyncWrite for IdleIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write(cx, buf);
        if r.is_ready() {
            this.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write_vectored(cx, bufs);
        if r.is_ready() {
            this.activity.touch();
        }
        r
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
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn activity_postpones_the_idle_deadline() {
        let activity = Activity::new();
        let (a, _b) = tokio::io::duplex(64);
        let mut io = IdleIo::new(a, activity.clone());
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(8)).await;
        io.write_all(b"x").await.unwrap();
        activity.idle_for(Duration::from_secs(10)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(18));
    }
}
