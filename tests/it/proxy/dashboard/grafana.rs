//! `examples/grafana/mesh-dashboard.json` cannot rot: it is a Grafana dashboard of the expected shape,
//! and every metric its panels and variables query is in a real proxy's `/stats/prometheus` after
//! some traffic (a renamed metric would leave a panel silently empty).

use super::T;
use mesh_tests::backend::Http;
use mesh_tests::proxy::{self, admin_get, fill};
use mesh_tests::{client, within};
use serde_json::Value;
use std::collections::BTreeSet;

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/grafana/mesh-dashboard.json"
);

const YAML: &str = r#"
admin: { address: $ADMIN }
listeners:
  - name: ingress
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/" }, route: { cluster: web, retry_policy: { retry_on: 5xx, num_retries: 1 } } }
clusters:
  - name: web
    endpoints: [ { address: "$B1" } ]
    health_checks:
      - { interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: /healthz } }
"#;

/// Every string under a `expr` key (panel targets) or a `query` key (template variables).
fn queries(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr" | "query" | "definition", Value::String(q)) => out.push(q.clone()),
                    _ => queries(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| queries(i, out)),
        _ => {}
    }
}

/// The `mesh_*` metric names in PromQL text.
fn metric_names(query: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = query;
    while let Some(at) = rest.find("mesh_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.insert(name);
    }
    names
}

#[test]
fn the_dashboard_has_the_panels_and_variables_it_promises() {
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap()).unwrap();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["datasource", "cluster", "listener"]);
    let panels = dashboard["panels"].as_array().unwrap();
    let exprs = |p: &Value| {
        let mut out = Vec::new();
        queries(&p["targets"], &mut out);
        out.join("\n")
    };
    for (wanted, what) in [
        ("rate(mesh_cluster_upstream_rq_total", "request rate per cluster"),
        ("response_code=~\"5..\"", "error rate per cluster"),
        ("histogram_quantile(0.5,", "p50 upstream latency"),
        ("histogram_quantile(0.99,", "p99 upstream latency"),
        ("mesh_cluster_membership_healthy", "healthy hosts"),
        (
            "mesh_listener_downstream_cx_active",
            "active connections per listener",
        ),
        ("mesh_cluster_upstream_rq_retry_total", "retries"),
        ("mesh_cluster_upstream_rq_timeout_total", "timeouts"),
        ("mesh_cluster_upstream_rq_pending_overflow_total", "overflows"),
        ("mesh_server_config_reload_total", "config reloads"),
    ] {
        assert!(
            panels.iter().any(|p| exprs(p).contains(wanted)),
            "no panel shows {what}"
        );
    }
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "panel id {} twice",
            p["id"]
        );
        if p["type"] != "row" {
            assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
            assert!(!exprs(p).is_empty(), "panel {} queries nothing", p["title"]);
        }
    }
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exported() {
    within(T, async {
        let mut used = BTreeSet::new();
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap()).unwrap();
        let mut all = Vec::new();
        queries(&dashboard, &mut all);
        all.iter().for_each(|q| used.extend(metric_names(q)));
        assert!(used.len() >= 10, "{used:?}");

        let b1 = Http::start("b1").await;
        let yaml = |admin: &str| fill(&YAML.replace("$ADMIN", admin), &[("B1", b1.addr())]);
        let config = |yaml: &str| mesh_core::load::from_yaml(yaml, "test.yaml").unwrap();
        let (running, addr) = proxy::start_with_listener(&yaml("127.0.0.1:0"), "ingress").await;
        for i in 0..20 {
            let path = if i % 5 == 0 { "/status/503" } else { "/ok" };
            client::get(addr, "mesh.test", path).await.unwrap();
        }
        // One reload applied, one refused (the admin address cannot change), so both are counted.
        running.reload(&config(&yaml("127.0.0.1:0"))).await.unwrap();
        running.reload(&config(&yaml("127.0.0.1:1"))).await.unwrap_err();

        let text = admin_get(running.admin_addr(), "/stats/prometheus").await.text();
        let exported: BTreeSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let missing: Vec<&String> = used.iter().filter(|n| !exported.contains(n.as_str())).collect();
        assert!(
            missing.is_empty(),
            "the Grafana dashboard queries metrics the proxy does not export: {missing:?}\n--- exported ---\n{exported:#?}"
        );
        running.shutdown().await;
    })
    .await;
}
