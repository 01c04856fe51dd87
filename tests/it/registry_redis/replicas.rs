//! Acceptance: two registry replicas (HTTP servers on 127.0.0.1:0) on one real Redis behave as
//! one registry, long polls included, and ride out a Redis outage with 503s.

use super::{T, store};
use http::Method;
use mesh_discovery::registry::{Registry, RegistryConfig, RegistryHandle};
use mesh_tests::client::{Connection, body, request};
use mesh_tests::redis::Redis;
use mesh_tests::{eventually, within};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// A replica on `redis`; every replica of a test shares the prefix. Polls rarely, so prompt
/// wake-ups prove the pub/sub path.
async fn replica(redis: &Redis) -> RegistryHandle {
    let config = RegistryConfig {
        heartbeat_interval: Duration::from_secs(10),
        ..RegistryConfig::default()
    };
    let store = store(redis, "acceptance:", Duration::from_secs(30));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Registry::with_store(config, store)
        .unwrap()
        .serve(listener)
        .unwrap()
}

/// One request over a fresh connection: the status and the JSON body.
async fn call(addr: SocketAddr, method: Method, path: &str) -> (u16, Value) {
    let mut conn = Connection::http1(addr).await.unwrap();
    let reply = conn
        .send(request(method, "registry", path, body::empty()))
        .await
        .unwrap();
    let json = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {}", reply.text()));
    (reply.status.as_u16(), json)
}

fn addresses(reply: &Value) -> Vec<&str> {
    let instances = reply["instances"].as_array().unwrap();
    instances.iter().map(|i| i["address"].as_str().unwrap()).collect()
}

const HOST_1: &str = "/v1/services/api/instances/10.0.0.1:8080";
const HOST_2: &str = "/v1/services/api/instances/10.0.0.2:8080";

#[tokio::test]
async fn two_replicas_on_one_redis_serve_one_registry() {
    let redis = Redis::start();
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    let (a, b) = (a.local_addr(), b.local_addr());
    within(T, async {
        assert_eq!(call(a, Method::PUT, HOST_1).await.0, 201);
        let (status, listed) = call(b, Method::GET, "/v1/services/api").await;
        assert_eq!((status, addresses(&listed)), (200, vec!["10.0.0.1:8080"]));
        assert_eq!(
            call(b, Method::PUT, HOST_1).await.0,
            200,
            "B knows it: a heartbeat"
        );

        // A long poll on B at the current version wakes when a host registers through A.
        let version = listed["version"].as_u64().unwrap();
        let poll = tokio::spawn(async move {
            let path = format!("/v1/services/api?wait_version={version}&wait=20s");
            let reply = call(b, Method::GET, &path).await;
            (reply, Instant::now())
        });
        // Give the poll time to be parked: an early answer would show as version unchanged.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!poll.is_finished(), "the long poll waits while nothing changes");
        let registered = Instant::now();
        assert_eq!(call(a, Method::PUT, HOST_2).await.0, 201);
        let ((status, woke), answered) = within(Duration::from_secs(5), poll).await.unwrap();
        assert_eq!(status, 200);
        assert!(
            answered - registered < Duration::from_secs(1),
            "took {:?}",
            answered - registered
        );
        assert_ne!(woke["version"].as_u64().unwrap(), version);
        assert_eq!(addresses(&woke), vec!["10.0.0.1:8080", "10.0.0.2:8080"]);

        // Deregistration through B is seen through A.
        assert_eq!(call(b, Method::DELETE, HOST_1).await.0, 200);
        let (_, listed) = call(a, Method::GET, "/v1/services/api").await;
        assert_eq!(addresses(&listed), vec!["10.0.0.2:8080"]);
        assert_eq!(call(a, Method::DELETE, HOST_1).await.0, 404);
    })
    .await;
}

#[tokio::test]
async fn with_redis_down_the_replicas_answer_503_and_recover_when_it_returns() {
    let mut redis = Redis::start();
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    let (a, b) = (a.local_addr(), b.local_addr());
    within(T, async {
        assert_eq!(call(a, Method::PUT, HOST_1).await.0, 201);
        redis.kill();
        let (status, body) = call(a, Method::PUT, HOST_1).await;
        assert_eq!(status, 503, "{body}");
        assert!(body["error"].as_str().unwrap().contains("unavailable"), "{body}");
        assert_eq!(call(b, Method::GET, "/v1/services/api").await.0, 503);
        let long_poll = call(b, Method::GET, "/v1/services/api?wait_version=1&wait=5s").await;
        assert_eq!(long_poll.0, 503);
        assert_eq!(call(b, Method::DELETE, HOST_1).await.0, 503);

        redis.restart();
        // Redis lost everything: the host's next heartbeat registers it anew, through either.
        eventually(Duration::from_secs(10), "A answers again", || async {
            call(a, Method::PUT, HOST_1).await.0 == 201
        })
        .await;
        eventually(Duration::from_secs(10), "B answers again", || async {
            let (status, listed) = call(b, Method::GET, "/v1/services/api").await;
            status == 200 && addresses(&listed) == ["10.0.0.1:8080"]
        })
        .await;
    })
    .await;
}
