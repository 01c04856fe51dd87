//! Raw TCP: hand-written bytes in, whatever the server sent (and whether it closed) out.
//!
//! For what well-behaved clients cannot send: malformed request lines, oversized or slow headers,
//! pipelining, half-closed requests.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Reads stop after this many bytes, whatever the deadline.
const MAX_READ: usize = 64 * 1024 * 1024;

/// What a read phase saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOutcome {
    pub data: Vec<u8>,
    /// The server closed (EOF or reset) before the deadline.
    pub closed: bool,
    /// The close was a TCP reset.
    pub reset: bool,
}

impl RawOutcome {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The status code of the first response line (`HTTP/1.1 400 Bad Request` → 400).
    pub fn status(&self) -> Option<u16> {
        let text = self.text();
        let line = text.lines().next()?;
        let mut parts = line.split_whitespace();
        parts.next().filter(|v| v.starts_with("HTTP/"))?;
        parts.next()?.parse().ok()
    }
}

/// A raw TCP connection.
#[derive(Debug)]
pub struct RawConn {
    stream: TcpStream,
}

impl RawConn {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<RawConn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(RawConn { stream })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Sends FIN (half-close): the server may still answer.
    pub async fn shutdown_write(&mut self) -> std::io::Result<()> {
        self.stream.shutdown().await
    }

    /// Reads until the server closes or `wait` has passed.
    pub async fn read_for(&mut self, wait: Duration) -> RawOutcome {
        self.read_until_inner(None, wait).await
    }

    /// Reads until what arrived contains `needle`, the server closes, or `wait` has passed.
    pub async fn read_until(&mut self, needle: &[u8], wait: Duration) -> RawOutcome {
        self.read_until_inner(Some(needle), wait).await
    }

    async fn read_until_inner(&mut self, needle: Option<&[u8]>, wait: Duration) -> RawOutcome {
        let deadline = Instant::now() + wait;
        let mut out = RawOutcome::default();
        let mut buf = vec![0u8; 16 * 1024];
        // Where the needle search resumes: only new bytes (plus an overlap) are scanned again.
        let mut scanned: usize = 0;
        while out.data.len() < MAX_READ {
            if let Some(needle) = needle {
                let from = scanned.saturating_sub(needle.len());
                if contains(&out.data[from..], needle) {
                    break;
                }
                scanned = out.data.len();
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_elapsed) => break,
                Ok(Ok(0)) => {
                    out.closed = true;
                    break;
                }
                Ok(Ok(n)) => out.data.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => {
                    out.closed = true;
                    out.reset = matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                    );
                    break;
                }
            }
        }
        out
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Connects, sends `bytes`, and reads for `wait` (or until the server closes).
pub async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> std::io::Result<RawOutcome> {
    let mut conn = RawConn::connect(addr).await?;
    conn.send(bytes).await?;
    Ok(conn.read_for(wait).await)
}
