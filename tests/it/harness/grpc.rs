//! `backend::Grpc` answered directly by the Rust client and by grpcio (Python).

use mesh_tests::backend::Grpc;
use mesh_tests::backend::grpc::{EchoClient, raw};
use mesh_tests::client::Connection;
use mesh_tests::{closed_port, python, within};
use std::time::Duration;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn unary_echoes_with_trailer_and_fails_on_request() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let client = EchoClient::connect(g1.addr()).await.unwrap();
        let reply = client.unary("hello").await.unwrap();
        assert_eq!(reply.text, "hello");
        assert_eq!(reply.meta("x-backend"), Some("g1"));
        assert_eq!(reply.meta("x-echo-trailer"), Some("yes"));

        let status = client.unary("fail").await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "fail requested");
        assert_eq!(g1.calls(), 2);
    })
    .await;
}

#[tokio::test]
async fn bidi_echoes_every_message() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let client = EchoClient::connect(g1.addr()).await.unwrap();
        let texts: Vec<String> = (0..50).map(|i| format!("msg-{i}")).collect();
        assert_eq!(client.bidi(texts.clone()).await.unwrap(), texts);
        assert_eq!(client.bidi(Vec::new()).await.unwrap(), Vec::<String>::new());

        let status = client
            .bidi(vec!["a".into(), "fail".into(), "b".into()])
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    })
    .await;
}

#[tokio::test]
async fn health_reports_and_follows_set_serving() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let client = EchoClient::connect_with_authority(g1.addr(), "echo.mesh.test")
            .await
            .unwrap();
        assert_eq!(client.health("").await.unwrap(), ServingStatus::Serving);
        assert_eq!(
            client.health("mesh.test.Echo").await.unwrap(),
            ServingStatus::Serving
        );
        let unknown = client.health("no.such.Service").await.unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);

        g1.set_serving(false).await;
        assert_eq!(
            client.health("mesh.test.Echo").await.unwrap(),
            ServingStatus::NotServing
        );
        assert_eq!(g1.calls(), 0, "health checks are not echo calls");
    })
    .await;
}

#[tokio::test]
async fn python_grpcio_client_talks_to_the_backend() {
    let g1 = Grpc::start("g1").await;
    let out = within(Duration::from_secs(90), python::run_grpc_client(g1.addr())).await;
    let out = out.unwrap_or_else(|e| panic!("python grpc client failed:\n{e}"));
    assert!(out.contains("health mesh.test.Echo: SERVING"), "{out}");
    assert!(out.contains("unary fail: INVALID_ARGUMENT"), "{out}");
    assert!(out.trim_end().ends_with("OK"), "{out}");

    let out = python::run_grpc_client_with_authority(g1.addr(), Some("echo.mesh.test")).await;
    assert!(out.is_ok(), "{out:?}");
}

#[tokio::test]
async fn python_client_failure_is_an_error() {
    // Nothing listens on a just-closed port: the client must exit non-zero, and we must say so.
    let out = within(Duration::from_secs(90), python::run_grpc_client(closed_port())).await;
    let err = out.expect_err("the client cannot succeed without a server");
    assert!(err.contains("not ready") || err.contains("UNAVAILABLE"), "{err}");
}

#[tokio::test]
async fn raw_h2_sees_real_trailers_and_trailers_only_errors() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let mut conn = Connection::h2c(g1.addr()).await.unwrap();
        let r = conn
            .send(raw::request("g", "Unary", raw::frame("hi")))
            .await
            .unwrap();
        assert_eq!(r.status, http::StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("application/grpc"));
        assert_eq!(raw::unframe(&r.body).unwrap(), vec!["hi".to_owned()]);
        assert_eq!(r.header("x-echo-trailer"), None, "a trailer, not a header");
        let trailers = r.trailers.expect("a successful call ends with trailers");
        assert_eq!(trailers.get("grpc-status").unwrap(), "0");
        assert_eq!(trailers.get("x-echo-trailer").unwrap(), "yes");

        let r = conn
            .send(raw::request("g", "Unary", raw::frame("fail")))
            .await
            .unwrap();
        assert_eq!(r.header("grpc-status"), Some("3"), "trailers-only response");
        assert_eq!(r.header("grpc-message"), Some("fail%20requested")); // percent-encoded

        let frames = [raw::frame("a"), raw::frame("b")].concat();
        let r = conn.send(raw::request("g", "Bidi", frames.into())).await.unwrap();
        assert_eq!(raw::unframe(&r.body).unwrap(), vec!["a", "b"]);
        assert_eq!(r.trailers.unwrap().get("grpc-status").unwrap(), "0");
    })
    .await;
}
