//! `/stats/prometheus` parses with an independent implementation of the format (Python's
//! `prometheus_client` parser), with live control-loop series (health, outlier, breakers,
//! retries) beside the request counters, code classes, active gauges, connection counters and
//! the latency histograms, each family exactly once.

use super::T;
use mesh_tests::backend::Http;
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::{client, python, within};

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: /api }, route: { cluster: pool, retry_policy: { retry_on: 5xx, num_retries: 1 } } }
clusters:
  - name: pool
    endpoints: [ { address: "$B1" } ]
    health_checks:
      - { interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: /healthz } }
    outlier_detection: { consecutive_5xx: 50 }
"#;

#[tokio::test]
async fn the_exposition_parses_with_prometheus_client() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (proxy, addr) = proxy::start_with_listener(&fill(YAML, &[("B1", b1.addr())]), "web").await;
        for i in 0..5 {
            assert_eq!(
                client::get(addr, "a.test", &format!("/api/{i}"))
                    .await
                    .unwrap()
                    .status,
                200
            );
        }
        b1.fail_next(2, 503);
        assert_eq!(
            client::get(addr, "a.test", "/api/fail").await.unwrap().status,
            503
        );
        assert_eq!(client::get(addr, "a.test", "/nowhere").await.unwrap().status, 404);

        let text = admin_get(proxy.admin_addr(), "/stats/prometheus").await.text();
        let file = std::env::temp_dir().join(format!("mesh-prom-{}.txt", std::process::id()));
        std::fs::write(&file, &text).unwrap();
        let parsed = python::parse_prometheus(&file).await;
        let _ = std::fs::remove_file(&file);
        let families = parsed.unwrap_or_else(|e| panic!("{e}\n--- exposition ---\n{text}"));
        for (family, kind) in [
            ("mesh_http_downstream_rq", "counter"),
            ("mesh_cluster_upstream_rq", "counter"),
            ("mesh_cluster_membership_healthy", "gauge"),
            ("mesh_http_downstream_rq_xx", "counter"),
            ("mesh_cluster_upstream_rq_xx", "counter"),
            ("mesh_cluster_upstream_rq_active", "gauge"),
            ("mesh_http_downstream_rq_active", "gauge"),
            ("mesh_cluster_upstream_rq_time_seconds", "histogram"),
            ("mesh_http_downstream_rq_time_seconds", "histogram"),
            ("mesh_listener_downstream_cx", "counter"),
            ("mesh_listener_downstream_cx_active", "gauge"),
            ("mesh_listener_downstream_cx_rx_bytes", "counter"),
            ("mesh_cluster_upstream_cx", "counter"),
            ("mesh_cluster_upstream_cx_active", "gauge"),
            ("mesh_cluster_upstream_rq_per_try_timeout", "counter"),
            ("mesh_cluster_circuit_breakers_remaining_cx", "gauge"),
            ("mesh_cluster_health_check_attempt", "counter"),
        ] {
            assert!(
                families
                    .lines()
                    .any(|l| l.starts_with(&format!("{family} {kind} "))),
                "{family} ({kind}) missing from:\n{families}"
            );
        }
        // A histogram family: 19 buckets of Envoy's, +Inf, _sum and _count per series.
        assert!(
            families
                .lines()
                .any(|l| l == "mesh_cluster_upstream_rq_time_seconds histogram 22"),
            "{families}"
        );
    })
    .await;
}
