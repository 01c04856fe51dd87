//! One request ID and trace context from the caller of the frontend, through the frontend app
//! and the egress proxy, to the backend, without the app code touching a header.

use super::{FRONTEND_SAW, Frontend, T, Upstream, egress, trace_id};
use http::Method;
use mesh_client::MeshClient;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::Config;
use mesh_tests::within;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test]
async fn the_request_id_and_trace_reach_the_backend_without_the_app_touching_them() {
    within(T, async {
        let backend = Http::start("backend").await;
        let upstreams = [Upstream {
            name: "backend",
            endpoints: &[backend.addr()],
            extra: "",
        }];
        let (_proxy, client) = egress(&upstreams, MeshClient::builder()).await;
        let frontend = Frontend::start(client).await;
        let mut conn = Connection::http1(frontend.addr()).await.unwrap();

        for (path, id) in [("/direct", "rid-direct-1"), ("/spawned", "rid-spawned-2")] {
            let mut req = request(Method::GET, "frontend", path, body::empty());
            req.headers_mut().insert("x-request-id", id.parse().unwrap());
            req.headers_mut()
                .insert("traceparent", TRACEPARENT.parse().unwrap());
            req.headers_mut()
                .insert("tracestate", "vendor=1".parse().unwrap());
            let reply = conn.send(req).await.unwrap();
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
            let seen = reply.received();
            assert_eq!(seen.backend, "backend");
            assert_eq!(seen.header("host"), Some("backend"), "{path}: addressed by name");
            assert_eq!(
                seen.header_all("x-request-id"),
                [id],
                "{path}: one request ID end to end"
            );
            let traceparent = seen
                .header("traceparent")
                .expect("traceparent reached the backend");
            assert_eq!(
                trace_id(traceparent),
                trace_id(TRACEPARENT),
                "{path}: the same trace"
            );
            assert_eq!(seen.header("tracestate"), Some("vendor=1"), "{path}");
            assert!(
                !seen
                    .headers
                    .keys()
                    .any(|k| k.starts_with("x-mesh-upstream") || k.starts_with("x-mesh-retry")),
                "{path}: the proxy consumed the client's control headers: {:?}",
                seen.headers
            );
        }
        assert_eq!(backend.requests(), 2);
    })
    .await;
}

/// The whole path, both legs through a sidecar: caller → ingress proxy → frontend → egress proxy
/// → backend. Whatever request ID the ingress leaves the frontend (its caller's, or one the proxy
/// made), the backend gets that same one.
#[tokio::test]
async fn through_ingress_and_egress_the_backend_gets_the_id_the_frontend_handled() {
    within(T, async {
        let backend = Http::start("backend").await;
        let upstreams = [Upstream {
            name: "backend",
            endpoints: &[backend.addr()],
            extra: "",
        }];
        let (_egress, client) = egress(&upstreams, MeshClient::builder()).await;
        let frontend = Frontend::start(client).await;
        let (_ingress, ingress_addr) = Config::new("frontend", &[frontend.addr()]).start().await;

        let mut req = request(Method::GET, "frontend", "/direct", body::empty());
        req.headers_mut()
            .insert("x-request-id", "rid-edge-3".parse().unwrap());
        req.headers_mut()
            .insert("traceparent", TRACEPARENT.parse().unwrap());
        let reply = Connection::http1(ingress_addr)
            .await
            .unwrap()
            .send(req)
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        let handled = reply
            .header(FRONTEND_SAW)
            .expect("the frontend handled a request ID")
            .to_owned();
        let seen = reply.received();
        assert_eq!(
            seen.header_all("x-request-id"),
            [handled],
            "one request ID across both legs"
        );
        let traceparent = seen
            .header("traceparent")
            .expect("traceparent reached the backend");
        assert_eq!(
            trace_id(traceparent),
            trace_id(TRACEPARENT),
            "the same trace across both legs"
        );
    })
    .await;
}

#[tokio::test]
async fn upstream_errors_are_responses_and_only_idempotent_calls_retry_them() {
    within(T, async {
        let backend = Http::start("backend").await;
        let upstreams = [Upstream {
            name: "backend",
            endpoints: &[backend.addr()],
            extra: "",
        }];
        let (_proxy, client) = egress(&upstreams, MeshClient::builder()).await;

        // A GET may be repeated: the default policy retries a 503 twice (gateway-error).
        let reply = client
            .get("backend", "/status/503")
            .await
            .expect("an upstream 503 is a response");
        assert_eq!(reply.status(), 503);
        assert_eq!(backend.requests(), 3, "one try and two retries");

        // A POST may have been processed: it is not retried once it reached the upstream.
        let reply = client
            .post("backend", "/status/503", "order")
            .await
            .expect("a response");
        assert_eq!(reply.status(), 503);
        assert_eq!(backend.requests(), 4, "no retry of a POST");
    })
    .await;
}

#[tokio::test]
async fn an_http2_client_names_the_service_in_its_authority() {
    within(T, async {
        let backend = Http::start("backend").await;
        let upstreams = [Upstream {
            name: "backend",
            endpoints: &[backend.addr()],
            extra: "",
        }];
        let (_proxy, client) = egress(&upstreams, MeshClient::builder().http2(true)).await;
        assert!(client.is_http2());
        let ctx = mesh_client::MeshContext::new()
            .with(&mesh_client::context::REQUEST_ID, "rid-h2".parse().unwrap());
        for i in 0..3 {
            let reply = ctx
                .clone()
                .scope(client.get("backend", &format!("/h2/{i}")))
                .await
                .unwrap();
            let reply = mesh_tests::client::Reply::read(reply).await.unwrap();
            assert_eq!(reply.version, http::Version::HTTP_2);
            let seen = reply.received();
            assert_eq!(seen.path, format!("/h2/{i}"));
            assert_eq!(seen.header("x-request-id"), Some("rid-h2"));
        }
        assert_eq!(backend.requests(), 3);
    })
    .await;
}
