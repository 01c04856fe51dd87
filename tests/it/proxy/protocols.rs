//! Protocols through the proxy: HTTP/1.1 and HTTP/2 on either side, TLS at either end, upstream
//! connection pooling, header hygiene between hops, and large or streamed bodies.
//!
//! Every test starts one proxy with one listener `web` routing everything to one cluster `up`
//! (see [`Setup`]), and real backends behind it.

mod bodies;
mod headers;
mod pooling;
mod tls;
mod translation;

use mesh_tests::{AbortOnDrop, certs, proxy};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Generous bound for one test: the machine is shared with concurrent builds.
const T: Duration = Duration::from_secs(30);

/// The proxy for one test: listener `web` (`domains: ["*"]`, `prefix: "/"`) → cluster `up`.
#[derive(Debug, Clone, Default)]
struct Setup {
    /// The cluster's `protocol` (`http1`, `http2`, `auto`); the default (`http1`) when `None`.
    protocol: Option<&'static str>,
    /// Terminate TLS on the listener with the test server certificate.
    listener_tls: bool,
    /// Originate TLS to the endpoint, trusting the test CA and sending this SNI.
    upstream_sni: Option<&'static str>,
    /// The route's `host_rewrite_literal`.
    host_rewrite: Option<&'static str>,
}

impl Setup {
    fn protocol(protocol: &'static str) -> Self {
        Setup {
            protocol: Some(protocol),
            ..Setup::default()
        }
    }

    fn listener_tls(mut self) -> Self {
        self.listener_tls = true;
        self
    }

    fn upstream_tls(mut self, sni: &'static str) -> Self {
        self.upstream_sni = Some(sni);
        self
    }

    fn host_rewrite(mut self, host: &'static str) -> Self {
        self.host_rewrite = Some(host);
        self
    }

    fn yaml(&self, endpoint: SocketAddr) -> String {
        let listener_tls = if self.listener_tls {
            format!(
                "\n    tls: {{ cert_file: \"{}\", key_file: \"{}\" }}",
                certs::yaml_path(certs::server_cert()),
                certs::yaml_path(certs::server_key()),
            )
        } else {
            String::new()
        };
        let host_rewrite = self
            .host_rewrite
            .map(|h| format!(", host_rewrite_literal: \"{h}\""))
            .unwrap_or_default();
        let protocol = self
            .protocol
            .map(|p| format!("\n    protocol: {p}"))
            .unwrap_or_default();
        let cluster_tls = self
            .upstream_sni
            .map(|sni| {
                format!(
                    "\n    tls: {{ ca_file: \"{}\", sni: \"{sni}\" }}",
                    certs::yaml_path(certs::ca_cert())
                )
            })
            .unwrap_or_default();
        format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0{listener_tls}
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            route: {{ cluster: up, timeout: 60s{host_rewrite} }}
clusters:
  - name: up{protocol}{cluster_tls}
    endpoints:
      - {{ address: "{endpoint}" }}
"#
        )
    }

    /// Starts the proxy in front of `endpoint`; returns it and the `web` listener's address.
    async fn start(&self, endpoint: SocketAddr) -> (mesh_proxy::Running, SocketAddr) {
        proxy::start_with_listener(&self.yaml(endpoint), "web").await
    }
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
