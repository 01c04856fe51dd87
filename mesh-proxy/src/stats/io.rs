//! Counting a connection's bytes: an IO wrapper that adds what each read and write moved
//! to its listener's `downstream_cx_rx_bytes_total` / `tx` (one relaxed add per call, not
//! per byte). TLS listeners count the encrypted bytes, as Envoy does.

use super::Bytes;
use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pin_project! {
    #[derive(Debug)]
    pub(crate) struct CountingIo<T> {
        #[pin]
        inner: T,
        bytes: Arc<Bytes>,
    }
}

impl<T> CountingIo<T> {
    pub(crate) fn new(inner: T, bytes: Arc<Bytes>) -> Self {
        CountingIo { inner, bytes }
    }
}

impl<T: AsyncRead> AsyncRead for CountingIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let r = this.inner.poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        if read > 0 {
            this.bytes.rx.fetch_add(read as u64, Relaxed);
        }
        r
    }
}

impl<T: AsyncWrite> AsyncWrite for CountingIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            this.bytes.tx.fetch_add(n as u64, Relaxed);
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
        if let Poll::Ready(Ok(n)) = r {
            this.bytes.tx.fetch_add(n as u64, Relaxed);
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn counts_bytes_each_way() {
        let bytes = Arc::new(Bytes::default());
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = CountingIo::new(a, bytes.clone());
        io.write_all(b"hello").await.unwrap();
        b.write_all(b"abc").await.unwrap();
        let mut got = [0u8; 3];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!((bytes.rx.load(Relaxed), bytes.tx.load(Relaxed)), (3, 5));
    }
}
