//! Accept loops and per-connection HTTP serving.
//!
//! Cleartext HTTP listeners speak HTTP/1.1 and HTTP/2 prior knowledge on one port
//! (the connection preface decides); TLS listeners let ALPN decide. Each connection
//! is served until it closes, sits idle past `idle_timeout`, or the drain ends it:
//! on drain, HTTP/1 finishes the in-flight request and closes, HTTP/2 sends GOAWAY
//! and finishes its open streams.
//!

use crate::drain;
use crate::framing::{Framing, FramingIo};
use crate::handler::{ConnInfo, Router};
use crate::idle::{Activity, IdleIo, idle_or_forever};
use crate::reload::Live;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use mesh_core::policy::HttpOptions;
use rustls::ServerConfig;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// How long a TLS client may take to finish its handshake.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP listener's connection handling, shared by all its connections.
#[derive(Debug)]
pub(crate) struct HttpServer {
    /// The router of the configuration this server was built for. Weak: a keep-alive
    /// connection must not keep an old configuration (its clusters, pools and health
    /// checks) alive; the configuration in force holds it (see `reload::Proto`).
    router: Weak<Router>,
    tls: Option<Arc<ServerConfig>>,
    idle_timeout: Option<Duration>,
    request_headers_timeout: Option<Duration>,
    max_request_head: usize,
    /// Peers whose `x-mesh-*` control headers the router honours.
    trusted_cidrs: Vec<mesh_core::policy::Cidr>,
    /// `downstream_cx_total`, `_active` and the bytes each way.
    cx: crate::stats::ListenerCx,
    auto: auto::Builder<TokioExecutor>,
    h1_only: auto::Builder<TokioExecutor>,
    h2_only: auto::Builder<TokioExecutor>,
}

impl HttpServer {
    pub(crate) fn new(
        router: &Arc<Router>,
        tls: Option<Arc<ServerConfig>>,
        options: &HttpOptions,
        cx: crate::stats::ListenerCx,
    ) -> Self {
        let auto = builder(options);
        HttpServer {
            router: Arc::downgrade(router),
            tls,
            idle_timeout: options.idle_timeout,
            request_headers_timeout: options.request_headers_timeout,
            max_request_head: options.max_request_headers_bytes,
            trusted_cidrs: options.trusted_cidrs.clone(),
            cx,
            h1_only: auto.clone().http1_only(),
            h2_only: auto.clone().http2_only(),
            auto,
        }
    }

