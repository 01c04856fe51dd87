//! The admin `/dashboard` in a real browser (headless Chromium, `tests/python/dashboard.py`) while
//! traffic flows: its figures move, agree with `/stats?format=json` and `/clusters`, and it renders; the
//! same page against scripted `/stats` answers for the edge cases (`tests/python/dashboard_fixture.py`).
//! Also the Grafana dashboard in `examples/grafana/` (see `grafana`).
//!
//! Chromium and Python's `playwright` are required: `scripts/test.sh` installs them, and without them
//! the test fails saying so.

mod figures;
mod grafana;
mod traffic;

use figures::{Read, png_size};
use mesh_tests::backend::Http;
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::{closed_port, eventually, python, within};
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(240);

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: ingress
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/api" }, route: { cluster: api } }
          - { match: { prefix: "/" }, route: { cluster: web } }
clusters:
  - name: web
    endpoints: [ { address: "$B1" }, { address: "$B2" } ]
  - name: api
    endpoints: [ { address: "$B3" }, { address: "$DEAD" } ]
    health_checks:
      - { interval: 100ms, timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: /healthz } }
"#;

#[tokio::test]
async fn the_dashboard_shows_live_figures_that_match_stats() {
    within(T, async {
        let (b1, b2, b3) = (
            Http::start("b1").await,
            Http::start("b2").await,
            Http::start("b3").await,
        );
        let dead = closed_port();
        let yaml = fill(
            YAML,
            &[
                ("B1", b1.addr()),
                ("B2", b2.addr()),
                ("B3", b3.addr()),
                ("DEAD", dead),
            ],
        );
        let (running, addr) = proxy::start_with_listener(&yaml, "ingress").await;
        let admin = running.admin_addr();
        // The dead host is marked before traffic starts, so no request of `api` fails.
        eventually(
            Duration::from_secs(10),
            "the dead api host fails its check",
            || async {
                let clusters = admin_get(admin, "/clusters").await.text();
                clusters.contains(&format!("api::{dead}::health_flags::/failed_active_hc"))
            },
        )
        .await;

        let page = admin_get(admin, "/dashboard").await;
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        let index = admin_get(admin, "/").await.text();
        assert!(
            index.lines().any(|l| l == "/dashboard"),
            "/ does not list /dashboard:\n{index}"
        );

        let traffic = traffic::Traffic::start(addr);
        let out = std::env::temp_dir().join(format!("mesh-dashboard-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let shown = python::read_dashboard(admin, &out).await;
        let sent = traffic.stop().await;
        let shown = shown.unwrap_or_else(|e| panic!("the dashboard could not be read: {e}"));
        assert!(sent.ok > 0 && sent.failed == 0, "traffic: {sent:?}");

        let reads: Vec<Read> = shown["reads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Read::new(r.clone()))
            .collect();
        let [first, second] = reads.as_slice() else {
            panic!("two reads expected: {shown:#}")
        };
        for read in [first, second] {
            read.agrees_with_stats();
            read.cluster_figures_are_plausible();
        }

        // Live: counters grew between the reads, and the rates show traffic.
        for cluster in ["web", "api"] {
            let (a, b) = (
                first.cluster(cluster, "rq_total"),
                second.cluster(cluster, "rq_total"),
            );
            assert!(
                b > a,
                "{cluster}: rq_total did not grow on the page ({a} then {b})"
            );
            let rate = second.cluster(cluster, "rq_rate");
            let average = second.average_rate(first, cluster);
            assert!(
                rate > average / 5.0 && rate < average * 5.0,
                "{cluster}: the page shows {rate} rq/s, traffic averaged {average:.1} rq/s"
            );
        }
        assert!(second.listener("ingress", "rq_total") > first.listener("ingress", "rq_total"));
        assert!(second.server("uptime_s") > first.server("uptime_s"));
        // One request in four to `web` is a backend 503; `api` sees none.
        let web_errors = second.cluster("web", "error_rate");
        assert!(
            web_errors > 0.0 && web_errors <= 100.0,
            "web error rate {web_errors}"
        );
        assert_eq!(second.cluster("api", "error_rate"), 0.0);

        // The host health shown is what /clusters says.
        let clusters: Value =
            serde_json::from_slice(&admin_get(admin, "/clusters?format=json").await.body).unwrap();
        second.hosts_match_clusters(&clusters);
        assert_eq!(
            second.hosts("api"),
            vec![(b3.addr().to_string(), true), (dead.to_string(), false)]
        );

        // What a person sees: a full picture, a phone-sized one that needs no sideways scroll, a dark one.
        for (name, min_width) in [("wide", 1280), ("narrow", 390), ("dark", 1280)] {
            let path = shown["screenshots"][name].as_str().unwrap();
            println!("dashboard screenshot ({name}): {path}");
            let (width, height, bytes) = png_size(path);
            assert!(
                width >= min_width && height >= 300 && bytes > 20_000,
                "{path}: {width}x{height}, {bytes} bytes"
            );
        }
        let narrow = shown["narrow_scroll_width"].as_u64().unwrap();
        assert!(
            narrow <= 390,
            "the narrow page is {narrow} px wide in a 390 px window"
        );
        running.shutdown().await;
    })
    .await;
}

/// What a live proxy rarely shows on cue, from scripted `/stats` answers: no latency yet, a host down,
/// a 5xx share of exactly 25%, a failed poll (figures kept, marked stale), a restart (no negative rate),
/// draining, and a cluster name with markup (shown as text).
#[tokio::test]
async fn the_page_handles_gaps_failures_and_restarts() {
    within(T, async {
        let out = std::env::temp_dir().join(format!("mesh-dashboard-fixture-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let said = python::check_dashboard_page(&out).await;
        said.unwrap_or_else(|e| panic!("the dashboard page, against scripted /stats answers: {e}"));
    })
    .await;
}
