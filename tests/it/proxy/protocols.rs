//! Protocols through the proxy: HTTP/1.1 and HTTP/2 on either side, TLS at either end, upstream
//! connection pooling, header hygiene between hops, and large or streamed bodies.
//!
//! Every test starts one proxy with one listener `web` routing everything to one cluster `up`
//! (see [`up`]), and real backends behind it.

mod bodies;
mod headers;
mod pooling;
mod tls;
mod translation;

use mesh_tests::{AbortOnDrop, proxy};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Generous bound for one test: the machine is shared with concurrent builds.
const T: Duration = Duration::from_secs(30);

/// The proxy for one test: listener `web` (`domains: ["*"]`, `prefix: "/"`) → cluster `up` at
/// `endpoint`, under a 60 s route timeout. The cluster speaks the proxy's default (`http1`) unless a
/// test sets `.protocol(..)`.
fn up(endpoint: SocketAddr) -> proxy::Config {
    proxy::Config::new("up", &[endpoint]).route_timeout("60s")
}

/// A TCP relay in front of a backend that counts the connections it accepts, so a test can
/// see how many upstream connections the proxy opened (the backend does not count them).
#[derive(Debug)]
struct CountingRelay {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    _task: AbortOnDrop,
}

impl CountingRelay {
    async fn start(target: SocketAddr) -> CountingRelay {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            // Relayed connections live in the set, so aborting the task closes them all.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut down, _)) = accepted else { continue };
                        count.fetch_add(1, Ordering::SeqCst);
                        conns.spawn(async move {
                            if let Ok(mut up) = TcpStream::connect(target).await {
                                let _ = (down.set_nodelay(true), up.set_nodelay(true));
                                let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                            }
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        CountingRelay {
            addr,
            accepted,
            _task: AbortOnDrop(task),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A recognisable payload (not all one byte), so a reordered or truncated echo shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
