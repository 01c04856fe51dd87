//! A TCP echo server that proves half-close is forwarded both ways.
//!
//! It echoes every byte; when it reads EOF (the client shut down its write side) it writes
//! [`TcpEcho::BYE`] and shuts down its own write side, then closes. A client behind a proxy therefore
//! sees its echoes, then `bye\n`, then EOF, only if the proxy forwarded the client's FIN upstream and
//! the server's FIN back while keeping the other direction open in between.

use super::bind_loopback;
use crate::AbortOnDrop;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A running TCP echo server; dropping it closes the listener and every connection.
#[derive(Debug)]
pub struct TcpEcho {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    _task: AbortOnDrop,
}

impl TcpEcho {
    /// What the server writes after the client's EOF.
    pub const BYE: &'static [u8] = b"bye\n";

    pub async fn start() -> TcpEcho {
        let (listener, addr) = bind_loopback().await;
        let connections = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(listener, connections.clone()));
        TcpEcho {
            addr,
            connections,
            _task: AbortOnDrop(task),
        }
    }

    /// Half-closes `stream` (sends our FIN) and reads what is left until the server's FIN: from a
    /// [`TcpEcho`], directly or through a proxy that forwards half-close, that is [`TcpEcho::BYE`].
    pub async fn half_close(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
        stream.shutdown().await?;
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await?;
        Ok(rest)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, connections: Arc<AtomicUsize>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.fetch_add(1, Ordering::SeqCst);
                    conns.spawn(echo(stream));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    // Ends at EOF or on an error; the server's drop aborts it otherwise.
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
    let _ = stream.write_all(TcpEcho::BYE).await;
    let _ = stream.shutdown().await;
}
