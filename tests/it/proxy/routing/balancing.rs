//! Endpoint balancing within a cluster: smooth weighted round robin.

use super::T;
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;

/// Weights 1 and 3 over 400 requests give exactly 100 and 300: the balancer walks a fixed cycle of
/// length 4 with one shared counter, so any 100 whole cycles are exact whatever the start offset.
#[tokio::test]
async fn weighted_round_robin_splits_exactly_by_endpoint_weight() {
    within(T, async {
        let (light, heavy) = (Http::start("light").await, Http::start("heavy").await);
        let yaml = fill(
            r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: pool } } ] }
clusters:
  - name: pool
    endpoints:
      - { address: "$LIGHT", weight: 1 }
      - { address: "$HEAVY", weight: 3 }
"#,
            &[("LIGHT", light.addr()), ("HEAVY", heavy.addr())],
        );
        let (_proxy, addr) = proxy::start_with_listener(&yaml, "web").await;

        // Two downstream connections, one h1 and one h2, interleaved: they share one balancer.
        let mut h1 = Connection::http1(addr).await.unwrap();
        let mut h2 = Connection::h2c(addr).await.unwrap();
        let mut in_a_row = (String::new(), 0usize, 0usize);
        for i in 0..400 {
            let conn = if i % 2 == 0 { &mut h1 } else { &mut h2 };
            let reply = conn.get("site.test", &format!("/n/{i}")).await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            // Smooth WRR interleaves: the heavy endpoint never gets more than 3 in a row.
            let backend = reply.header("x-backend").unwrap().to_owned();
            if backend == in_a_row.0 {
                in_a_row.1 += 1;
            } else {
                in_a_row = (backend, 1, in_a_row.2);
            }
            in_a_row.2 = in_a_row.2.max(in_a_row.1);
        }
        assert_eq!((light.requests(), heavy.requests()), (100, 300));
        assert!(in_a_row.2 <= 3, "a run of {} picks of one endpoint", in_a_row.2);
    })
    .await;
}
