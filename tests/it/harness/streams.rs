//! `backend::WebSocket` and `backend::TcpEcho` answered directly.

use mesh_tests::backend::websocket::WsClient;
use mesh_tests::backend::{TcpEcho, WebSocket};
use mesh_tests::within;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn websocket_echoes_text_frames() {
    within(T, async {
        let w1 = WebSocket::start("w1").await;
        let mut ws = WsClient::connect(w1.addr(), "chat.example", "/room?x=1")
            .await
            .unwrap();
        assert_eq!(ws.backend.as_deref(), Some("w1"));
        let texts = ["one", "two", "ünïcödé", &"z".repeat(100_000)];
        let echoes = ws.echo_all(&texts).await.unwrap();
        assert_eq!(echoes, texts);
        ws.close().await.unwrap();
        assert_eq!(w1.connections(), 1);
    })
    .await;
}

#[tokio::test]
async fn tcp_echo_forwards_half_close() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let mut stream = TcpStream::connect(echo.addr()).await.unwrap();
        stream.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");

        // Our FIN reaches the server; it still writes, then sends its own FIN.
        assert_eq!(TcpEcho::half_close(&mut stream).await.unwrap(), TcpEcho::BYE);
        assert_eq!(echo.connections(), 1);
    })
    .await;
}

#[tokio::test]
async fn tcp_echo_streams_large_data() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let stream = TcpStream::connect(echo.addr()).await.unwrap();
        let (mut rd, mut wr) = stream.into_split();
        let n = 4 * 1024 * 1024;
        let writer = tokio::spawn(async move {
            let chunk = vec![0xabu8; 64 * 1024];
            for _ in 0..n / chunk.len() {
                wr.write_all(&chunk).await.unwrap();
            }
            wr.shutdown().await.unwrap();
        });
        let mut got = Vec::with_capacity(n + 4);
        rd.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got.len(), n + TcpEcho::BYE.len());
        assert!(got[..n].iter().all(|&b| b == 0xab));
        assert_eq!(&got[n..], TcpEcho::BYE);
    })
    .await;
}
