//! Active health checking through the real proxy: a backend whose health endpoint
//! fails stops getting traffic within interval × threshold and comes back once it
//! recovers; below the panic threshold traffic spreads across every backend; priority
//! levels fail over by health; and `/clusters` and the stats say so.

use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, Trio, admin_get, counter, fill};
use mesh_tests::{eventually, within};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);
const POOL: [(&str, &str); 1] = [("cluster", "pool")];

fn yaml(panic_threshold: u32) -> String {
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: pool }} }} ] }}
clusters:
  - name: pool
    common_lb_config: {{ healthy_panic_threshold: {panic_threshold} }}
    health_checks:
      - {{ interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 2, http_health_check: {{ path: /healthz }} }}
    endpoints: [ {{ address: "$B1" }}, {{ address: "$B2" }}, {{ address: "$B3" }} ]
"#
    )
}

/// Waits (bounded) until the proxy at `admin` counts `n` healthy endpoints in `pool`.
async fn healthy(admin: SocketAddr, n: u64) {
    let what = format!("{n} healthy endpoints");
    eventually(Duration::from_secs(10), &what, || async {
        counter(admin, "mesh_cluster_membership_healthy", POOL).await == n
    })
    .await;
}

/// Which backends answered `n` requests on `conn`.
async fn answered(conn: &mut Connection, n: usize) -> HashSet<String> {
    let mut seen = HashSet::new();
    for i in 0..n {
        let reply = conn.get("site.test", &format!("/r/{i}")).await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        seen.insert(reply.header("x-backend").unwrap().to_owned());
    }
    seen
}

