//! Accept loops and per-connection HTTP serving.
//!
//! Cleartext HTTP listeners speak HTTP/1.1 and HTTP/2 prior knowledge on one port
//! (the connection preface decides); TLS listeners let ALPN decide. Each connection
//! is served until it closes, sits idle past `idle_timeout`, or the drain ends it:
//! on drain, HTTP/1 finishes the in-flight request and closes, HTTP/2 sends GOAWAY
//! and finishes its open streams.

use crate::drain;
use crate::framing::{Framing, FramingIo};
use crate::handler::{ConnInfo, Router};
use crate::idle::{Activity, IdleIo, idle_or_forever};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use mesh_core::policy::HttpOptions;
use rustls::ServerConfig;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// How long a TLS client may take to finish its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts until the drain starts, handing each connection to `serve`.
pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, mut drain: drain::Watch, serve: F)
where
    F: Fn(TcpStream, SocketAddr, drain::Watch) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(serve(tcp, peer, drain.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = drain.draining() => break,
        }
    }
}

/// One HTTP listener's connection handling, shared by all its connections.
#[derive(Debug)]
pub(crate) struct HttpServer {
    router: Arc<Router>,
    tls: Option<Arc<ServerConfig>>,
    idle_timeout: Option<Duration>,
    auto: auto::Builder<TokioExecutor>,
    h1_only: auto::Builder<TokioExecutor>,
    h2_only: auto::Builder<TokioExecutor>,
}

impl HttpServer {
    pub(crate) fn new(router: Arc<Router>, tls: Option<Arc<ServerConfig>>, options: &HttpOptions) -> Self {
        let auto = builder(options);
        HttpServer {
            router,
            tls,
            idle_timeout: options.idle_timeout,
            h1_only: auto.clone().http1_only(),
            h2_only: auto.clone().http2_only(),
            auto,
        }
    }

    pub(crate) async fn serve(self: Arc<Self>, tcp: TcpStream, peer: SocketAddr, drain: drain::Watch) {
        let activity = Activity::new();
        let io = IdleIo::new(tcp, activity.clone());
        match &self.tls {
            None => {
                let info = ConnInfo { peer, tls: false };
                let framing = Arc::new(Framing::default());
                let io = TokioIo::new(FramingIo::new(io, framing.clone()));
                self.serve_conn(&self.auto, io, info, Some(framing), &activity, drain)
                    .await;
            }
            Some(config) => {
                let acceptor = TlsAcceptor::from(config.clone());
                let stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                };
                let info = ConnInfo { peer, tls: true };
                if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                    let io = TokioIo::new(stream);
                    self.serve_conn(&self.h2_only, io, info, None, &activity, drain)
                        .await;
                } else {
                    let framing = Arc::new(Framing::default());
                    let io = TokioIo::new(FramingIo::new(stream, framing.clone()));
                    self.serve_conn(&self.h1_only, io, info, Some(framing), &activity, drain)
                        .await;
                }
            }
        }
    }

    async fn serve_conn<I>(
        &self,
        builder: &auto::Builder<TokioExecutor>,
        io: I,
        info: ConnInfo,
        framing: Option<Arc<Framing>>,
        activity: &Activity,
        mut drain: drain::Watch,
    ) where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            if req.version() <= hyper::Version::HTTP_11 && framing.as_ref().is_some_and(|f| f.conflicts()) {
                req.extensions_mut().insert(ConflictingFraming);
            }
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.handle(req, info).await) }
        });
        let conn = builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(conn);
        let mut draining = false;
        let mut closing = drain.clone();
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %info.peer, error = %e, "connection ended with an error");
                    }
                    break;
                }
                () = drain.draining(), if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = closing.closing(), if draining => break,
                () = idle_or_forever(activity, self.idle_timeout) => {
                    tracing::debug!(peer = %info.peer, "idle timeout");
                    break;
                }
            }
        }
    }
}

/// Marks a request whose head had both `Content-Length` and `Transfer-Encoding`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConflictingFraming;

fn builder(options: &HttpOptions) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    let mut h1 = b.http1();
    h1.timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(options.request_headers_timeout)
        // hyper's floor for the read buffer is 8 KiB; the head must fit in it.
        .max_buf_size(options.max_request_headers_bytes.max(8192));
    // hyper keeps up to 100 headers on the stack; only pay for the heap when asked.
    if options.max_headers_count != 100 {
        h1.max_headers(options.max_headers_count);
    }
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(options.max_concurrent_streams)
        .initial_stream_window_size(options.initial_stream_window_size)
        .initial_connection_window_size(options.initial_connection_window_size)
        .max_header_list_size(u32::try_from(options.max_request_headers_bytes).unwrap_or(u32::MAX));
    b
}
