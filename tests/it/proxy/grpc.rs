//! gRPC through the proxy: a cleartext (h2c) or TLS listener, an `http2` cluster, a tonic backend.
//!
//! What a gRPC user relies on: unary and bidirectional calls work end to end, response metadata and
//! trailers (`grpc-status`, `grpc-message`, custom ones) arrive intact, streams are not buffered, a
//! real third-party client (grpcio) interoperates, and the proxy's own failures reach the caller as
//! gRPC statuses rather than HTTP errors it would not understand.

mod local_replies;
mod tls;

use http::uri::PathAndQuery;
use mesh_tests::backend::Grpc;
use mesh_tests::backend::grpc::{EchoClient, EchoMessage, raw};
use mesh_tests::client::Connection;
use mesh_tests::{proxy, python, within};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_prost::ProstCodec;

const T: Duration = Duration::from_secs(30);

/// One cleartext listener (h1 + h2c) sending everything to cluster `grpc` (speaking `protocol`),
/// with the route timeout off so long streams are not cut.
fn config(backend: SocketAddr, protocol: &str) -> proxy::Config {
    proxy::Config::new("grpc", &[backend])
        .protocol(protocol)
        .route_timeout("0s")
}

async fn start(name: &str) -> (Grpc, mesh_proxy::Running, SocketAddr) {
    let backend = Grpc::start(name).await;
    let (running, addr) = config(backend.addr(), "http2").start().await;
    (backend, running, addr)
}

#[tokio::test]
async fn unary_call_keeps_reply_metadata_and_trailers() {
    within(T, async {
        let (g1, _proxy, addr) = start("g1").await;
        let client = EchoClient::connect(addr).await.unwrap();

        let reply = client.unary("hello").await.unwrap();
        assert_eq!(reply.text, "hello");
        assert_eq!(reply.meta("x-backend"), Some("g1"), "response header metadata");
        assert_eq!(reply.meta("x-echo-trailer"), Some("yes"), "trailer metadata");

        // An upstream error (a trailers-only response) passes through unchanged.
        let status = client.unary("fail").await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(status.message(), "fail requested");

        // A 1 MiB message is 16 of the listener's 64 KiB stream windows: flow control must move it.
        let big = "b".repeat(1 << 20);
        assert_eq!(client.unary(&big).await.unwrap().text, big);

        // Many calls at once share the one h2 connection to the proxy and the pooled upstream one.
        let calls = (0..20).map(|i| {
            let client = client.clone();
            async move { client.unary(&format!("m{i}")).await.map(|r| r.text) }
        });
        let texts = futures_util::future::join_all(calls).await;
        for (i, text) in texts.into_iter().enumerate() {
            assert_eq!(text.unwrap(), format!("m{i}"));
        }
        assert_eq!(g1.calls(), 23);
    })
    .await;
}

/// A bidi call driven one message at a time: the caller sends, then waits for the echo, so the
/// call only completes if the proxy streams both directions instead of buffering either.
#[tokio::test]
async fn bidi_stream_is_interactive_and_ends_with_the_upstream_status() {
    within(T, async {
        let (g1, _proxy, addr) = start("g1").await;
        // First the whole stream at once (the caller half-closes after the last message): every
        // echo in order, then OK.
        let texts: Vec<String> = (0..50).map(|i| format!("m-{i}")).collect();
        let client = EchoClient::connect(addr).await.unwrap();
        assert_eq!(client.bidi(texts.clone()).await.unwrap(), texts);

        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();

        let (tx, rx) = mpsc::channel::<EchoMessage>(1);
        let outbound = futures_util::stream::unfold(rx, |mut rx| async move {
            let msg = rx.recv().await?;
            Some((msg, rx))
        });
        let path = PathAndQuery::from_static("/mesh.test.Echo/Bidi");
        let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
        tx.send(EchoMessage::new("msg-0")).await.unwrap();
        let response = grpc.streaming(Request::new(outbound), path, codec).await.unwrap();
        assert_eq!(
            response.metadata().get("x-backend").and_then(|v| v.to_str().ok()),
            Some("g1")
        );
        let mut inbound = response.into_inner();
        for i in 0..50 {
            if i > 0 {
                tx.send(EchoMessage::new(format!("msg-{i}"))).await.unwrap();
            }
            let echo = inbound.message().await.unwrap().expect("an echo, not the end");
            assert_eq!(echo.text, format!("msg-{i}"));
        }

        // "fail" mid-stream: the upstream ends the call with INVALID_ARGUMENT in its trailers.
        tx.send(EchoMessage::new("fail")).await.unwrap();
        let status = inbound.message().await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(status.message(), "fail requested");
        assert_eq!(g1.calls(), 2);
    })
    .await;
}

