//! WebSocket through an HTTP listener: the proxy forwards the `Upgrade` request, and after the
//! backend's 101 splices the two connections byte for byte.

use mesh_tests::backend::WebSocket;
use mesh_tests::backend::websocket::WsClient;
use mesh_tests::{proxy, within};
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// Listener `web` serving `chat.example` and routing everything to cluster `ws` (speaking
/// `protocol`), under a 1 s route timeout.
fn config(backend: SocketAddr, protocol: &str) -> proxy::Config {
    proxy::Config::new("ws", &[backend])
        .protocol(protocol)
        .route_timeout("1s")
        .domain("chat.example")
}

#[tokio::test]
async fn websocket_messages_echo_through_the_proxy() {
    within(T, async {
        let w1 = WebSocket::start("w1").await;
        let (_proxy, addr) = config(w1.addr(), "http1").start().await;
        let mut ws = WsClient::connect(addr, "chat.example", "/room?x=1")
            .await
            .unwrap();
        assert_eq!(
            ws.backend.as_deref(),
            Some("w1"),
            "the 101 comes from the backend"
        );

        let big = "z".repeat(100 * 1024);
        let texts = ["one", "two", "ünïcödé", "", big.as_str(), "after the big one"];
        assert_eq!(ws.echo_all(&texts).await.unwrap(), texts);

        // The route timeout (1 s) does not apply once the upgrade succeeded: an idle socket lives on.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(ws.echo_all(&["still here"]).await.unwrap(), ["still here"]);

        ws.close().await.unwrap();
        assert_eq!(w1.connections(), 1, "one upgraded connection at the backend");
    })
    .await;
}

/// Upgrades always go upstream over HTTP/1.1, even when the cluster speaks HTTP/2 to its endpoints
/// (and the WebSocket backend would not understand an h2 preface).
#[tokio::test]
async fn websocket_on_an_http2_cluster_goes_upstream_over_http1() {
    within(T, async {
        let w1 = WebSocket::start("w1").await;
        let (_proxy, addr) = config(w1.addr(), "http2").start().await;
        let mut ws = WsClient::connect(addr, "chat.example", "/").await.unwrap();
        assert_eq!(ws.echo_all(&["a", "b"]).await.unwrap(), ["a", "b"]);
        ws.close().await.unwrap();

        // Two sockets at once get two tunnels.
        let mut first = WsClient::connect(addr, "chat.example", "/1").await.unwrap();
        let mut second = WsClient::connect(addr, "chat.example", "/2").await.unwrap();
        first.send_text("to first").await.unwrap();
        second.send_text("to second").await.unwrap();
        assert_eq!(second.recv_text().await.unwrap(), "to second");
        assert_eq!(first.recv_text().await.unwrap(), "to first");
        first.close().await.unwrap();
        second.close().await.unwrap();
        assert_eq!(w1.connections(), 3);
    })
    .await;
}
