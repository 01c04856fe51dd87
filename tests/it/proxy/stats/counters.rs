//! Exact counts after a known mix: 200s, upstream and direct 404s, upstream 503s, route
//! timeouts, per-try timeouts and retried 503s, at the listener, the cluster, named routes and the endpoint.

use super::{T, json, prom, text};
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::{eventually, within};
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - name: direct
            match: { prefix: "/direct" }
            direct_response: { status: 404, body: "not here" }
          - name: slow
            match: { prefix: "/delay" }
            route: { cluster: pool, timeout: 100ms }
          - name: pertry
            match: { prefix: "/pertry/" }
            route:
              cluster: pool
              prefix_rewrite: "/delay/"
              retry_policy: { retry_on: 5xx, num_retries: 1, per_try_timeout: 100ms }
          - name: retried
            match: { prefix: "/retry" }
            route: { cluster: pool, retry_policy: { retry_on: 5xx, num_retries: 1 } }
          - match: { prefix: "/" }
            route: { cluster: pool }
clusters:
  - name: pool
    endpoints: [ { address: "$B1" } ]
    track_cluster_stats: { per_endpoint_stats: true }
"#;

#[tokio::test]
async fn counters_are_exact_after_a_known_mix() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&fill(YAML, &[("B1", b1.addr())]), "web").await;
        let admin = running.admin_addr();
        let mut conn = Connection::http1(addr).await.unwrap();
        expect(&mut conn, "/ok", 200, 6).await;
        expect(&mut conn, "/status/404", 404, 3).await;
        expect(&mut conn, "/direct", 404, 2).await;
        expect(&mut conn, "/status/503", 503, 2).await;
        // The route timeout (100ms) fires long before the backend answers: 504, twice.
        expect(&mut conn, "/delay/2000", 504, 2).await;
        // Both tries (100ms each) time out: 504 once, two per-try timeouts, one retry.
        expect(&mut conn, "/pertry/2000", 504, 1).await;
        for _ in 0..2 {
            // The first try gets a 503, its retry a 200.
            b1.fail_next(1, 503);
            expect(&mut conn, "/retry/x", 200, 1).await;
        }

        let down = |code| {
            prom(
                admin,
                "mesh_http_downstream_rq_total",
                &[("listener", "web"), ("response_code", code)],
            )
        };
        let up = |code| {
            prom(
                admin,
                "mesh_cluster_upstream_rq_total",
                &[("cluster", "pool"), ("response_code", code)],
            )
        };
        assert_eq!(down("200").await, Some(8.0));
        assert_eq!(down("404").await, Some(5.0));
        assert_eq!(down("503").await, Some(2.0));
        assert_eq!(down("504").await, Some(3.0));
        assert_eq!(up("200").await, Some(8.0), "6 plain and 2 retries");
        assert_eq!(
            up("404").await,
            Some(3.0),
            "direct responses never reach the cluster"
        );
        assert_eq!(up("503").await, Some(4.0), "2 answered, 2 retried");
        assert_eq!(up("504").await, None, "a timeout is no upstream response");
        let down_class = |c| {
            prom(
                admin,
                "mesh_http_downstream_rq_xx_total",
                &[("listener", "web"), ("response_code_class", c)],
            )
        };
        let up_class = |c| {
            prom(
                admin,
                "mesh_cluster_upstream_rq_xx_total",
                &[("cluster", "pool"), ("response_code_class", c)],
            )
        };
        for (class, downstream, upstream) in [
            ("1xx", 0, 0),
            ("2xx", 8, 8),
            ("3xx", 0, 0),
            ("4xx", 5, 3),
            ("5xx", 5, 4),
        ] {
            assert_eq!(
                down_class(class).await,
                Some(f64::from(downstream)),
                "downstream {class}"
            );
            assert_eq!(
                up_class(class).await,
                Some(f64::from(upstream)),
                "upstream {class}"
            );
        }
        let cluster = |name| prom(admin, name, &[("cluster", "pool")]);
        // Route timeouts only: the per-try ones are counted apart.
        assert_eq!(cluster("mesh_cluster_upstream_rq_timeout_total").await, Some(2.0));
        assert_eq!(cluster("mesh_cluster_upstream_rq_retry_total").await, Some(3.0));
        assert_eq!(
            cluster("mesh_cluster_upstream_rq_retry_success_total").await,
            Some(2.0)
        );
        assert_eq!(
            cluster("mesh_cluster_upstream_rq_per_try_timeout_total").await,
            Some(2.0)
        );
        assert_eq!(
            cluster("mesh_cluster_upstream_cx_connect_fail_total").await,
            Some(0.0)
        );

        // Named routes only, by class.
        let route = |r, c| {
            prom(
                admin,
                "mesh_route_upstream_rq_xx_total",
                &[("route", r), ("response_code_class", c)],
            )
        };
        assert_eq!(route("direct", "4xx").await, Some(2.0));
        assert_eq!(route("slow", "5xx").await, Some(2.0));
        assert_eq!(route("pertry", "5xx").await, Some(1.0));
        assert_eq!(route("retried", "2xx").await, Some(2.0));
        assert_eq!(
            route("retried", "5xx").await,
            Some(0.0),
            "counted once per request, by its answer"
        );

        // The endpoint (per_endpoint_stats): every try answered or cut by the route timeout (an error);
        // tries abandoned at their per-try timeout are not recorded against the host.
        let endpoint = b1.addr().to_string();
        let host = |name| {
            prom(
                admin,
                name,
                &[("cluster", "pool"), ("endpoint", endpoint.as_str())],
            )
        };
        assert_eq!(host("mesh_cluster_endpoint_rq_total").await, Some(17.0));
        assert_eq!(host("mesh_cluster_endpoint_rq_error_total").await, Some(6.0));
        assert_eq!(host("mesh_cluster_endpoint_rq_success_total").await, Some(11.0));
        assert_eq!(host("mesh_cluster_endpoint_healthy").await, Some(1.0));

        // Nothing in flight once every response is read; one downstream connection, still open.
        let gauges_at_zero = || async {
            prom(admin, "mesh_http_downstream_rq_active", &[("listener", "web")]).await == Some(0.0)
                && prom(admin, "mesh_cluster_upstream_rq_active", &[("cluster", "pool")]).await == Some(0.0)
        };
        eventually(
            Duration::from_secs(5),
            "active requests back at 0",
            gauges_at_zero,
        )
        .await;
        let listener = |name| prom(admin, name, &[("listener", "web")]);
        assert_eq!(listener("mesh_listener_downstream_cx_total").await, Some(1.0));
        assert_eq!(listener("mesh_listener_downstream_cx_active").await, Some(1.0));
        let rx = listener("mesh_listener_downstream_cx_rx_bytes_total")
            .await
            .unwrap_or(0.0);
        let tx = listener("mesh_listener_downstream_cx_tx_bytes_total")
            .await
            .unwrap_or(0.0);
        // 18 request heads of at least `GET /ok HTTP/1.1\r\nhost: a.test\r\n\r\n`; the replies carry bodies.
        assert!(rx >= 18.0 * 35.0, "rx {rx}");
        assert!(tx > rx, "tx {tx}, rx {rx}");
        let upstream_cx = cluster("mesh_cluster_upstream_cx_total").await.unwrap_or(0.0);
        let upstream_open = cluster("mesh_cluster_upstream_cx_active").await.unwrap_or(-1.0);
        assert!(
            upstream_cx >= 1.0 && (0.0..=upstream_cx).contains(&upstream_open),
            "{upstream_cx} {upstream_open}"
        );
        drop(conn);
        eventually(
            Duration::from_secs(5),
            "the closed connection is no longer active",
            || async { listener("mesh_listener_downstream_cx_active").await == Some(0.0) },
        )
        .await;

        // The same counts in the JSON view.
        let j = json(admin).await;
        let pool = &j["clusters"][0];
        assert_eq!(pool["name"], "pool");
        let ints: Vec<_> = [
            "rq_total",
            "rq_2xx",
            "rq_3xx",
            "rq_4xx",
            "rq_5xx",
            "rq_active",
            "rq_timeout",
            "rq_retry",
        ]
        .iter()
        .map(|k| pool[*k].as_u64())
        .collect();
        assert_eq!(ints, [15, 8, 0, 3, 4, 0, 2, 3].map(Some), "{pool:#}");
        let web = &j["listeners"][0];
        assert_eq!(web["name"], "web");
        assert_eq!(web["address"], addr.to_string());
        assert_eq!(
            (web["rq_total"].as_u64(), web["cx_total"].as_u64()),
            (Some(18), Some(1)),
            "{web:#}"
        );
        assert_eq!(web["rq_active"].as_u64(), Some(0));

        // And in the text view, with Envoy's totals.
        let t = text(admin, "").await;
        for (name, want) in [
            ("cluster.pool.upstream_rq_total", "15"),
            ("cluster.pool.upstream_rq_2xx", "8"),
            ("cluster.pool.upstream_rq_503", "4"),
            ("cluster.pool.upstream_rq_timeout", "2"),
            ("cluster.pool.upstream_rq_retry", "3"),
            ("cluster.pool.upstream_rq_per_try_timeout", "2"),
            ("http.web.downstream_rq_total", "18"),
            ("http.web.downstream_rq_5xx", "5"),
            ("http.web.downstream_rq_4xx", "5"),
            ("route.retried.upstream_rq_2xx", "2"),
            ("listener.web.downstream_cx_total", "1"),
        ] {
            assert_eq!(t.get(name).map(String::as_str), Some(want), "{name}");
        }
        running.shutdown().await;
    })
    .await;
}

/// Sends `GET path` `times` times on `conn`, each answered `status`.
async fn expect(conn: &mut Connection, path: &str, status: u16, times: usize) {
    for _ in 0..times {
        let reply = conn.get("a.test", path).await.unwrap();
        assert_eq!(reply.status.as_u16(), status, "{path}");
    }
}
