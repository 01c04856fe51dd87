//! The proxy's own failures, as a gRPC caller sees them: Envoy's trailers-only replies (HTTP 200,
//! `grpc-status` in the headers), so tonic and grpcio report a status code instead of a
//! protocol error about an unexpected HTTP status.

use mesh_tests::backend::grpc::{EchoClient, raw};
use mesh_tests::client::Connection;
use mesh_tests::{closed_port, proxy, within};
use std::time::Duration;
use tonic::Code;

const T: Duration = Duration::from_secs(30);

/// `Unary` goes to a cluster with no endpoints (UH), `Bidi` to one whose endpoint refuses
/// connections (UF); nothing routes the health service (NR).
fn yaml() -> String {
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: grpc
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ path: "/mesh.test.Echo/Unary" }}
            route: {{ cluster: empty }}
          - match: {{ path: "/mesh.test.Echo/Bidi" }}
            route: {{ cluster: dead }}
clusters:
  - name: empty
    protocol: http2
    endpoints: []
  - name: dead
    protocol: http2
    connect_timeout: 2s
    endpoints:
      - {{ address: "{}" }}
"#,
        closed_port()
    )
}

#[tokio::test]
async fn tonic_sees_unavailable_and_unimplemented() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(&yaml(), "grpc").await;
        let client = EchoClient::connect(addr).await.unwrap();

        let status = client.unary("hello").await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "no endpoints: {status:?}");
        assert_eq!(status.message(), "no healthy upstream");

        let status = client.bidi(vec!["a".into(), "b".into()]).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "connection refused: {status:?}");

        let status = client.health("").await.unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented, "no route: {status:?}");

        // The connection survives local replies: the next call on it gets the same answer.
        let status = client.unary("again").await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn local_replies_are_trailers_only() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(&yaml(), "grpc").await;
        let mut conn = Connection::h2c(addr).await.unwrap();

        let cases = [
            ("Unary", "14", "UH"),
            ("Bidi", "14", "UF"),
            ("Nothing", "12", "NR"),
        ];
        for (method, code, flag) in cases {
            let r = conn
                .send(raw::request("g", method, raw::frame("x")))
                .await
                .unwrap();
            assert_eq!(
                r.status,
                http::StatusCode::OK,
                "{method}: gRPC errors travel as HTTP 200"
            );
            assert_eq!(r.header("content-type"), Some("application/grpc"), "{method}");
            assert_eq!(
                r.header("grpc-status"),
                Some(code),
                "{method}: status in the headers"
            );
            assert!(
                r.header("grpc-message").is_some_and(|m| !m.is_empty()),
                "{method}"
            );
            assert_eq!(r.header("x-mesh-response-flags"), Some(flag), "{method}");
            assert!(r.body.is_empty(), "{method}: no messages");
            assert!(r.trailers.is_none(), "{method}: headers end the stream");
        }
    })
    .await;
}
