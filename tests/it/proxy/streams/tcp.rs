//! TCP listeners: each connection proxied byte for byte to the `echo` cluster, FIN passed both
//! ways, and a prompt close when no upstream can be had.

use mesh_tests::backend::TcpEcho;
use mesh_tests::{closed_port, proxy, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(30);

/// A TCP listener `tcp` to cluster `echo` with `endpoints` (a YAML flow list).
fn yaml(endpoints: &str) -> String {
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: tcp
    address: 127.0.0.1:0
    protocol: tcp
    cluster: echo
clusters:
  - name: echo
    connect_timeout: 2s
    endpoints: {endpoints}
"#
    )
}

async fn start_to(backend: SocketAddr) -> (mesh_proxy::Running, SocketAddr) {
    proxy::start_with_listener(&yaml(&format!(r#"[ {{ address: "{backend}" }} ]"#)), "tcp").await
}

#[tokio::test]
async fn bytes_echo_and_half_close_is_forwarded_both_ways() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let (_proxy, addr) = start_to(echo.addr()).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for msg in [&b"hello"[..], b" world", &[0u8, 255, 10, 13]] {
            stream.write_all(msg).await.unwrap();
            let mut buf = vec![0u8; msg.len()];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, msg);
        }

        // Our FIN must reach the server (it answers `bye\n` only then), and the proxy must keep the
        // other direction open to deliver it, then pass the server's FIN back as our EOF.
        assert_eq!(TcpEcho::half_close(&mut stream).await.unwrap(), TcpEcho::BYE);
        assert_eq!(echo.connections(), 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_sessions_do_not_mix_bytes() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let (_proxy, addr) = start_to(echo.addr()).await;
        let sessions = (0..8u8).map(|id| async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut rd, mut wr) = stream.into_split();
            // 256 KiB per session in small writes, each byte tagged with the session.
            let len = 256 * 1024;
            let writer = tokio::spawn(async move {
                for _ in 0..len / 1024 {
                    wr.write_all(&[id; 1024]).await.unwrap();
                    tokio::task::yield_now().await;
                }
                wr.shutdown().await.unwrap();
            });
            let mut got = Vec::with_capacity(len + 4);
            rd.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert_eq!(got.len(), len + TcpEcho::BYE.len(), "session {id}");
            assert!(
                got[..len].iter().all(|&b| b == id),
                "session {id} got foreign bytes"
            );
            assert_eq!(&got[len..], TcpEcho::BYE, "session {id}");
        });
        futures_util::future::join_all(sessions).await;
        assert_eq!(echo.connections(), 8);
    })
    .await;
}

/// Reads until EOF or reset; returns what arrived and how long it took.
async fn wait_closed(addr: SocketAddr) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A client that writes first must not hang either.
    let _ = stream.write_all(b"anyone there?").await;
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got).await; // EOF or a reset: either way, closed.
    (got, start.elapsed())
}

#[tokio::test]
async fn unreachable_or_missing_upstream_closes_the_connection_promptly() {
    within(T, async {
        let (_proxy, addr) = start_to(closed_port()).await;
        let (got, took) = within(Duration::from_secs(5), wait_closed(addr)).await;
        assert!(got.is_empty(), "nothing may be answered: {got:?}");
        assert!(
            took < Duration::from_secs(3),
            "refused connect, closed after {took:?}"
        );

        let (_proxy, addr) = proxy::start_with_listener(&yaml("[]"), "tcp").await;
        let (got, took) = within(Duration::from_secs(5), wait_closed(addr)).await;
        assert!(got.is_empty(), "nothing may be answered: {got:?}");
        assert!(
            took < Duration::from_secs(3),
            "no endpoints, closed after {took:?}"
        );
    })
    .await;
}
