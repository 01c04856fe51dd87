//! Clusters fed by a watched endpoints file, through the real proxy: health has primacy
//! over discovery (a host dropped from the file keeps serving until it fails its checks;
//! a host added enters after its first passing check), hosts leave at once without
//! checks, and a broken file changes nothing.

use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, EndpointsFile, admin_get, counter};
use mesh_tests::{eventually, within};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);
const POOL: [(&str, &str); 1] = [("cluster", "pool")];
const CHECKS: &str = "    health_checks:
      - { interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: /healthz } }
";

fn yaml(file: &EndpointsFile, extra: &str) -> String {
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
    discovery: {{ file: {{ path: "{}", refresh_interval: 50ms }} }}
{extra}"#,
        file.path().display()
    )
}

struct Setup {
    backends: [Http; 3],
    file: EndpointsFile,
    proxy: mesh_proxy::Running,
    conn: Connection,
}

impl Setup {
    /// Three backends, the file listing `listed` of them, a proxy with `extra` cluster keys.
    async fn start(listed: &[usize], extra: &str) -> Setup {
        let backends = [
            Http::start("b1").await,
            Http::start("b2").await,
            Http::start("b3").await,
        ];
        let file = EndpointsFile::new(&addrs(&backends, listed));
        let (proxy, addr) = proxy::start_with_listener(&yaml(&file, extra), "web").await;
        let conn = Connection::h2c(addr).await.unwrap();
        Setup {
            backends,
            file,
            proxy,
            conn,
        }
    }

    fn list(&self, listed: &[usize]) {
        self.file.set(&addrs(&self.backends, listed));
    }

    fn admin(&self) -> SocketAddr {
        self.proxy.admin_addr()
    }

    /// Waits (bounded) until the cluster has `total` members, `healthy` of them healthy.
    async fn members(&self, total: u64, healthy: u64) {
        let what = format!("{total} members, {healthy} healthy");
        eventually(Duration::from_secs(10), &what, || async {
            counter(self.admin(), "mesh_cluster_membership_total", POOL).await == total
                && counter(self.admin(), "mesh_cluster_membership_healthy", POOL).await == healthy
        })
        .await;
    }

    /// Which backends answered `n` requests.
    async fn answered(&mut self, n: usize) -> HashSet<String> {
        let mut seen = HashSet::new();
        for i in 0..n {
            let reply = self.conn.get("site.test", &format!("/r/{i}")).await.unwrap();
            assert_eq!(reply.status, 200, "{}", reply.text());
            seen.insert(reply.header("x-backend").unwrap().to_owned());
        }
        seen
    }
}

fn addrs(backends: &[Http; 3], listed: &[usize]) -> Vec<SocketAddr> {
    listed.iter().map(|&i| backends[i].addr()).collect()
}