    /// Serves one connection: connection settings from this configuration, and each
    /// request on the router `live` has in force when it starts.
    pub(crate) async fn serve(
        self: Arc<Self>,
        tcp: TcpStream,
        peer: SocketAddr,
        mut drain: drain::Watch,
        live: Live,
    ) {
        self.cx.total.increment(1);
        let _open = self.cx.active.enter();
        // hyper starts its header timer only once the auto builder has read enough to choose
        // HTTP/1 (the first byte), or after the TLS handshake (which has its own, longer timeout),
        // so a client that connects and never sends anything would escape
        // `request_headers_timeout`. Wait for that first byte under the same timeout.
        if let Some(timeout) = self.request_headers_timeout {
            let mut first = [0u8; 1];
            tokio::select! {
                peeked = tokio::time::timeout(timeout, tcp.peek(&mut first)) => match peeked {
                    Ok(Ok(n)) if n > 0 => {}
                    Ok(_) => return, // closed or failed before sending anything
                    Err(_) => return tracing::debug!(%peer, "no request within request_headers_timeout"),
                },
                // Nothing was asked yet, so there is nothing to finish.
                () = drain.draining() => return,
            }
        }
        let trusted = self.trusted_cidrs.iter().any(|c| c.contains(peer.ip()));
        let activity = Activity::new();
        let io = crate::stats::CountingIo::new(IdleIo::new(tcp, activity.clone()), self.cx.bytes.clone());
        match &self.tls {
            None => {
                let info = ConnInfo {
                    peer,
                    tls: false,
                    trusted,
                    drain: drain.clone(),
                };
                let framing = Arc::new(Framing::default());
                let io = TokioIo::new(FramingIo::new(io, framing.clone()));
                self.serve_conn(&self.auto, io, info, Some(framing), &activity, live)
                    .await;
            }
            Some(config) => {
                let acceptor = TlsAcceptor::from(config.clone());
                let stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                };
                let info = ConnInfo {
                    peer,
                    tls: true,
                    trusted,
                    drain: drain.clone(),
                };
                if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                    let io = TokioIo::new(stream);
                    self.serve_conn(&self.h2_only, io, info, None, &activity, live)
                        .await;
                } else {
                    let framing = Arc::new(Framing::default());
                    let io = TokioIo::new(FramingIo::new(stream, framing.clone()));
                    self.serve_conn(&self.h1_only, io, info, Some(framing), &activity, live)
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
        live: Live,
    ) where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let mut drain = info.drain.clone();
        let built_for = self.router.clone();
        let peer = info.peer;
        let max_head = self.max_request_head;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let h1 = req.version() <= hyper::Version::HTTP_11;
            if h1 && framing.as_ref().is_some_and(|f| f.conflicts()) {
                req.extensions_mut().insert(ConflictingFraming);
            }
            let too_large = h1 && h1_head_len(&req) > max_head;
            // Requests follow reloads; once this listener is gone, those still arriving
            // while it drains use its last configuration, if anything still holds it.
            let router = live.router().or_else(|| built_for.upgrade());
            let info = info.clone();
            async move {
                match router {
                    _ if too_large => Ok::<_, Infallible>(head_too_large()),
                    Some(router) => Ok(router.handle(req, &info).await),
                    None => Ok(crate::handler::local_reply::ProxyError::NoRoute.into_response(false)),
                }
            }
        });
        let conn = builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(conn);
        let mut draining = false;
        let mut closing = drain.clone();
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    break;
                }
                () = drain.draining(), if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = closing.closing(), if draining => break,
                () = idle_or_forever(activity, self.idle_timeout) => {
                    tracing::debug!(%peer, "idle timeout");
                    break;
                }
            }
        }
    }
}

/// The size of an HTTP/1 request head as sent, less any optional whitespace: the request line and
/// every header field, each with its CRLF, and the blank line.
///
/// hyper checks `max_buf_size` only while a head is still incomplete, and its read buffer can
/// grow past that size in one read (its capacity is rounded up), so a complete head a few KiB over
/// `max_request_headers_kb` would be accepted. Recounting the parsed head makes the limit exact.
fn h1_head_len<B>(req: &hyper::Request<B>) -> usize {
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + "://".len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    let fields: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + ": ".len() + value.len() + "\r\n".len())
        .sum();
    req.method().as_str().len() + " ".len() + target + " HTTP/1.1\r\n".len() + fields + "\r\n".len()
}

/// What hyper itself answers to a head over `max_buf_size`: 431, no body, and the connection closed.
fn head_too_large() -> hyper::Response<crate::body::ProxyBody> {
    let mut response = hyper::Response::new(crate::body::empty());
    *response.status_mut() = hyper::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_len_is_the_head_as_sent() {
        let wire = "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\nx-long: vvvv\r\nx-long: w\r\n\r\n";
        let req = hyper::Request::get("/a?b=1")
            .header("host", "example.com")
            .header("x-long", "vvvv")
            .header("x-long", "w")
            .body(())
            .unwrap();
        assert_eq!(h1_head_len(&req), wire.len());

        let wire = "OPTIONS http://example.com:8080/x HTTP/1.1\r\n\r\n";
        let req = hyper::Request::options("http://example.com:8080/x")
            .body(())
            .unwrap();
        assert_eq!(h1_head_len(&req), wire.len());
    }
}
