//! The HTTP API over a real server.

use super::*;
use std::time::Instant;
use tokio::time::timeout;

const HOUR: Duration = Duration::from_secs(3600);

fn url(server: &RegistryHandle, path: &str) -> String {
    format!("http://{}{path}", server.local_addr())
}

#[tokio::test]
async fn register_heartbeat_read_and_deregister() {
    let (server, _) = serve(config(HOUR)).await;
    let client = call::client();
    let put = url(&server, "/v1/services/api/instances/10.0.0.1:8080");
    let body = r#"{"id":"api-1","zone":"a","tags":{"v":"2"},"weight":3,"health_check":"/healthz"}"#;
    let (status, reply) = send(&client, Method::PUT, &put, Some(body)).await;
    assert_eq!((status, &reply["version"]), (StatusCode::CREATED, &1.into()));
    assert_eq!(reply["ttl"], "3h");
    // The same beat again: 200, same version.
    let (status, reply) = send(&client, Method::PUT, &put, Some(body)).await;
    assert_eq!((status, &reply["version"]), (StatusCode::OK, &1.into()));

    let ipv6 = url(&server, "/v1/services/api/instances/%5B::1%5D:80");
    assert_eq!(
        send(&client, Method::PUT, &ipv6, None).await.0,
        StatusCode::CREATED
    );

    let (status, read) = send(&client, Method::GET, &url(&server, "/v1/services/api"), None).await;
    assert_eq!(status, StatusCode::OK);
    let expected = serde_json::json!({ "version": 2, "instances": [
        { "id": "api-1", "address": "10.0.0.1:8080", "zone": "a", "tags": { "v": "2" }, "weight": 3,
          "health_check": "/healthz" },
        { "address": "[::1]:80", "tags": {} },
    ]});
    assert_eq!(read, expected);

    let (status, many) = send(
        &client,
        Method::GET,
        &url(&server, "/v1/services?service=api&service=web"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            many["version"].as_u64(),
            many["services"]["web"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );

    assert_eq!(
        send(&client, Method::DELETE, &ipv6, None).await,
        (StatusCode::OK, serde_json::json!({"version": 3}))
    );
    let (status, gone) = send(&client, Method::DELETE, &ipv6, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(gone["error"].as_str().unwrap().contains("not registered"));
    let (_, read) = send(&client, Method::GET, &url(&server, "/v1/services/api"), None).await;
    assert_eq!(read["instances"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_long_poll_returns_promptly_after_a_change() {
    let (server, _) = serve(config(HOUR)).await;
    let client = call::client();
    let put = url(&server, "/v1/services/api/instances/10.0.0.1:8080");
    send(&client, Method::PUT, &put, None).await;

    let poll = url(&server, "/v1/services/api?wait_version=1&wait=30s");
    let started = Instant::now();
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { send(&client, Method::GET, &poll, None).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "the poll must wait while nothing changes");
    send(
        &client,
        Method::PUT,
        &url(&server, "/v1/services/api/instances/10.0.0.2:8080"),
        None,
    )
    .await;
    let (status, reply) = timeout(Duration::from_secs(1), waiting).await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!((status, &reply["version"]), (StatusCode::OK, &2.into()));
    assert_eq!(reply["instances"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_long_poll_times_out_with_the_same_version_and_skips_other_services() {
    let (server, _) = serve(config(HOUR)).await;
    let client = call::client();
    send(
        &client,
        Method::PUT,
        &url(&server, "/v1/services/api/instances/10.0.0.1:8080"),
        None,
    )
    .await;
    let poll = url(&server, "/v1/services/api?wait_version=1&wait=300ms");
    let started = Instant::now();
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { send(&client, Method::GET, &poll, None).await }
    });
    // A change to another service does not answer a reader of api.
    send(
        &client,
        Method::PUT,
        &url(&server, "/v1/services/web/instances/10.0.0.9:80"),
        None,
    )
    .await;
    let (status, reply) = timeout(Duration::from_secs(2), waiting).await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, &reply["version"]), (StatusCode::OK, &1.into()));

    // A version the registry never reached (it restarted since) is answered at once.
    let started = Instant::now();
    let (_, reply) = send(
        &client,
        Method::GET,
        &url(&server, "/v1/services/api?wait_version=99&wait=10s"),
        None,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(reply["version"], 1);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let (server, store) = serve(config(HOUR)).await;
    let client = call::client();
    let cases = [
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:8080",
            Some("{not json"),
            "body",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:8080",
            Some("[1]"),
            "body",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:99999",
            None,
            "address",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/somewhere",
            None,
            "address",
        ),
        (
            Method::PUT,
            "/v1/services/a%20b/instances/10.0.0.1:80",
            None,
            "service",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"weight":0}"#),
            "weight",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"weight":"3"}"#),
            "weight",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"wieght":3}"#),
            "wieght",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"tags":{"v":2}}"#),
            "tags.v",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"zone":7}"#),
            "zone",
        ),
        (
            Method::PUT,
            "/v1/services/api/instances/10.0.0.1:80",
            Some(r#"{"address":"x"}"#),
            "address",
        ),
        (
            Method::GET,
            "/v1/services/api?wait_version=x",
            None,
            "wait_version",
        ),
        (
            Method::GET,
            "/v1/services/api?wait_version=1&wait=5",
            None,
            "wait",
        ),
        (Method::GET, "/v1/services/api?wait=5s", None, "wait"),
        (Method::GET, "/v1/services/api?color=red", None, "color"),
        (Method::GET, "/v1/services", None, "service"),
    ];
    for (method, path, body, field) in cases {
        let (status, reply) = send(&client, method.clone(), &url(&server, path), body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body:?}: {reply}"
        );
        assert_eq!(reply["field"], field, "{method} {path} {body:?}: {reply}");
        assert!(reply["error"].as_str().unwrap().starts_with(field), "{reply}");
    }
    assert_eq!(
        send(&client, Method::GET, &url(&server, "/v2/x"), None).await.0,
        StatusCode::NOT_FOUND
    );
    let post = send(&client, Method::POST, &url(&server, "/v1/services/api"), None).await;
    assert_eq!(post.0, StatusCode::METHOD_NOT_ALLOWED);
    let huge = format!(r#"{{"id":"{}"}}"#, "x".repeat(70_000));
    let put = url(&server, "/v1/services/api/instances/10.0.0.1:80");
    assert_eq!(
        send(&client, Method::PUT, &put, Some(&huge)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Nothing of the above was stored.
    assert_eq!(store.snapshot(&[name("api")]).await.unwrap().version, 0);
}
