//! An HTTP backend that answers every request with a JSON description of what it received.
//!
//! One port serves HTTP/1.1 and h2c (prior knowledge) through hyper-util's auto builder, or only one
//! of them ([`HttpMode`]); with TLS on, ALPN offers what the mode allows (`h2`, `http/1.1`).
//!
//! Paths (everything else is described, see [`Received`]):
//! - `/healthz`: answers the status set with [`Http::set_health`] (200 at start), uncounted;
//! - `/status/{code}`: answers `code` (with the description as body, empty for 204/304);
//! - `/delay/{ms}`: sleeps `ms` (at most 10 minutes), then describes;
//! - `/reset`: aborts the connection with a TCP RST before answering (h1 and h2 alike);
//! - `/echo`: streams the request body (and trailers) back unchanged;
//! - `/bytes/{n}`: streams `n` bytes of `x` in 64 KiB chunks, with `content-length: n`.
//!
//! Every response carries `x-backend: {name}`.

pub use super::http_handler::Received;

use super::bind_loopback;
use super::http_handler::{Handler, State};
use super::reset::ConnReset;
use crate::{AbortOnDrop, tls};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Which HTTP versions the backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMode {
    /// HTTP/1.1 and HTTP/2 (h2c by prior knowledge, or ALPN under TLS).
    #[default]
    Auto,
    Http1Only,
    Http2Only,
}

impl HttpMode {
    fn alpn(self) -> &'static [&'static str] {
        match self {
            HttpMode::Auto => &[tls::H2, tls::HTTP11],
            HttpMode::Http1Only => &[tls::HTTP11],
            HttpMode::Http2Only => &[tls::H2],
        }
    }
}

/// Options for an [`Http`] backend.
#[derive(Debug, Clone)]
pub struct HttpBuilder {
    name: String,
    mode: HttpMode,
    tls: bool,
    at: Option<SocketAddr>,
}

impl HttpBuilder {
    /// Binds `addr` (a loopback address, e.g. `127.0.0.2:<port of another backend>`) instead of
    /// `127.0.0.1:0`: for DNS tests, where every address of a name shares one port.
    pub fn at(mut self, addr: SocketAddr) -> Self {
        self.at = Some(addr);
        self
    }

    pub fn mode(mut self, mode: HttpMode) -> Self {
        self.mode = mode;
        self
    }

    pub fn http1_only(self) -> Self {
        self.mode(HttpMode::Http1Only)
    }

    pub fn http2_only(self) -> Self {
        self.mode(HttpMode::Http2Only)
    }

    /// Serve TLS with `tests/certs/server.pem` (valid for `localhost` and `127.0.0.1`).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Binds `127.0.0.1:0` (or the address given to [`Self::at`]) and starts serving.
    pub async fn start(self) -> Http {
        let (listener, addr) = match self.at {
            None => bind_loopback().await,
            Some(at) => {
                let listener = TcpListener::bind(at).await.expect("bind the given address");
                let addr = listener.local_addr().expect("local_addr of a bound listener");
                (listener, addr)
            }
        };
        let requests = Arc::new(AtomicUsize::new(0));
        let health = Arc::new(std::sync::atomic::AtomicU16::new(200));
        let state = Arc::new(State::default());
        let handler = Arc::new(Handler::new(
            self.name.clone(),
            self.tls,
            requests.clone(),
            health.clone(),
            state.clone(),
        ));
        let acceptor = self
            .tls
            .then(|| TlsAcceptor::from(tls::server_config(self.mode.alpn())));
        let task = tokio::spawn(accept_loop(listener, handler, self.mode, acceptor));
        Http {
            name: self.name,
            addr,
            tls: self.tls,
            requests,
            health,
            state,
            _task: AbortOnDrop(task),
        }
    }
}

/// A running HTTP backend; dropping it closes the listener and every connection.
#[derive(Debug)]
pub struct Http {
    name: String,
    addr: SocketAddr,
    tls: bool,
    requests: Arc<AtomicUsize>,
    health: Arc<std::sync::atomic::AtomicU16>,
    state: Arc<State>,
    _task: AbortOnDrop,
}

impl Http {
    /// Options, starting from: auto (h1 + h2c), no TLS.
    pub fn builder(name: &str) -> HttpBuilder {
        HttpBuilder {
            name: name.to_owned(),
            mode: HttpMode::Auto,
            tls: false,
            at: None,
        }
    }

    /// An auto (h1 + h2c), plaintext backend named `name`.
    pub async fn start(name: &str) -> Http {
        Self::builder(name).start().await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Requests received so far (every path counts, `/reset` included).
    /// Makes `/healthz` answer `status` (200 at start); health checks never count as requests.
    pub fn set_health(&self, status: u16) {
        self.health.store(status, Ordering::SeqCst);
    }

    /// Answers every request (but `/healthz`) with `status` until called with 0.
    pub fn fail_with(&self, status: u16) {
        self.state.always.store(status, Ordering::SeqCst);
    }

    /// The last request this backend described (every path but the special ones).
    pub fn last_received(&self) -> Option<Received> {
        self.state.last.lock().ok()?.clone()
    }

    /// Answers the next `n` requests (but `/healthz`) with `status`, then as usual.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.state.next_status.store(status, Ordering::SeqCst);
        self.state.next.store(n, Ordering::SeqCst);
    }

    /// Waits this long before answering every request (but `/healthz`); 0 stops it.
    pub fn slow(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The live counter behind [`requests`](Self::requests).
    pub fn request_counter(&self) -> Arc<AtomicUsize> {
        self.requests.clone()
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    mode: HttpMode,
    acceptor: Option<TlsAcceptor>,
) {
    // Connections live in the set, so aborting this task aborts them all.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_conn(stream, handler.clone(), mode, acceptor.clone()));
                }
                // Out of descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_conn(stream: TcpStream, handler: Arc<Handler>, mode: HttpMode, acceptor: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    let Ok((stream, reset)) = ConnReset::split(stream) else {
        return;
    };
    match acceptor {
        None => drive(stream, handler, mode, reset).await,
        Some(acceptor) => {
            if let Ok(tls) = acceptor.accept(stream).await {
                drive(tls, handler, mode, reset).await;
            }
        }
    }
}

async fn drive<I>(io: I, handler: Arc<Handler>, mode: HttpMode, reset: Arc<ConnReset>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder = match mode {
        HttpMode::Auto => builder,
        HttpMode::Http1Only => builder.http1_only(),
        HttpMode::Http2Only => builder.http2_only(),
    };
    let svc_reset = reset.clone();
    let svc = service_fn(move |req| {
        let handler = handler.clone();
        let reset = svc_reset.clone();
        async move {
            // A concrete error type: a boxed one trips rustc's higher-ranked `Send` inference here.
            handler
                .handle(req, &reset)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
    });
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = reset.requested() => {}
    }
}
