//! Dials one endpoint: TCP with a connect timeout, then TLS when the cluster asks.
//!
//! The pools are per endpoint, so the connector ignores the request URI's host
//! (which carries the Host/:authority to send) and always dials its own address.

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use mesh_filters::circuit_breaker::{Breaker, CircuitOpen, ConnectionGuard};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The TCP connect (or TLS handshake) to an endpoint did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connect to {0} timed out after {1:?}")]
    Timeout(SocketAddr, Duration),
    #[error("connect to {0} failed: {1}")]
    Io(SocketAddr, #[source] io::Error),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(SocketAddr, #[source] io::Error),
    /// The cluster's `max_connections` circuit breaker is full.
    #[error("connect to {0} refused by the circuit breaker: {1}")]
    Overflow(SocketAddr, #[source] CircuitOpen),
}

#[derive(Debug, Clone)]
pub(crate) struct Connector {
    pub(crate) addr: SocketAddr,
    pub(crate) timeout: Duration,
    pub(crate) tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// The cluster's breaker: every connection holds one of its connection slots.
    pub(crate) connections: Breaker,
    /// The cluster's `upstream_cx_total` and `upstream_cx_active`.
    pub(crate) cx: crate::stats::UpstreamCx,
}

impl tower::Service<http::Uri> for Connector {
    type Response = TokioIo<UpstreamIo>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let addr = this.addr;
            let slot = this
                .connections
                .try_connection()
                .map_err(|e| ConnectError::Overflow(addr, e))?;
            let connect = async {
                let tcp = TcpStream::connect(addr)
                    .await
                    .map_err(|e| ConnectError::Io(addr, e))?;
                // Proxied requests are latency-bound; Nagle only adds delay here.
                let _ = tcp.set_nodelay(true);
                let stream = match this.tls {
                    None => Stream::Plain(tcp),
                    Some((config, name)) => {
                        let tls = tokio_rustls::TlsConnector::from(config)
                            .connect(name, tcp)
                            .await
                            .map_err(|e| ConnectError::Tls(addr, e))?;
                        Stream::Tls(Box::new(tls))
                    }
                };
                Ok(UpstreamIo {
                    stream,
                    _slot: slot,
                    _active: this.cx.active.enter(),
                })
            };
            match tokio::time::timeout(this.timeout, connect).await {
                Ok(io) => {
                    let io = io?;
                    this.cx.total.increment(1);
                    Ok(TokioIo::new(io))
                }
                Err(_) => Err(ConnectError::Timeout(addr, this.timeout)),
            }
        })
    }
}

/// A connection to an endpoint, plain or TLS, holding its circuit-breaker slot until
/// the pool drops it.
#[derive(Debug)]
pub(crate) struct UpstreamIo {
    stream: Stream,
    _slot: ConnectionGuard,
    /// Counted in `upstream_cx_active` until the pool drops the connection.
    _active: crate::stats::Active,
}

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        match &self.stream {
            Stream::Plain(tcp) => tcp.connected(),
            Stream::Tls(tls) => {
                let (tcp, session) = tls.get_ref();
                let connected = tcp.connected();
                if session.alpn_protocol() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

macro_rules! delegate {
    ($self:ident, $io:ident => $e:expr) => {
        match &mut $self.get_mut().stream {
            Stream::Plain($io) => {
                let $io = Pin::new($io);
                $e
            }
            Stream::Tls($io) => {
                let $io = Pin::new($io.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for UpstreamIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_read(cx, buf))
    }
}

impl AsyncWrite for UpstreamIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self, io => io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(io) => io.is_write_vectored(),
            Stream::Tls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_shutdown(cx))
    }
}
