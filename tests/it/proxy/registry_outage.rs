//! The registry killed for a minute under steady load through the proxy (the issue's
//! acceptance): no request fails, because the proxy keeps the last known hosts and active
//! health checks have primacy over a registry that comes back empty; and the proxy converges
//! again once the registry is back (a host registered after the outage becomes routable).

use mesh_discovery::registry::{Heartbeat, Instance, Registry, RegistryConfig, RegistryHandle, ServiceName};
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy;
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const OUTAGE: Duration = Duration::from_secs(60);
const BEAT: Duration = Duration::from_millis(500);

fn registry(listener: TcpListener) -> RegistryHandle {
    let config = RegistryConfig {
        heartbeat_interval: BEAT,
        ttl: Some(BEAT * 3),
        ..RegistryConfig::default()
    };
    Registry::new(config).unwrap().serve(listener).unwrap()
}

/// Binds `at` again once the old registry has let go of it (bounded).
async fn rebind(at: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(at).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot bind the registry's address {at} again");
}

fn heartbeat(registry: SocketAddr, backend: &Http) -> Heartbeat {
    let service = ServiceName::new("payments").unwrap();
    Heartbeat::new(registry, service, Instance::new(backend.addr()), BEAT)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_without_the_registry_fails_no_request_and_the_proxy_converges_after() {
    within(OUTAGE + Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let first = registry(listener);
        let yaml = format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: payments }} }} ] }} ]
clusters:
  - name: payments
    discovery: {{ registry: {{ address: "{at}", service: payments }} }}
    health_checks:
      - {{ interval: 200ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: {{ path: /healthz }} }}
"#
        );
        let (_proxy, addr) = proxy::start_with_listener(&yaml, "web").await;
        let b1 = Http::start("b1").await;
        let _b1_beat = heartbeat(at, &b1).start().unwrap();
        eventually(Duration::from_secs(10), "b1 is routable", || async {
            mesh_tests::client::get(addr, "pay.test", "/").await.is_ok_and(|r| r.status == 200)
        })
        .await;

        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut conn = Connection::http1(addr).await.unwrap();
                let (mut ok, mut failures) = (0u32, Vec::new());
                // Bounded in count as well as by `stop`: ~50 requests a second.
                for i in 0..20_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match conn.get("pay.test", &format!("/p/{i}")).await {
                        Ok(r) if r.status == 200 => ok += 1,
                        Ok(r) => failures.push(format!("{} {}", r.status, r.text())),
                        Err(e) => failures.push(e.to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (ok, failures)
            }
        });

        drop(first);
        let down = Instant::now();
        tokio::time::sleep(OUTAGE).await;
        let _second = registry(rebind(at).await);
        let b2 = Http::start("b2").await;
        let _b2_beat = heartbeat(at, &b2).start().unwrap();
        eventually(Duration::from_secs(20), "b2, registered after the outage, gets traffic", || async {
            b2.requests() > 0
        })
        .await;
        let served_before = b1.requests();
        eventually(Duration::from_secs(10), "b1 still gets traffic", || async {
            b1.requests() > served_before
        })
        .await;

        stop.store(true, Ordering::Relaxed);
        let (ok, failures) = load.await.unwrap();
        assert!(failures.is_empty(), "requests failed while the registry was away: {failures:?}");
        let floor = (down.elapsed().as_secs() * 20) as u32;
        assert!(ok >= floor, "only {ok} requests over {:?} of load", down.elapsed());
    })
    .await;
}
