//! Configuration reloads through the real proxy: no request fails while routes and
//! clusters come and go under load, an in-flight request finishes on the configuration it
//! started with while the next one on the same connection uses the new one, a removed
//! listener drains, and a broken file changes nothing.

use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::proxy::{self, EndpointsFile, admin_get, counter};
use mesh_tests::{eventually, within};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const T: Duration = Duration::from_secs(90);
const REJECTED: &str = "mesh_server_config_reload_rejected_total";

/// `/stable` → cluster `a` (with `timeout`); with `extra`, also `/extra` → cluster `b`; with
/// `side`, a second listener.
fn yaml(a: &Http, b: &Http, extra: bool, timeout: &str, side: bool) -> String {
    let extra_route = match extra {
        true => r#"{ match: { prefix: "/extra" }, route: { cluster: b } },"#,
        false => "",
    };
    let extra_cluster = match extra {
        true => format!(
            "  - {{ name: b, endpoints: [ {{ address: \"{}\" }} ] }}\n",
            b.addr()
        ),
        false => String::new(),
    };
    let side = match side {
        true => {
            "  - { name: side, address: 127.0.0.1:0, virtual_hosts: [ { name: s, domains: [\"*\"], routes: [ { match: { prefix: \"/\" }, route: { cluster: a } } ] } ] }\n"
        }
        false => "",
    };
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
drain_timeout: 10s
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes: [ {extra_route} {{ match: {{ prefix: "/" }}, route: {{ cluster: a, timeout: {timeout} }} }} ]
{side}clusters:
  - {{ name: a, endpoints: [ {{ address: "{}" }} ] }}
{extra_cluster}"#,
        a.addr()
    )
}

fn config(yaml: &str) -> mesh_core::policy::Bootstrap {
    mesh_core::load::from_yaml(yaml, "reload.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

async fn dump_version(proxy: &mesh_proxy::Running) -> String {
    let dump: serde_json::Value =
        serde_json::from_slice(&admin_get(proxy.admin_addr(), "/config_dump").await.body).unwrap();
    dump["version_info"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_reloads_under_load_fail_no_request() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let (proxy, addr) = proxy::start_with_listener(&yaml(&a, &b, false, "5s", false), "web").await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut load = Vec::new();
        for worker in 0..4 {
            let stop = stop.clone();
            load.push(tokio::spawn(async move {
                let mut conn = match worker % 2 {
                    0 => Connection::http1(addr).await.unwrap(),
                    _ => Connection::h2c(addr).await.unwrap(),
                };
                let (mut ok, mut failures) = (0u32, Vec::new());
                // Bounded in count as well as by `stop`.
                for i in 0..20_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match conn.get("site.test", &format!("/stable/{worker}/{i}")).await {
                        Ok(r) if r.status == 200 && r.header("x-backend") == Some("a") => ok += 1,
                        Ok(r) => failures.push(format!("{} {:?}", r.status, r.text())),
                        Err(e) => failures.push(e.to_string()),
                    }
                }
                (ok, failures)
            }));
        }
        for n in 0..10u64 {
            // Odd reloads add or remove a route and its cluster; even ones change a route.
            let extra = n % 4 < 2;
            let timeout = if n % 2 == 0 { "6s" } else { "5s" };
            let version = proxy
                .reload(&config(&yaml(&a, &b, extra, timeout, false)))
                .await
                .unwrap();
            assert_eq!(version, n + 2);
            let reply = client::get(addr, "site.test", "/extra/probe").await.unwrap();
            match extra {
                true => assert_eq!(reply.header("x-backend"), Some("b"), "after reload {n}"),
                false => assert_eq!(reply.header("x-backend"), Some("a"), "after reload {n}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for worker in load {
            let (ok, failures) = worker.await.unwrap();
            assert!(
                failures.is_empty(),
                "failed requests during reloads: {failures:?}"
            );
            total += ok;
        }
        assert!(total >= 100, "only {total} requests ran across the reloads");
        assert_eq!(dump_version(&proxy).await, "11");
        assert_eq!(
            counter(proxy.admin_addr(), "mesh_server_config_reload_total", []).await,
            10
        );
        assert_eq!(counter(proxy.admin_addr(), REJECTED, []).await, 0);
    })
    .await;
}

#[tokio::test]
async fn an_in_flight_request_ends_on_its_config_and_the_next_one_uses_the_new() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        a.slow(Duration::from_millis(600));
        let (proxy, addr) = proxy::start_with_listener(&yaml(&a, &b, false, "5s", false), "web").await;
        let mut conn = Connection::h2c(addr).await.unwrap();
        let mut second = Connection::h2c(addr).await.unwrap();
        let in_flight = tokio::spawn(async move { second.get("site.test", "/extra/slow").await.unwrap() });
        eventually(Duration::from_secs(5), "the slow request reaches a", || async {
            a.requests() == 1
        })
        .await;

        proxy
            .reload(&config(&yaml(&a, &b, true, "5s", false)))
            .await
            .unwrap();
        let reply = conn.get("site.test", "/extra/now").await.unwrap();
        assert_eq!(
            reply.header("x-backend"),
            Some("b"),
            "the existing connection follows the reload"
        );
        let old = in_flight.await.unwrap();
        assert_eq!((old.status.as_u16(), old.header("x-backend")), (200, Some("a")));
    })
    .await;
}

