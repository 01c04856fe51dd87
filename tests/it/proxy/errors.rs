//! The proxy's own failure replies (docs/config.md, "Responses the proxy makes itself"): each
//! failure has its status, its `x-mesh-response-flags` and a short explanation, over HTTP/1.1 and
//! h2c alike, and is counted in the admin stats.

use super::routing::T;
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Reply};
use mesh_tests::proxy::{self, counter, fill};
use mesh_tests::{closed_port, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        response_headers_to_add: [ { key: x-vhost-rule, value: "1" } ]
        routes:
          - { match: { prefix: "/uh" }, route: { cluster: empty } }
          - { match: { prefix: "/uf" }, route: { cluster: closed } }
          - { match: { path: "/reset" }, route: { cluster: b1 } }
          - { match: { prefix: "/delay/" }, route: { cluster: b1, timeout: 200ms } }
          - { match: { prefix: "/ok" }, route: { cluster: b1 } }
clusters:
  - { name: empty, endpoints: [] }
  - { name: closed, connect_timeout: 2s, endpoints: [ { address: "$CLOSED" } ] }
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;

/// (path, status, flag) for each failure the proxy maps.
const CASES: [(&str, u16, &str); 5] = [
    ("/nothing/routes/here", 404, "NR"),
    ("/uh", 503, "UH"),
    ("/uf", 503, "UF"),
    ("/reset", 502, "UR"),
    ("/delay/5000", 504, "UT"),
];

async fn start() -> (Http, mesh_proxy::Running, SocketAddr) {
    let b1 = Http::start("b1").await;
    let yaml = fill(YAML, &[("B1", b1.addr()), ("CLOSED", closed_port())]);
    let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
    (b1, running, addr)
}

fn assert_local_reply(reply: &Reply, status: u16, flag: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    assert_eq!(reply.header("x-mesh-response-flags"), Some(flag), "{what}");
    assert!(
        !reply.text().trim().is_empty(),
        "{what}: the body explains the failure"
    );
    assert_eq!(reply.header("x-backend"), None, "{what}: made by the proxy");
    assert_eq!(
        reply.header("x-vhost-rule"),
        None,
        "{what}: response header rules do not apply to the proxy's error replies"
    );
}

#[tokio::test]
async fn each_failure_maps_to_its_status_and_flag_over_h1_and_h2c() {
    within(T, async {
        let (b1, running, addr) = start().await;
        for (path, status, flag) in CASES {
            for h2 in [false, true] {
                let started = Instant::now();
                let reply = if h2 {
                    client::h2c_get(addr, "site.test", path).await
                } else {
                    client::get(addr, "site.test", path).await
                };
                let what = format!("{} GET {path}", if h2 { "h2c" } else { "h1" });
                let reply = reply.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_local_reply(&reply, status, flag, &what);
                if flag == "UT" {
                    // The route timeout is 200ms; the backend would take 5s.
                    assert!(
                        started.elapsed() < Duration::from_secs(2),
                        "{what} took {:?}",
                        started.elapsed()
                    );
                }
            }
        }
        // The backend saw only the requests routed to it: /reset and the timed-out /delay, twice each.
        assert_eq!(b1.requests(), 4);

        // The proxy still works after all that.
        let reply = client::get(addr, "site.test", "/ok").await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-vhost-rule"), Some("1"));

        // Every reply above is counted by status at the listener, each cause at its cluster.
        let admin = running.admin_addr();
        let downstream = |code: &'static str| {
            counter(
                admin,
                "mesh_http_downstream_rq_total",
                [("listener", "web"), ("response_code", code)],
            )
        };
        assert_eq!(downstream("404").await, 2);
        assert_eq!(downstream("503").await, 4);
        assert_eq!(downstream("502").await, 2);
        assert_eq!(downstream("504").await, 2);
        assert_eq!(downstream("200").await, 1);
        let cluster =
            |name: &'static str, cluster: &'static str| counter(admin, name, [("cluster", cluster)]);
        assert_eq!(
            cluster("mesh_cluster_upstream_rq_no_healthy_total", "empty").await,
            2
        );
        assert_eq!(
            cluster("mesh_cluster_upstream_cx_connect_fail_total", "closed").await,
            2
        );
        assert_eq!(cluster("mesh_cluster_upstream_rq_reset_total", "b1").await, 2);
        assert_eq!(cluster("mesh_cluster_upstream_rq_timeout_total", "b1").await, 2);
        let upstream_ok = counter(
            admin,
            "mesh_cluster_upstream_rq_total",
            [("cluster", "b1"), ("response_code", "200")],
        );
        assert_eq!(
            upstream_ok.await,
            1,
            "only the answered request counts by upstream status"
        );
        running.shutdown().await;
    })
    .await;
}

/// A failure is an ordinary response: the downstream connection that carried it stays usable.
#[tokio::test]
async fn failures_on_a_reused_connection_do_not_poison_it() {
    within(T, async {
        let (b1, _running, addr) = start().await;
        // One downstream connection: each failure is a normal response, so it stays usable.
        for mut conn in [
            client::Connection::http1(addr).await.unwrap(),
            client::Connection::h2c(addr).await.unwrap(),
        ] {
            for (path, status, flag) in CASES {
                let reply = conn.get("site.test", path).await.unwrap();
                assert_local_reply(&reply, status, flag, &format!("{:?} {path}", conn.version()));
            }
            let reply = conn.get("site.test", "/ok").await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        }
        assert_eq!(b1.requests(), 6);
    })
    .await;
}
