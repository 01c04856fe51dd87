//! A cluster fed by DNS (Envoy's STRICT_DNS), end to end: a name with two A records routes to
//! two real backends that share a port on 127.0.0.1 and 127.0.0.2; when the records change to
//! one of them and the (1s) TTL passes, every request goes to that one; a nameserver that starts
//! failing leaves the last answer serving.

use mesh_tests::backend::Http;
use mesh_tests::client;
use mesh_tests::dns::{Failure, TestDnsServer};
use mesh_tests::proxy::{self, counter};
use mesh_tests::{eventually, within};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const T: Duration = Duration::from_secs(60);
const NAME: &str = "backend.mesh.test";
const ONE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const TWO: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

async fn proxy_for(dns: &TestDnsServer, port: u16) -> (mesh_proxy::Running, SocketAddr) {
    let yaml = format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: backend }} }} ] }} ]
clusters:
  - name: backend
    discovery: {{ dns: {{ hostname: {NAME}, port: {port}, resolvers: ["{}"] }} }}
"#,
        dns.addr()
    );
    proxy::start_with_listener(&yaml, "web").await
}

/// Which backends answer `n` requests (each on a new connection); a failed request counts as "".
async fn answered_by(addr: SocketAddr, n: usize) -> HashSet<String> {
    let mut seen = HashSet::new();
    for _ in 0..n {
        let name = match client::get(addr, "backend.test", "/").await {
            Ok(reply) if reply.status == 200 => reply.header("x-backend").unwrap_or_default().to_owned(),
            _ => String::new(),
        };
        seen.insert(name);
    }
    seen
}

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

#[tokio::test]
async fn a_dns_cluster_follows_its_records_after_the_ttl() {
    within(T, async {
        let dns = TestDnsServer::start().await.unwrap();
        let b1 = Http::start("b1").await;
        let port = b1.addr().port();
        let b2 = Http::builder("b2").at(SocketAddr::new(TWO, port)).start().await;
        assert_eq!(b2.addr(), SocketAddr::new(TWO, port));
        dns.set(NAME, &[(ONE, 1), (TWO, 1)]);
        let (p, addr) = proxy_for(&dns, port).await;

        eventually(Duration::from_secs(10), "both backends answer", || async {
            answered_by(addr, 8).await == set(&["b1", "b2"])
        })
        .await;

        dns.set(NAME, &[(TWO, 1)]);
        eventually(Duration::from_secs(10), "only b2 answers", || async {
            answered_by(addr, 8).await == set(&["b2"])
        })
        .await;
        // It stays that way: b1 is out of the cluster, not merely unlucky.
        assert_eq!(answered_by(addr, 20).await, set(&["b2"]));
        let b1_requests = b1.requests();

        // A nameserver that fails keeps the last answer serving.
        dns.fail_with(Failure::ServFail);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(answered_by(addr, 10).await, set(&["b2"]));
        assert_eq!(b1.requests(), b1_requests);

        // Admin: one change after the first set, one (persisting) failure, and a set that has
        // gone unconfirmed since the failures began.
        let stat = |name| counter(p.admin_addr(), name, [("cluster", "backend")]);
        assert_eq!(stat("mesh_cluster_update_success_total").await, 1);
        assert_eq!(stat("mesh_cluster_update_rejected_total").await, 1);
        assert!(stat("mesh_cluster_discovery_staleness_ms").await >= 1000);
    })
    .await;
}

#[tokio::test]
async fn a_failing_nameserver_at_start_does_not_stop_the_proxy() {
    within(T, async {
        let dns = TestDnsServer::start().await.unwrap();
        dns.fail_with(Failure::ServFail);
        let b1 = Http::start("b1").await;
        let (_p, addr) = proxy_for(&dns, b1.addr().port()).await;
        assert_eq!(
            answered_by(addr, 3).await,
            set(&[""]),
            "no hosts before DNS answers"
        );
        dns.set(NAME, &[(ONE, 30)]);
        dns.recover();
        // The first retry comes within the failure backoff (1s base, jittered).
        eventually(Duration::from_secs(10), "b1 answers once DNS does", || async {
            answered_by(addr, 3).await == set(&["b1"])
        })
        .await;
    })
    .await;
}
