//! HTTP/2 stream limits: `max_concurrent_streams` is advertised (100 by default) and enforced.

use super::start;
use crate::proxy::routing::T;
use bytes::Bytes;
use http::{Request, StatusCode};
use mesh_tests::within;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// An h2 (prior knowledge) client from the `h2` crate, which exposes the server's SETTINGS.
async fn h2_client(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

async fn get(send: h2::client::SendRequest<Bytes>, path: &str) -> StatusCode {
    let mut send = send.ready().await.unwrap();
    let req = Request::get(format!("http://h2.test{path}")).body(()).unwrap();
    let (response, _) = send.send_request(req, true).unwrap();
    let response = response.await.unwrap();
    let status = response.status();
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    status
}

/// The server's SETTINGS_MAX_CONCURRENT_STREAMS, as the client saw it after one exchange.
async fn advertised_streams(addr: SocketAddr) -> usize {
    let send = h2_client(addr).await;
    assert_eq!(get(send.clone(), "/").await, StatusCode::OK);
    send.current_max_send_streams()
}

#[tokio::test]
async fn max_concurrent_streams_is_advertised() {
    within(T, async {
        let (_b1, _proxy, addr) = start("").await;
        assert_eq!(advertised_streams(addr).await, 100, "the default");
        let (_b1, _proxy, addr) = start("    http2_protocol_options: { max_concurrent_streams: 7 }\n").await;
        assert_eq!(advertised_streams(addr).await, 7);
    })
    .await;
}

/// 150 concurrent 500ms requests on one connection all complete, in two waves: the client queues
/// what the proxy's limit of 100 does not admit.
#[tokio::test]
async fn streams_beyond_the_limit_wait_their_turn() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        let send = h2_client(addr).await;
        // Settle the SETTINGS exchange first, so the limit is known before the burst.
        assert_eq!(get(send.clone(), "/").await, StatusCode::OK);
        let started = Instant::now();
        let tasks: Vec<_> = (0..150)
            .map(|_| tokio::spawn(get(send.clone(), "/delay/500")))
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        let took = started.elapsed();
        assert_eq!(b1.requests(), 151);
        assert!(
            took >= Duration::from_millis(950),
            "150 streams in {took:?}: more than 100 ran at once"
        );
    })
    .await;
}