/// The same bidi exchange over the plain h2 client, directly and through the proxy: the body and
/// the trailers (`grpc-status`, `grpc-message`) the caller sees are byte for byte the same.
#[tokio::test]
async fn bidi_trailers_are_forwarded_unchanged() {
    within(T, async {
        let (g1, _proxy, addr) = start("g1").await;
        let frames = [
            raw::frame("a"),
            raw::frame("b"),
            raw::frame("fail"),
            raw::frame("c"),
        ]
        .concat();
        let mut direct = Connection::h2c(g1.addr()).await.unwrap();
        let mut proxied = Connection::h2c(addr).await.unwrap();
        let want = direct
            .send(raw::request("g", "Bidi", frames.clone().into()))
            .await
            .unwrap();
        let got = proxied
            .send(raw::request("g", "Bidi", frames.into()))
            .await
            .unwrap();

        assert_eq!(raw::unframe(&got.body).unwrap(), vec!["a", "b"]);
        assert_eq!(got.body, want.body);
        assert_eq!(got.header("content-type"), Some("application/grpc"));
        assert_eq!(got.header("x-mesh-response-flags"), None, "not a local reply");
        let trailers = got.trailers.expect("a streamed reply ends with trailers");
        let want_trailers = want.trailers.expect("the backend ends with trailers");
        assert_eq!(trailers.get("grpc-status").unwrap(), "3");
        for name in ["grpc-status", "grpc-message"] {
            assert_eq!(trailers.get(name), want_trailers.get(name), "trailer {name}");
        }
    })
    .await;
}

/// `protocol: auto` in cleartext follows the caller's version, so gRPC's h2c goes upstream as h2c.
#[tokio::test]
async fn auto_cluster_carries_grpc_as_h2c() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let (_proxy, addr) = config(g1.addr(), "auto").start().await;
        let client = EchoClient::connect(addr).await.unwrap();
        let reply = client.unary("via auto").await.unwrap();
        assert_eq!(reply.text, "via auto");
        assert_eq!(reply.meta("x-echo-trailer"), Some("yes"));
        let texts: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(client.bidi(texts.clone()).await.unwrap(), texts);
        assert_eq!(g1.calls(), 2);
    })
    .await;
}

#[tokio::test]
async fn health_checks_pass_through() {
    within(T, async {
        let (g1, _proxy, addr) = start("g1").await;
        let client = EchoClient::connect_with_authority(addr, "echo.mesh.test")
            .await
            .unwrap();
        assert_eq!(client.health("").await.unwrap(), ServingStatus::Serving);
        assert_eq!(
            client.health("mesh.test.Echo").await.unwrap(),
            ServingStatus::Serving
        );
        let unknown = client.health("no.such.Service").await.unwrap_err();
        assert_eq!(
            unknown.code(),
            Code::NotFound,
            "the backend's answer, not the proxy's"
        );

        g1.set_serving(false).await;
        assert_eq!(
            client.health("mesh.test.Echo").await.unwrap(),
            ServingStatus::NotServing
        );
        assert_eq!(client.health("").await.unwrap(), ServingStatus::NotServing);
    })
    .await;
}

/// grpcio's C-core client (its own HTTP/2 stack, flow control and trailer parsing) through the proxy.
/// Fails, never skips, when grpcio is not installed.
#[tokio::test]
async fn python_grpcio_client_works_through_the_proxy() {
    let (g1, _proxy, addr) = start("g1").await;
    let out = within(Duration::from_secs(90), python::run_grpc_client(addr)).await;
    let out = out.unwrap_or_else(|e| panic!("python grpc client through the proxy failed:\n{e}"));
    assert!(out.contains("health mesh.test.Echo: SERVING"), "{out}");
    assert!(out.contains("bidi echoes: 5"), "{out}");
    assert!(out.contains("unary fail: INVALID_ARGUMENT"), "{out}");
    assert!(out.trim_end().ends_with("OK"), "{out}");
    // Bidi, unary "hello" and unary "fail".
    assert_eq!(g1.calls(), 3);
}
