//! Zone-aware routing through the real proxy (`node.zone` plus the local cluster named by
//! `cluster_manager.local_cluster_name`): traffic stays in the caller's zone while that
//! zone has its share of upstream capacity, and spills only the excess.

use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// Callers are split 50/50 over zones a and b; `zones` gives each of the six
/// upstream endpoints its zone; `enabled` is `routing_enabled`.
fn yaml(zones: [&str; 6], enabled: u32) -> String {
    let endpoints: Vec<String> = zones
        .iter()
        .enumerate()
        .map(|(i, z)| format!("{{ address: \"$B{}\", zone: {z} }}", i + 1))
        .collect();
    format!(
        r#"
node: {{ zone: a }}
cluster_manager: {{ local_cluster_name: callers }}
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: pool }} }} ] }}
clusters:
  - name: callers
    endpoints:
      - {{ address: "127.0.0.1:1", zone: a }}
      - {{ address: "127.0.0.1:2", zone: a }}
      - {{ address: "127.0.0.1:3", zone: b }}
      - {{ address: "127.0.0.1:4", zone: b }}
  - name: pool
    common_lb_config: {{ zone_aware_lb_config: {{ routing_enabled: {enabled} }} }}
    endpoints: [ {} ]
"#,
        endpoints.join(", ")
    )
}

/// Requests each of the six backends served out of `n` sent through `zones`' proxy.
async fn spread(zones: [&str; 6], enabled: u32, n: usize) -> Vec<usize> {
    let mut b = Vec::new();
    for i in 1..=6 {
        b.push(Http::start(&format!("b{i}")).await);
    }
    let vars: Vec<(String, _)> = b
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("B{}", i + 1), h.addr()))
        .collect();
    let vars: Vec<(&str, _)> = vars.iter().map(|(k, a)| (k.as_str(), *a)).collect();
    let (_proxy, addr) = proxy::start_with_listener(&fill(&yaml(zones, enabled), &vars), "web").await;
    let mut conn = Connection::h2c(addr).await.unwrap();
    for i in 0..n {
        let reply = conn.get("site.test", &format!("/z/{i}")).await.unwrap();
        assert_eq!(reply.status, 200);
    }
    b.iter().map(Http::requests).collect()
}

#[tokio::test]
async fn enough_local_capacity_keeps_traffic_in_the_callers_zone() {
    within(T, async {
        let served = spread(["a", "a", "a", "b", "b", "b"], 100, 120).await;
        assert_eq!(&served[3..], [0, 0, 0], "nothing should leave zone a: {served:?}");
        assert_eq!(served[..3].iter().sum::<usize>(), 120);
    })
    .await;
}

#[tokio::test]
async fn short_local_capacity_spills_only_the_excess() {
    within(T, async {
        // Zone a has 1 of 6 upstream hosts (16.7%) for 50% of the callers: a third of the
        // requests stay local. Expected 200 of 600; sd ≈ 11.5, so ±60 is over 5 sd.
        let served = spread(["a", "b", "b", "b", "b", "b"], 100, 600).await;
        assert!((served[0] as i64 - 200).abs() < 60, "local share: {served:?}");
        // With zone routing disabled the same cluster is plain round robin: 100 each.
        let served = spread(["a", "b", "b", "b", "b", "b"], 0, 600).await;
        assert!(served.iter().all(|&n| n == 100), "{served:?}");
    })
    .await;
}
