//! The admin listener (`/ready`, `/stats/prometheus`, `/clusters`, `/config_dump`) and graceful
//! drain, in process.

mod control;
mod drain;
mod prometheus;

use super::routing::T;
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::proxy::{self, admin_get, counter, fill};
use mesh_tests::within;
use std::collections::BTreeSet;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/uh" }, route: { cluster: empty } }
          - { match: { prefix: "/" }, route: { cluster: pool } }
clusters:
  - name: pool
    endpoints:
      - { address: "$B1", weight: 1, zone: us-east-1a }
      - { address: "$B2", weight: 3 }
  - { name: empty, endpoints: [] }
"#;

#[tokio::test]
async fn ready_and_prometheus_stats_count_requests_by_code() {
    within(T, async {
        let (b1, b2) = (Http::start("b1").await, Http::start("b2").await);
        let yaml = fill(YAML, &[("B1", b1.addr()), ("B2", b2.addr())]);
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        let admin = running.admin_addr();

        let ready = admin_get(admin, "/ready").await;
        assert_eq!((ready.status, ready.text().trim()), (StatusCode::OK, "LIVE"));

        let mut conn = Connection::http1(addr).await.unwrap();
        for _ in 0..7 {
            assert_eq!(conn.get("a", "/ok").await.unwrap().status, StatusCode::OK);
        }
        let mut h2 = Connection::h2c(addr).await.unwrap();
        for _ in 0..2 {
            // Answered by the backend: counted at the listener and at the cluster.
            assert_eq!(
                h2.get("a", "/status/503").await.unwrap().status,
                StatusCode::SERVICE_UNAVAILABLE
            );
        }
        // Answered by the proxy (no endpoints): counted at the listener only.
        assert_eq!(
            conn.get("a", "/uh").await.unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );

        let text = admin_get(admin, "/stats/prometheus").await.text();
        assert!(
            text.contains("mesh_http_downstream_rq_total{listener=\"web\",response_code=\"200\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("mesh_cluster_upstream_rq_total{cluster=\"pool\",response_code=\"200\"} 7"),
            "{text}"
        );
        let down = |code| {
            counter(
                admin,
                "mesh_http_downstream_rq_total",
                [("listener", "web"), ("response_code", code)],
            )
        };
        let up = |cluster, code| {
            counter(
                admin,
                "mesh_cluster_upstream_rq_total",
                [("cluster", cluster), ("response_code", code)],
            )
        };
        assert_eq!(down("200").await, 7);
        assert_eq!(down("503").await, 3);
        assert_eq!(down("404").await, 0);
        assert_eq!(up("pool", "200").await, 7);
        assert_eq!(up("pool", "503").await, 2);
        assert_eq!(
            up("empty", "503").await,
            0,
            "no request reached the empty cluster"
        );
        let no_healthy = counter(
            admin,
            "mesh_cluster_upstream_rq_no_healthy_total",
            [("cluster", "empty")],
        );
        assert_eq!(no_healthy.await, 1);

        // Any status the backend answers with is counted at both levels.
        let reply = client::get(addr, "a", "/status/404").await.unwrap();
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(down("404").await, 1);
        assert_eq!(up("pool", "404").await, 1);
        assert_eq!(down("200").await, 7, "404s are not counted as 200s");
        assert_eq!(b1.requests() + b2.requests(), 10);

        // The admin's own requests are not counted as traffic.
        assert_eq!(
            admin_get(admin, "/no-such-page").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(down("404").await, 1);
        running.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn clusters_lists_endpoints_with_weights() {
    within(T, async {
        let (b1, b2) = (Http::start("b1").await, Http::start("b2").await);
        let yaml = fill(YAML, &[("B1", b1.addr()), ("B2", b2.addr())]);
        let (running, _addr) = proxy::start_with_listener(&yaml, "web").await;
        let reply = admin_get(running.admin_addr(), "/clusters").await;
        assert_eq!(reply.status, StatusCode::OK);
        let text = reply.text();
        let lines: BTreeSet<&str> = text.lines().collect();
        for want in [
            format!("pool::{}::weight::1", b1.addr()),
            format!("pool::{}::weight::3", b2.addr()),
            format!("pool::{}::zone::us-east-1a", b1.addr()),
        ] {
            assert!(lines.contains(want.as_str()), "missing {want:?} in:\n{text}");
        }
        assert!(
            !text.contains("empty::"),
            "a cluster without endpoints has no lines:\n{text}"
        );

        let json: serde_json::Value = serde_json::from_slice(
            &admin_get(running.admin_addr(), "/clusters?format=json")
                .await
                .body,
        )
        .unwrap();
        let pool = &json["clusters"][0];
        assert_eq!(pool["name"], "pool");
        assert_eq!(pool["endpoints"][1]["address"], b2.addr().to_string());
        assert_eq!(pool["endpoints"][1]["weight"], 3);
        assert_eq!(json["clusters"][1]["endpoints"], serde_json::json!([]));
    })
    .await;
}

#[tokio::test]
async fn config_dump_is_json_with_defaults_filled_in() {
    within(T, async {
        let (b1, b2) = (Http::start("b1").await, Http::start("b2").await);
        let yaml = fill(YAML, &[("B1", b1.addr()), ("B2", b2.addr())]);
        let (running, _addr) = proxy::start_with_listener(&yaml, "web").await;
        let reply = admin_get(running.admin_addr(), "/config_dump").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let dump: serde_json::Value = serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.text()));

        assert_eq!(dump["drain_timeout"], "30s");
        let listener = &dump["listeners"][0];
        assert_eq!(listener["name"], "web");
        assert_eq!(listener["protocol"], "http");
        assert_eq!(listener["max_request_headers_bytes"], 60 * 1024);
        assert_eq!(listener["max_headers_count"], 100);
        assert_eq!(listener["request_headers_timeout"], "1m");
        assert_eq!(listener["idle_timeout"], "1h");
        assert_eq!(listener["max_concurrent_streams"], 100);
        assert_eq!(listener["initial_stream_window_size"], 65536);
        assert_eq!(listener["initial_connection_window_size"], 1048576);
        let vhost = &listener["virtual_hosts"][0];
        assert_eq!(vhost["domains"], serde_json::json!(["*"]));
        let route = &vhost["routes"][1]["action"]["route"];
        assert_eq!(route["timeout"], "15s", "{vhost:#}");
        assert_eq!(route["clusters"]["cluster"]["name"], "pool", "{vhost:#}");

        let clusters = dump["clusters"].as_array().unwrap();
        assert_eq!(clusters.len(), 2);
        let pool = &clusters[0];
        assert_eq!(pool["name"], "pool");
        assert_eq!(pool["connect_timeout"], "5s");
        assert_eq!(pool["lb_policy"]["policy"], "round_robin");
        assert_eq!(pool["protocol"], "http1");
        assert_eq!(pool["idle_timeout"], "1h");
        assert_eq!(pool["endpoints"][0]["address"], b1.addr().to_string());
        assert_eq!(pool["endpoints"][0]["weight"], 1);
        assert_eq!(pool["endpoints"][0]["zone"], "us-east-1a");
    })
    .await;
}