fn names(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_host_dropped_from_the_file_keeps_serving_until_it_fails_its_checks() {
    within(T, async {
        let mut s = Setup::start(&[0, 1, 2], CHECKS).await;
        s.members(3, 3).await;
        assert_eq!(s.answered(30).await.len(), 3);

        s.list(&[0, 2]);
        let b2 = s.backends[1].addr();
        let pending = format!("pool::{b2}::health_flags::/pending_dynamic_removal");
        eventually(Duration::from_secs(10), "b2 pending removal", || async {
            admin_get(s.admin(), "/clusters").await.text().contains(&pending)
        })
        .await;
        // Still a healthy member, still taking its share.
        s.members(3, 3).await;
        assert!(
            s.answered(60).await.contains("b2"),
            "a healthy host discovery dropped keeps serving"
        );

        s.backends[1].set_health(503);
        s.members(2, 2).await;
        let clusters = admin_get(s.admin(), "/clusters").await.text();
        assert!(
            !clusters.contains(&b2.to_string()),
            "b2 is gone once absent and failing:\n{clusters}"
        );
        let served = s.backends[1].requests();
        assert_eq!(s.answered(60).await, names(&["b1", "b3"]));
        assert_eq!(s.backends[1].requests(), served);
    })
    .await;
}

#[tokio::test]
async fn a_host_added_to_the_file_takes_traffic_after_its_first_passing_check() {
    within(T, async {
        let mut s = Setup::start(&[0, 1], CHECKS).await;
        s.members(2, 2).await;
        s.backends[2].set_health(503);
        s.list(&[0, 1, 2]);
        s.members(3, 2).await;
        // A member, checked, but failing: no traffic.
        assert_eq!(s.answered(60).await, names(&["b1", "b2"]));
        assert_eq!(s.backends[2].requests(), 0);

        s.backends[2].set_health(200);
        s.members(3, 3).await;
        assert!(s.answered(60).await.contains("b3"));
        let version = admin_get(s.admin(), "/clusters?format=json").await.text();
        assert!(version.contains(r#""version":"3""#), "{version}");
    })
    .await;
}

#[tokio::test]
async fn without_checks_or_with_the_opt_out_a_removed_host_leaves_at_once() {
    let opt_out = format!("    ignore_health_on_host_removal: true\n{CHECKS}");
    for extra in ["", opt_out.as_str()] {
        within(T, async {
            let mut s = Setup::start(&[0, 1, 2], extra).await;
            s.members(3, 3).await;
            s.list(&[0, 2]);
            s.members(2, 2).await;
            let served = s.backends[1].requests();
            assert_eq!(
                s.answered(60).await,
                names(&["b1", "b3"]),
                "extra keys: {extra:?}"
            );
            assert_eq!(s.backends[1].requests(), served);
        })
        .await;
    }
}

#[tokio::test]
async fn a_broken_file_keeps_the_last_good_set_and_is_counted() {
    within(T, async {
        let mut s = Setup::start(&[0, 1, 2], "").await;
        s.members(3, 3).await;
        s.file.write("endpoints:\n  - address: not-an-address\n");
        eventually(Duration::from_secs(10), "the rejected update counted", || async {
            counter(s.admin(), "mesh_cluster_update_rejected_total", POOL).await >= 1
        })
        .await;
        assert_eq!(s.answered(30).await.len(), 3, "the last good set keeps serving");
        s.members(3, 3).await;

        s.list(&[2]);
        s.members(1, 1).await;
        assert_eq!(s.answered(10).await, names(&["b3"]));
        assert!(counter(s.admin(), "mesh_cluster_update_success_total", POOL).await >= 1);
    })
    .await;
}

#[tokio::test]
async fn a_missing_endpoints_file_stops_the_start_with_its_name() {
    let file = EndpointsFile::new(&[]);
    let missing = file.path().with_file_name("absent.yaml");
    let yaml = yaml(&file, "").replace(&file.path().display().to_string(), &missing.display().to_string());
    let config = mesh_core::load::from_yaml(&yaml, "test.yaml").unwrap();
    let err = mesh_proxy::start(config)
        .await
        .expect_err("start must fail")
        .to_string();
    assert!(err.contains("pool") && err.contains("absent.yaml"), "{err}");
}

#[tokio::test]
async fn an_ejected_host_stays_ejected_while_the_file_adds_another() {
    within(T, async {
        let outlier = "    outlier_detection: { consecutive_5xx: 3, base_ejection_time: 30s, max_ejection_percent: 50 }\n";
        let mut s = Setup::start(&[0, 1], outlier).await;
        s.members(2, 2).await;
        s.backends[0].fail_with(500);
        // Round robin over two: six requests give b1 its three 500s in a row.
        for i in 0..6 {
            s.conn.get("site.test", &format!("/f/{i}")).await.unwrap();
        }
        let ejected = || async {
            counter(s.admin(), "mesh_cluster_outlier_detection_ejections_active", POOL).await
        };
        eventually(Duration::from_secs(10), "b1 ejected", || async { ejected().await == 1 }).await;

        s.list(&[0, 1, 2]);
        s.members(3, 2).await;
        assert_eq!(ejected().await, 1, "the ejection survives the membership change");
        let b1 = s.backends[0].addr();
        let clusters = admin_get(s.admin(), "/clusters").await.text();
        assert!(
            clusters.contains(&format!("pool::{b1}::health_flags::/failed_outlier_check")),
            "{clusters}"
        );
        assert_eq!(s.answered(60).await, names(&["b2", "b3"]));
    })
    .await;
}
