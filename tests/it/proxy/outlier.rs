//! Outlier detection through the real proxy: a backend answering 500s is ejected after
//! 5 in a row, never more hosts than `max_ejection_percent` allows, and it returns
//! after its ejection time.

use mesh_tests::client::Connection;
use mesh_tests::proxy::{Trio, admin_get, counter};
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// Three backends; 34% lets exactly one (floor(3 × 0.34)) be ejected at a time.
const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: pool } } ] }
clusters:
  - name: pool
    outlier_detection: { consecutive_5xx: 5, interval: 200ms, base_ejection_time: 1s, max_ejection_percent: 34 }
    endpoints: [ { address: "$B1" }, { address: "$B2" }, { address: "$B3" } ]
"#;

/// Endpoints `/clusters` shows as ejected.
async fn ejected(admin: SocketAddr) -> Vec<String> {
    let text = admin_get(admin, "/clusters").await.text();
    text.lines()
        .filter(|l| l.contains("::health_flags::/failed_outlier_check"))
        .map(|l| l.split("::").nth(1).unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_failing_backend_is_ejected_and_returns_after_its_ejection_time() {
    within(T, async {
        let t = Trio::start(YAML).await;
        let (b, proxy, addr) = (&t.backends, &t.proxy, t.addr);
        let admin = proxy.admin_addr();
        b[0].fail_with(500);

        // Round robin sends every third request to b1: 15 requests give it its 5 failures.
        let mut conn = Connection::h2c(addr).await.unwrap();
        let mut failures = 0;
        for i in 0..15 {
            let reply = conn.get("site.test", &format!("/a/{i}")).await.unwrap();
            if reply.status == 500 {
                failures += 1;
            }
        }
        assert_eq!(failures, 5, "b1 answered 500 five times before its ejection");
        let clusters = admin_get(t.admin, "/clusters").await.text();
        for (backend, line) in [
            (0, "rq_total::5"),
            (0, "rq_error::5"),
            (0, "success_rate::0.0"),
            (1, "rq_error::0"),
            (1, "success_rate::100.0"),
        ] {
            let want = format!("pool::{}::{line}", b[backend].addr());
            assert!(clusters.lines().any(|l| l == want), "no {want:?} in\n{clusters}");
        }
        eventually(Duration::from_secs(5), "b1 ejected", || async {
            ejected(admin).await == [b[0].addr().to_string()]
        })
        .await;
        let served = b[0].requests();
        for i in 0..30 {
            let reply = conn.get("site.test", &format!("/b/{i}")).await.unwrap();
            assert_eq!(reply.status, 200, "an ejected backend got request {i}");
        }
        assert_eq!(b[0].requests(), served);

        // Healthy again: after the 1 s ejection (checked at a 200 ms sweep) it takes traffic.
        b[0].fail_with(0);
        eventually(Duration::from_secs(10), "b1 back", || async {
            ejected(admin).await.is_empty()
        })
        .await;
        for i in 0..30 {
            conn.get("site.test", &format!("/c/{i}")).await.unwrap();
        }
        assert!(b[0].requests() > served, "b1 never came back");
    })
    .await;
}

#[tokio::test]
async fn never_more_hosts_ejected_than_max_ejection_percent_allows() {
    within(T, async {
        let t = Trio::start(YAML).await;
        let (b, proxy, addr) = (&t.backends, &t.proxy, t.addr);
        for backend in b {
            backend.fail_with(503);
        }
        let mut conn = Connection::h2c(addr).await.unwrap();
        let mut most = 0;
        for i in 0..90 {
            let reply = conn.get("site.test", &format!("/x/{i}")).await.unwrap();
            assert_eq!(reply.status, 503);
            if i % 10 == 9 {
                most = most.max(ejected(proxy.admin_addr()).await.len());
            }
        }
        assert_eq!(most, 1, "exactly one of three hosts may be ejected at 34%");
        let admin = proxy.admin_addr();
        let pool = [("cluster", "pool")];
        assert_eq!(
            counter(admin, "mesh_cluster_outlier_detection_ejections_active", pool).await,
            1
        );
        assert!(
            counter(
                admin,
                "mesh_cluster_outlier_detection_ejections_overflow_total",
                pool
            )
            .await
                >= 1
        );
        assert!(
            counter(
                admin,
                "mesh_cluster_outlier_detection_ejections_enforced_total",
                pool
            )
            .await
                >= 1
        );
    })
    .await;
}
