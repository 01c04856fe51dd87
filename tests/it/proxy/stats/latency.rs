//! Histograms reflect injected latencies: 18 tries delayed 30 ms and 2 delayed 300 ms (both
//! well inside Envoy's buckets: (25, 50] and (250, 500] ms) give exact bucket counts and
//! quantiles in the right ranges, since start and over the last stats interval.

use super::{T, json, prom, text};
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::{eventually, within};
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
stats_flush_interval: 300ms
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            route: { cluster: pool }
clusters:
  - name: pool
    endpoints: [ { address: "$B1" } ]
"#;

#[tokio::test]
async fn buckets_and_quantiles_reflect_backend_delays() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&fill(YAML, &[("B1", b1.addr())]), "web").await;
        let admin = running.admin_addr();
        let mut conn = Connection::http1(addr).await.unwrap();
        for i in 0..20 {
            let path = if i % 10 == 9 { "/delay/300" } else { "/delay/30" };
            assert_eq!(conn.get("a.test", path).await.unwrap().status, 200);
        }

        let bucket = |name, scope: (&'static str, &'static str), le| prom(admin, name, &[scope, ("le", le)]);
        let cluster = ("cluster", "pool");
        let up = "mesh_cluster_upstream_rq_time_seconds_bucket";
        for (le, want) in [
            ("0.025", 0.0),
            ("0.05", 18.0),
            ("0.25", 18.0),
            ("0.5", 20.0),
            ("+Inf", 20.0),
        ] {
            assert_eq!(bucket(up, cluster, le).await, Some(want), "upstream le={le}");
        }
        assert_eq!(
            prom(admin, "mesh_cluster_upstream_rq_time_seconds_count", &[cluster]).await,
            Some(20.0)
        );
        let sum = prom(admin, "mesh_cluster_upstream_rq_time_seconds_sum", &[cluster])
            .await
            .unwrap_or(0.0);
        assert!(
            (1.14..1.14 + 20.0 * 0.02).contains(&sum),
            "sum {sum}s: 18 × 30 ms + 2 × 300 ms and overhead"
        );

        // The listener's histogram records when each response body is done, just after the client has it.
        let listener = ("listener", "web");
        let down_count = || prom(admin, "mesh_http_downstream_rq_time_seconds_count", &[listener]);
        eventually(Duration::from_secs(5), "20 downstream requests timed", || async {
            down_count().await == Some(20.0)
        })
        .await;
        let down = "mesh_http_downstream_rq_time_seconds_bucket";
        for (le, want) in [("0.025", 0.0), ("0.05", 18.0), ("0.5", 20.0)] {
            assert_eq!(bucket(down, listener, le).await, Some(want), "downstream le={le}");
        }

        // Quantiles since start, in ms: p50 and p90 among the 30 ms tries, p99 among the 300 ms ones.
        let j = json(admin).await;
        let latency = &j["clusters"][0]["latency_ms"];
        let q = |k: &str| latency[k].as_f64().unwrap_or_else(|| panic!("{k} in {latency}"));
        assert!((30.0..50.0).contains(&q("p50")), "{latency}");
        assert!((30.0..50.0).contains(&q("p90")), "{latency}");
        assert!((300.0..500.0).contains(&q("p99")), "{latency}");
        assert!((300.0..500.0).contains(&q("p999")), "{latency}");
        let t = text(admin, "?filter=upstream_rq_time").await;
        let line = t
            .get("cluster.pool.upstream_rq_time")
            .cloned()
            .unwrap_or_default();
        let cumulative_p50: f64 = line
            .split(' ')
            .find_map(|p| p.strip_prefix("P50("))
            .and_then(|p| p.trim_end_matches(')').split_once(','))
            .and_then(|(_, c)| c.parse().ok())
            .unwrap_or_else(|| panic!("no P50 in {line:?}"));
        assert!((q("p50") - cumulative_p50).abs() < 0.001, "{line} vs {latency}");

        // Some closed stats interval (300 ms) held some of these tries, then one held none.
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        eventually(
            Duration::from_secs(10),
            "an interval with samples, then an empty one",
            || {
                let seen = seen.clone();
                async move {
                    let interval = json(admin).await["clusters"][0]["latency_ms_interval"].clone();
                    match interval.get("p50").and_then(serde_json::Value::as_f64) {
                        Some(p50) => {
                            assert!((30.0..500.0).contains(&p50), "{interval}");
                            seen.store(true, std::sync::atomic::Ordering::Relaxed);
                            false
                        }
                        None => seen.load(std::sync::atomic::Ordering::Relaxed),
                    }
                }
            },
        )
        .await;
        let t = text(admin, "").await;
        let line = &t["cluster.pool.upstream_rq_time"];
        assert!(line.starts_with("P0(nan,"), "an empty interval reads nan: {line}");
        running.shutdown().await;
    })
    .await;
}