#[tokio::test]
async fn failing_health_checks_take_a_backend_out_and_recovery_brings_it_back() {
    within(T, async {
        let t = Trio::start(&yaml(50)).await;
        let b = &t.backends;
        healthy(t.admin, 3).await;
        let mut conn = Connection::h2c(t.addr).await.unwrap();
        assert_eq!(answered(&mut conn, 30).await.len(), 3);

        b[1].set_health(503);
        // 2 failures at 100 ms intervals: out within well under a second; bound generously.
        healthy(t.admin, 2).await;
        let served_before = b[1].requests();
        let seen = answered(&mut conn, 60).await;
        assert!(!seen.contains("b2"), "traffic still reached b2: {seen:?}");
        assert_eq!(b[1].requests(), served_before);
        assert!(counter(t.admin, "mesh_cluster_health_check_failure_total", POOL).await >= 1);
        assert!(counter(t.admin, "mesh_cluster_health_check_attempt_total", POOL).await >= 5);
        let clusters = admin_get(t.admin, "/clusters").await.text();
        let flags = format!("pool::{}::health_flags::/failed_active_hc", b[1].addr());
        assert!(clusters.contains(&flags), "{clusters}");

        b[1].set_health(200);
        healthy(t.admin, 3).await;
        assert!(answered(&mut conn, 30).await.contains("b2"));
        assert_eq!(
            counter(t.admin, "mesh_cluster_lb_healthy_panic_total", POOL).await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn below_the_panic_threshold_traffic_spreads_across_all_backends() {
    within(T, async {
        let t = Trio::start(&yaml(50)).await;
        let b = &t.backends;
        healthy(t.admin, 3).await;

        // Two of three failing is 33% healthy, under the 50% threshold: panic mode.
        b[0].set_health(503);
        b[1].set_health(503);
        healthy(t.admin, 1).await;
        let mut conn = Connection::h2c(t.addr).await.unwrap();
        assert_eq!(
            answered(&mut conn, 30).await.len(),
            3,
            "panic mode balances across every host"
        );
        assert!(counter(t.admin, "mesh_cluster_lb_healthy_panic_total", POOL).await >= 30);

        // With panic mode off (threshold 0) the same state keeps traffic on the healthy host.
        let vars = [("B1", b[0].addr()), ("B2", b[1].addr()), ("B3", b[2].addr())];
        let (no_panic, addr0) = proxy::start_with_listener(&fill(&yaml(0), &vars), "web").await;
        healthy(no_panic.admin_addr(), 1).await;
        let mut conn0 = Connection::h2c(addr0).await.unwrap();
        assert_eq!(answered(&mut conn0, 30).await, HashSet::from(["b3".to_owned()]));
    })
    .await;
}

#[tokio::test]
async fn priorities_fail_over_by_overprovisioned_health() {
    within(T, async {
        let yaml = yaml(50).replace(r#"{ address: "$B3" }"#, r#"{ address: "$B3", priority: 1 }"#);
        let t = Trio::start(&yaml).await;
        let b = &t.backends;
        healthy(t.admin, 3).await;
        let mut conn = Connection::h2c(t.addr).await.unwrap();
        assert!(
            !answered(&mut conn, 30).await.contains("b3"),
            "priority 1 idles while priority 0 is healthy"
        );

        // One of two priority-0 hosts down: its health is 50% × 1.4 = 70%, so 30% fails over.
        b[0].set_health(503);
        healthy(t.admin, 2).await;
        let before = b[2].requests();
        let n = 1000;
        assert!(!answered(&mut conn, n).await.contains("b1"));
        // Expected 300 for b3; sd = sqrt(1000 × 0.3 × 0.7) ≈ 14.5, so ±75 is over 5 sd.
        let to_b3 = (b[2].requests() - before) as i64;
        assert!((to_b3 - 300).abs() < 75, "b3 got {to_b3} of {n}");

        // Both priority-0 hosts down: everything goes to priority 1.
        b[1].set_health(503);
        healthy(t.admin, 1).await;
        assert_eq!(answered(&mut conn, 30).await, HashSet::from(["b3".to_owned()]));
    })
    .await;
}

#[tokio::test]
async fn slow_start_ramps_a_recovered_backend_up_over_the_window() {
    within(T, async {
        let yaml = yaml(0).replace(
            "    health_checks:",
            "    slow_start_config: { slow_start_window: 4s, min_weight_percent: 10 }\n    health_checks:",
        );
        let t = Trio::start(&yaml).await;
        let b = &t.backends;
        healthy(t.admin, 3).await;
        let mut conn = Connection::h2c(t.addr).await.unwrap();
        // The first health round is not a re-join: everyone starts at full weight.
        let share = |before: usize, n: usize| (b[1].requests() - before) as f64 / n as f64;
        let before = b[1].requests();
        answered(&mut conn, 300).await;
        assert!(
            (share(before, 300) - 1.0 / 3.0).abs() < 0.05,
            "b2 share at start: {}",
            share(before, 300)
        );

        b[1].set_health(503);
        healthy(t.admin, 2).await;
        b[1].set_health(200);
        healthy(t.admin, 3).await;
        // Within the first second of a 4 s window b2's weight is 25% of the others':
        // 0.25 / 2.25 ≈ 11% of requests instead of 33%.
        let before = b[1].requests();
        answered(&mut conn, 300).await;
        let early = share(before, 300);
        assert!(
            early > 0.0 && early < 0.2,
            "b2 share just after recovery: {early}"
        );

        // After the window it is back to a full third.
        tokio::time::sleep(Duration::from_millis(4500)).await;
        let before = b[1].requests();
        answered(&mut conn, 300).await;
        assert!(
            (share(before, 300) - 1.0 / 3.0).abs() < 0.05,
            "b2 share after the window: {}",
            share(before, 300)
        );
    })
    .await;
}

#[tokio::test]
async fn priorities_apply_without_health_checks_too() {
    within(T, async {
        let yaml = yaml(50)
            .replace(r#"{ address: "$B3" }"#, r#"{ address: "$B3", priority: 1 }"#)
            .replace(
                "    health_checks:\n      - { interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 2, http_health_check: { path: /healthz } }\n",
                "",
            );
        assert!(!yaml.contains("health_checks"), "{yaml}");
        let t = Trio::start(&yaml).await;
        let mut conn = Connection::h2c(t.addr).await.unwrap();
        let seen = answered(&mut conn, 30).await;
        assert_eq!(seen, HashSet::from(["b1".to_owned(), "b2".to_owned()]));
    })
    .await;
}
