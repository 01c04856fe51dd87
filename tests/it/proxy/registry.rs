//! A cluster fed by the mesh registry, end to end: a backend that heartbeats in is
//! routable through the proxy within a second of registering (long poll, not polling);
//! deregistration takes it out at once; a backend that stops heartbeating leaves after the
//! TTL; a registry that goes away leaves the last known hosts serving.

use mesh_discovery::registry::{Heartbeat, Instance, Registry, RegistryConfig, RegistryHandle, ServiceName};
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, counter};
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const T: Duration = Duration::from_secs(60);

async fn registry(heartbeat: Duration, ttl: Duration) -> RegistryHandle {
    let config = RegistryConfig {
        heartbeat_interval: heartbeat,
        ttl: Some(ttl),
        ..RegistryConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Registry::new(config).unwrap().serve(listener).unwrap()
}

async fn proxy_for(registry: SocketAddr) -> (mesh_proxy::Running, SocketAddr) {
    let yaml = format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: payments }} }} ] }} ]
clusters:
  - name: payments
    discovery: {{ registry: {{ address: "{registry}", service: payments }} }}
"#
    );
    proxy::start_with_listener(&yaml, "web").await
}

fn heartbeat(registry: SocketAddr, backend: &Http, every: Duration) -> Heartbeat {
    let service = ServiceName::new("payments").unwrap();
    Heartbeat::new(registry, service, Instance::new(backend.addr()), every)
}

async fn status(addr: SocketAddr) -> u16 {
    Connection::http1(addr)
        .await
        .unwrap()
        .get("pay.test", "/p")
        .await
        .unwrap()
        .status
        .as_u16()
}

#[tokio::test]
async fn a_registered_host_is_routable_within_a_second_and_leaves_at_once_on_deregistration() {
    within(T, async {
        let registry = registry(Duration::from_secs(60), Duration::from_secs(180)).await;
        let (p, addr) = proxy_for(registry.local_addr()).await;
        assert_eq!(status(addr).await, 503, "no host registered yet");
        let backend = Http::start("b1").await;
        let registered = Instant::now();
        let beat = heartbeat(registry.local_addr(), &backend, Duration::from_secs(60))
            .start()
            .unwrap();
        eventually(Duration::from_secs(5), "the host is routable", || async {
            status(addr).await == 200
        })
        .await;
        assert!(
            registered.elapsed() < Duration::from_secs(1),
            "took {:?}",
            registered.elapsed()
        );

        beat.shutdown().await.unwrap();
        let gone = Instant::now();
        eventually(Duration::from_secs(5), "the host is gone", || async {
            status(addr).await == 503
        })
        .await;
        assert!(
            gone.elapsed() < Duration::from_secs(1),
            "took {:?}",
            gone.elapsed()
        );
        let updates = counter(
            p.admin_addr(),
            "mesh_cluster_update_success_total",
            [("cluster", "payments")],
        );
        assert!(updates.await >= 2);
    })
    .await;
}

#[tokio::test]
async fn a_host_that_stops_heartbeating_leaves_after_the_ttl() {
    within(T, async {
        // Seven beats per TTL: a loaded CI box delaying one beat must not expire the host.
        let registry = registry(Duration::from_millis(200), Duration::from_millis(1500)).await;
        let (_p, addr) = proxy_for(registry.local_addr()).await;
        let backend = Http::start("b1").await;
        let beat = heartbeat(registry.local_addr(), &backend, Duration::from_millis(200))
            .start()
            .unwrap();
        eventually(Duration::from_secs(5), "routable", || async {
            status(addr).await == 200
        })
        .await;
        // Still there well past the TTL while it beats.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(status(addr).await, 200);
        let stopped = Instant::now();
        drop(beat); // no deregistration: the host just goes quiet
        eventually(Duration::from_secs(10), "expired", || async {
            status(addr).await == 503
        })
        .await;
        // Its last beat came at most one interval before the drop, so it expires 1.3 s or
        // more after it.
        assert!(
            stopped.elapsed() >= Duration::from_millis(1000),
            "left before its TTL ran out"
        );
    })
    .await;
}

#[tokio::test]
async fn a_registry_that_goes_away_leaves_the_last_hosts_serving() {
    within(T, async {
        let registry = registry(Duration::from_secs(60), Duration::from_secs(180)).await;
        let (p, addr) = proxy_for(registry.local_addr()).await;
        let backend = Http::start("b1").await;
        let _beat = heartbeat(registry.local_addr(), &backend, Duration::from_secs(60))
            .start()
            .unwrap();
        eventually(Duration::from_secs(5), "routable", || async {
            status(addr).await == 200
        })
        .await;
        let stale = || {
            counter(
                p.admin_addr(),
                "mesh_cluster_discovery_staleness_ms",
                [("cluster", "payments")],
            )
        };
        let dropped = Instant::now();
        drop(registry);
        for _ in 0..20 {
            assert_eq!(status(addr).await, 200, "the cluster kept its last known host");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let since = dropped.elapsed().as_millis() as u64;
        assert!(
            stale().await >= since,
            "staleness counts from the last answer, before the drop"
        );
    })
    .await;
}
