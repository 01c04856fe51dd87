//! Servers the checks run against, each on 127.0.0.1:0 and stopped when dropped.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mesh_core::policy::{Checker, HealthCheck};
use mesh_health::IMMEDIATE_FAIL_HEADER;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const MS: Duration = Duration::from_millis(1);

/// The default expected statuses, `[200, 201)`.
pub const OK: std::ops::Range<u16> = 200..201;
pub const UNAVAILABLE: std::ops::Range<u16> = 503..504;

/// A check with short intervals for the loop tests; thresholds 3 down, 2 up.
pub fn check(checker: Checker) -> HealthCheck {
    HealthCheck {
        timeout: 500 * MS,
        interval: 50 * MS,
        interval_jitter: 10 * MS,
        interval_jitter_percent: 10,
        unhealthy_interval: 50 * MS,
        no_traffic_interval: 60_000 * MS,
        unhealthy_threshold: 3,
        healthy_threshold: 2,
        checker,
    }
}

pub fn http_check(path: &str, host: Option<&str>) -> HealthCheck {
    check(Checker::Http {
        path: path.into(),
        host: host.map(Into::into),
        expected_statuses: vec![OK],
        retriable_statuses: vec![],
    })
}

/// Aborts the server's accept loop on drop.
#[derive(Debug)]
pub struct Server(JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the HTTP host answers on `/healthz` (any other path: 404), and what it saw.
#[derive(Debug, Default)]
pub struct HttpState {
    pub status: AtomicU16,
    pub immediate_fail: AtomicBool,
    pub delay_ms: AtomicU64,
    pub hits: AtomicUsize,
    pub last_host: Mutex<Option<String>>,
}

impl HttpState {
    pub fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A hyper HTTP/1.1 server whose `/healthz` status can be flipped.
pub async fn http_host() -> (SocketAddr, Arc<HttpState>, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(HttpState {
        status: AtomicU16::new(200),
        ..HttpState::default()
    });
    let shared = state.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = shared.clone();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let state = state.clone();
                async move {
                    state.hits.fetch_add(1, Ordering::SeqCst);
                    let host = req
                        .headers()
                        .get("host")
                        .and_then(|h| h.to_str().ok())
                        .map(Into::into);
                    *state.last_host.lock().unwrap() = host;
                    tokio::time::sleep(MS * state.delay_ms.load(Ordering::SeqCst) as u32).await;
                    let status = match req.uri().path() {
                        "/healthz" => state.status.load(Ordering::SeqCst),
                        _ => 404,
                    };
                    let mut response = hyper::Response::builder().status(status);
                    if state.immediate_fail.load(Ordering::SeqCst) {
                        response = response.header(IMMEDIATE_FAIL_HEADER, "true");
                    }
                    response.body(Full::new(Bytes::from_static(b"ok")))
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, state, Server(task))
}

/// A TCP server that, once it has read `PING`, writes `reply` and closes; `answer: false` makes
/// it read and never answer.
pub async fn tcp_host(reply: &'static [u8], answer: bool) -> (SocketAddr, Arc<AtomicUsize>, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 64];
                while !seen.windows(4).any(|w| w == b"PING") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if answer {
                    let _ = stream.write_all(reply).await;
                    let _ = stream.shutdown().await;
                } else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    (addr, connections, Server(task))
}

/// A tonic server with only the standard `grpc.health.v1` service; the reporter flips statuses.
pub async fn grpc_host() -> (SocketAddr, tonic_health::server::HealthReporter, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (reporter, service) = tonic_health::server::health_reporter();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let task = tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming)
            .await;
    });
    (addr, reporter, Server(task))
}

/// A bare HTTP/2 server answering every call trailers-only with `grpc-status: 12`
/// (UNIMPLEMENTED), recording each request's `:authority`.
pub async fn h2_host() -> (SocketAddr, Arc<Mutex<Vec<String>>>, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let authorities = Arc::new(Mutex::new(Vec::new()));
    let seen = authorities.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let seen = seen.clone();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let authority = req.uri().authority().map(|a| a.to_string()).unwrap_or_default();
                seen.lock().unwrap().push(authority);
                async {
                    hyper::Response::builder()
                        .header("content-type", "application/grpc")
                        .header("grpc-status", "12")
                        .header("grpc-message", "no health here")
                        .body(Full::new(Bytes::new()))
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, authorities, Server(task))
}

/// An address nothing listens on (a port just released by the OS).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A server that accepts connections and never says anything.
pub async fn silent_host() -> (SocketAddr, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (addr, Server(task))
}
