//! Request mirroring through the real proxy: the shadow cluster gets its percentage of a
//! route's requests, with `-shadow` on the host and the same body, while a slow shadow
//! leaves the primary's latency alone.

use http::Method;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, fill};
use mesh_tests::{eventually, within};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(60);

fn yaml(percentage: u32) -> String {
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            route: {{ cluster: primary, request_mirror_policies: [ {{ cluster: shadow, percentage: {percentage} }} ] }}
clusters:
  - {{ name: primary, endpoints: [ {{ address: "$P" }} ] }}
  - {{ name: shadow, endpoints: [ {{ address: "$S" }} ] }}
"#
    )
}

#[tokio::test]
async fn a_slow_shadow_gets_its_share_and_never_slows_the_primary() {
    within(T, async {
        let (primary, shadow) = (Http::start("primary").await, Http::start("shadow").await);
        shadow.slow(Duration::from_secs(3));
        let (p, addr) = proxy::start_with_listener(
            &fill(&yaml(50), &[("P", primary.addr()), ("S", shadow.addr())]),
            "web",
        )
        .await;
        let mut conn = Connection::h2c(addr).await.unwrap();
        let n = 400;
        for i in 0..n {
            let started = Instant::now();
            let reply = conn.get("api.test", &format!("/m/{i}")).await.unwrap();
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("x-backend"), Some("primary"));
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "the slow shadow held the primary"
            );
        }
        assert_eq!(primary.requests(), n);
        // 50% of 400: mean 200, sd 10; ±50 is 5 sd.
        eventually(Duration::from_secs(10), "the shadow's share arrived", || async {
            let got = shadow.requests();
            (150..=250).contains(&got)
        })
        .await;
        drop(p);
    })
    .await;
}

#[tokio::test]
async fn a_mirrored_request_keeps_its_body_and_gets_a_shadow_host() {
    within(T, async {
        let (primary, shadow) = (Http::start("primary").await, Http::start("shadow").await);
        let (_p, addr) = proxy::start_with_listener(
            &fill(&yaml(100), &[("P", primary.addr()), ("S", shadow.addr())]),
            "web",
        )
        .await;
        // The shadow's answer is dropped by the proxy; the primary's tells what the shadow
        // got too, as both see the same copy of the request.
        let payload = vec![b'x'; 200_000];
        let req = request(Method::POST, "api.test:8080", "/upload", body::full(payload));
        let reply = Connection::http1(addr).await.unwrap().send(req).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.received().body_len, 200_000);
        eventually(Duration::from_secs(10), "the shadow got its copy", || async {
            shadow.requests() == 1
        })
        .await;
        let last = shadow.last_received().expect("the shadow saw the request");
        assert_eq!(
            last.authority
                .as_deref()
                .or(last.headers.get("host").map(|h| h[0].as_str())),
            Some("api.test-shadow:8080")
        );
        assert_eq!(last.body_len, 200_000);
    })
    .await;
}