#[tokio::test]
async fn a_removed_listener_drains_then_stops_accepting() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        a.slow(Duration::from_millis(600));
        let proxy = proxy::start(&yaml(&a, &b, false, "5s", true)).await;
        let side = proxy.listener_addr("side").unwrap();
        let in_flight = tokio::spawn(async move { client::get(side, "site.test", "/slow").await.unwrap() });
        eventually(Duration::from_secs(5), "the slow request reaches a", || async {
            a.requests() == 1
        })
        .await;

        proxy
            .reload(&config(&yaml(&a, &b, false, "5s", false)))
            .await
            .unwrap();
        assert_eq!(proxy.listener_addr("side"), None);
        assert_eq!(
            in_flight.await.unwrap().status,
            200,
            "the in-flight request finishes"
        );
        eventually(Duration::from_secs(5), "side refuses connections", || async {
            tokio::net::TcpStream::connect(side).await.is_err()
        })
        .await;
        let web = proxy.listener_addr("web").unwrap();
        assert_eq!(client::get(web, "site.test", "/").await.unwrap().status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_broken_file_changes_nothing_and_a_fixed_one_applies() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let file = EndpointsFile::new(&[]);
        file.write(&yaml(&a, &b, false, "5s", false));
        let proxy = mesh_proxy::start(mesh_core::load::load_file(file.path()).unwrap())
            .await
            .unwrap();
        let _watch = proxy.watch_config(file.path(), Duration::from_millis(50));
        let (admin, web) = (proxy.admin_addr(), proxy.listener_addr("web").unwrap());

        file.write(&yaml(&a, &b, false, "5s", false).replace("cluster: a", "cluster: nowhere"));
        eventually(Duration::from_secs(5), "the broken file is rejected", || async {
            counter(admin, REJECTED, []).await == 1
        })
        .await;
        assert_eq!(dump_version(&proxy).await, "1");
        assert_eq!(
            client::get(web, "site.test", "/")
                .await
                .unwrap()
                .header("x-backend"),
            Some("a")
        );

        file.write(&yaml(&a, &b, true, "5s", false));
        eventually(Duration::from_secs(5), "the fixed file applies", || async {
            dump_version(&proxy).await == "2"
        })
        .await;
        let reply = client::get(web, "site.test", "/extra").await.unwrap();
        assert_eq!(reply.header("x-backend"), Some("b"));
        assert_eq!(
            counter(admin, REJECTED, []).await,
            1,
            "counted once, not per poll"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unchanged_cluster_keeps_its_hosts_and_admin_cannot_move() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let (proxy, addr) = proxy::start_with_listener(&yaml(&a, &b, false, "5s", false), "web").await;
        for _ in 0..3 {
            assert_eq!(client::get(addr, "site.test", "/").await.unwrap().status, 200);
        }
        proxy
            .reload(&config(&yaml(&a, &b, true, "7s", false)))
            .await
            .unwrap();
        assert_eq!(client::get(addr, "site.test", "/").await.unwrap().status, 200);
        let clusters = admin_get(proxy.admin_addr(), "/clusters").await.text();
        assert!(
            clusters.contains(&format!("a::{}::rq_total::4", a.addr())),
            "{clusters}"
        );

        let moved = yaml(&a, &b, false, "5s", false).replace(
            "admin: { address: 127.0.0.1:0 }",
            "admin: { address: 127.0.0.2:0 }",
        );
        let refused = proxy.reload(&config(&moved)).await.unwrap_err();
        assert!(refused.to_string().contains("admin.address"), "{refused}");
        assert_eq!(proxy.config_version(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_removed_cluster_stops_its_health_checks_though_old_connections_stay_open() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let probed = mesh_tests::backend::TcpEcho::start().await;
        let checked = format!(
            "  - name: probed\n    endpoints: [ {{ address: \"{}\" }} ]\n    health_checks:\n      \
             - {{ interval: 50ms, timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {{}} }}\n",
            probed.addr()
        );
        let with = format!("{}{checked}", yaml(&a, &b, false, "5s", false));
        let (proxy, addr) = proxy::start_with_listener(&with, "web").await;
        let mut kept = Connection::http1(addr).await.unwrap();
        assert_eq!(kept.get("site.test", "/").await.unwrap().status, 200);
        eventually(Duration::from_secs(5), "the cluster is being checked", || async { probed.connections() >= 2 })
            .await;

        proxy.reload(&config(&yaml(&a, &b, false, "5s", false))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = probed.connections();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(probed.connections(), after, "no checks of a removed cluster (10 would have run)");
        assert_eq!(kept.get("site.test", "/").await.unwrap().status, 200, "the old connection serves on");
    })
    .await;
}

#[tokio::test]
async fn cold_new_clusters_hold_a_reload_for_one_warming_timeout_not_one_each() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let (proxy, addr) = proxy::start_with_listener(&yaml(&a, &b, false, "5s", false), "web").await;
        // Three clusters whose registry never answers (nothing listens on port 1).
        let cold: String = (1..=3)
            .map(|i| format!("  - {{ name: cold{i}, discovery: {{ registry: {{ address: \"127.0.0.1:1\", service: s{i} }} }} }}\n"))
            .collect();
        let started = std::time::Instant::now();
        let version = proxy.reload(&config(&format!("{}{cold}", yaml(&a, &b, false, "5s", false)))).await.unwrap();
        let took = started.elapsed();
        assert_eq!(version, 2);
        assert!(took >= Duration::from_secs(14), "it waited for warming ({took:?})");
        assert!(took < Duration::from_secs(30), "one 15 s warming deadline for all three, not 45 s ({took:?})");
        assert_eq!(client::get(addr, "site.test", "/").await.unwrap().status, 200);
    })
    .await;
}
