//! The three views read the same series: `/stats/prometheus`, `/stats` and
//! `/stats?format=json` taken with no traffic in between agree; `/stats` filters by regex;
//! and the exposition parses with `prometheus_client`.

use super::{T, json, prom_in, text};
use mesh_tests::backend::Http;
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::{client, eventually, within};
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
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
    endpoints: [ { address: "$B1" }, { address: "$B2" } ]
"#;

#[tokio::test]
async fn prometheus_text_and_json_agree() {
    within(T, async {
        let (b1, b2) = (Http::start("b1").await, Http::start("b2").await);
        let yaml = fill(YAML, &[("B1", b1.addr()), ("B2", b2.addr())]);
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        let admin = running.admin_addr();
        for path in ["/a", "/b", "/status/404", "/status/500", "/delay/5", "/c"] {
            client::get(addr, "a.test", path).await.unwrap();
        }
        eventually(Duration::from_secs(5), "quiet", || async {
            let j = json(admin).await;
            j["clusters"][0]["rq_active"] == 0 && j["listeners"][0]["rq_active"] == 0
        })
        .await;

        let prom = admin_get(admin, "/stats/prometheus").await.text();
        let t = text(admin, "").await;
        let j = json(admin).await;
        let p = |name, labels: &[(&str, &str)]| prom_in(&prom, name, labels).map(|v| v as u64);
        let pool = &j["clusters"][0];
        for class in ["2xx", "3xx", "4xx", "5xx"] {
            let from_prom = p(
                "mesh_cluster_upstream_rq_xx_total",
                &[("cluster", "pool"), ("response_code_class", class)],
            );
            let from_text = t
                .get(&format!("cluster.pool.upstream_rq_{class}"))
                .and_then(|v| v.parse().ok());
            assert_eq!(from_prom, from_text, "{class}");
            assert_eq!(from_prom, pool[format!("rq_{class}")].as_u64(), "{class}");
        }
        assert_eq!(pool["rq_2xx"], 4);
        assert_eq!(pool["rq_total"], 6);
        let text_u64 = |k: &str| t.get(k).and_then(|v| v.parse::<u64>().ok());
        assert_eq!(
            text_u64("cluster.pool.upstream_rq_total"),
            pool["rq_total"].as_u64()
        );
        assert_eq!(
            text_u64("http.web.downstream_rq_total"),
            j["listeners"][0]["rq_total"].as_u64()
        );
        assert_eq!(
            p("mesh_listener_downstream_cx_total", &[("listener", "web")]),
            j["listeners"][0]["cx_total"].as_u64()
        );
        assert_eq!(j["listeners"][0]["cx_total"], 6, "one connection per client::get");
        assert_eq!(
            text_u64("cluster.pool.membership_total"),
            pool["hosts_total"].as_u64()
        );
        assert_eq!(pool["hosts_total"], 2);
        assert_eq!(pool["hosts_healthy"], 2);
        let hosts = pool["hosts"].as_array().cloned().unwrap_or_default();
        let addresses: Vec<_> = hosts
            .iter()
            .map(|h| h["address"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(addresses, [b1.addr().to_string(), b2.addr().to_string()]);
        assert!(
            hosts
                .iter()
                .all(|h| h["healthy"] == true && h["health_flags"] == "healthy" && h["rq_active"] == 0),
            "{hosts:?}"
        );
        assert_eq!(j["server"]["state"], "LIVE");
        assert_eq!(j["server"]["config_version"], 1);
        assert_eq!(j["server"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(pool["latency_ms"]["p50"].is_number(), "{pool:#}");
        assert!(
            pool["latency_ms_interval"].is_null(),
            "no interval closed yet (5 s): {pool:#}"
        );
        let count = p(
            "mesh_cluster_upstream_rq_time_seconds_count",
            &[("cluster", "pool")],
        );
        assert_eq!(count, Some(6));

        // A filter keeps matching names only; a bad one says why.
        let some = text(admin, "?filter=%5Ecluster%5C.pool%5C.upstream_rq_%5B0-9%5Dxx%24").await;
        assert_eq!(
            some.keys().cloned().collect::<Vec<_>>(),
            ["1xx", "2xx", "3xx", "4xx", "5xx"].map(|c| format!("cluster.pool.upstream_rq_{c}"))
        );
        let bad = admin_get(admin, "/stats?filter=(").await;
        assert_eq!(bad.status, 400);
        assert!(bad.text().contains("invalid filter"), "{}", bad.text());
        let index = admin_get(admin, "/").await.text();
        assert!(
            index.contains("/stats\n") && index.contains("/stats?format=json\n"),
            "{index}"
        );
        running.shutdown().await;
    })
    .await;
}
