//! Response flags in the access log: each condition the proxy meets sets Envoy's flag on the
//! line of the request that met it, whether the proxy answered itself or returned the
//! upstream's answer.

use super::{LogDir, wait_lines};
use crate::proxy::routing::T;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, RawConn};
use mesh_tests::proxy::{self, fill};
use mesh_tests::{closed_port, eventually, within};
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    access_log:
      - { path: "$LOG", format: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%" }
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/uh" }, route: { cluster: empty } }
          - { match: { prefix: "/uf-retried" }, route: { cluster: closed, retry_policy: { retry_on: connect-failure, num_retries: 2, retry_back_off: { base_interval: 1ms } } } }
          - { match: { prefix: "/uf" }, route: { cluster: closed } }
          - { match: { prefix: "/delay/" }, route: { cluster: b1, timeout: 200ms } }
          - { match: { prefix: "/status/" }, route: { cluster: b1, retry_policy: { retry_on: 5xx, num_retries: 2, retry_back_off: { base_interval: 1ms } } } }
          - { match: { prefix: "/limited" }, local_rate_limit: { max_tokens: 1, fill_interval: 60s }, route: { cluster: b1 } }
          - { match: { prefix: "/abort" }, fault: { abort: { http_status: 503 } }, route: { cluster: b1 } }
          - { match: { prefix: "/slow" }, fault: { delay: { fixed_delay: 10ms } }, route: { cluster: b1 } }
          - { match: { prefix: "/ok" }, route: { cluster: b1 } }
clusters:
  - { name: empty, endpoints: [] }
  - { name: closed, connect_timeout: 2s, endpoints: [ { address: "$CLOSED" } ] }
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;

/// (path, status, flags, cluster) per request, in the order sent.
const CASES: [(&str, u16, &str, &str); 11] = [
    ("/ok", 200, "-", "b1"),
    ("/nothing-routes-here", 404, "NR", "-"),
    ("/uh", 503, "UH", "-"),
    ("/uf", 503, "UF", "-"),
    ("/uf-retried", 503, "UF,URX", "-"),
    ("/delay/2000", 504, "UT", "-"),
    // The last upstream answer, returned once the retries are spent.
    ("/status/503", 503, "URX", "b1"),
    ("/limited", 200, "-", "b1"),
    ("/limited", 429, "RL", "-"),
    ("/abort", 503, "FI", "-"),
    ("/slow", 200, "DI", "b1"),
];

#[tokio::test]
async fn each_condition_sets_its_flag_on_its_line() {
    within(T, async {
        let dir = LogDir::new("flags");
        let log = dir.file("flags.log");
        let b1 = Http::start("b1").await;
        let yaml = fill(
            &YAML.replace("$LOG", &log),
            &[("B1", b1.addr()), ("CLOSED", closed_port())],
        );
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        for (path, status, _, _) in CASES {
            // A fresh connection each: a timed-out or refused request may close its connection.
            let reply = Connection::http1(addr)
                .await
                .unwrap()
                .get("site.test", path)
                .await
                .unwrap();
            assert_eq!(reply.status, status, "{path}: {}", reply.text());
        }
        let lines = wait_lines(&log, CASES.len()).await;
        assert_eq!(lines.len(), CASES.len(), "{lines:#?}");
        // Lines are written when responses end; requests ran one after another, so in order.
        for (line, (path, status, flags, cluster)) in lines.iter().zip(CASES) {
            assert_eq!(line, &format!("{path} {status} {flags} {cluster}"));
        }
        assert_eq!(
            b1.requests(),
            7,
            "ok, delay, three tries of /status/503, limited, slow"
        );
        running.shutdown().await;
    })
    .await;
}

/// A proxy behind another returns the inner one's local reply with its `x-mesh-response-flags`;
/// the outer proxy's line describes its own hop, which went fine.
#[tokio::test]
async fn an_upstream_proxys_flags_are_not_this_hops() {
    within(T, async {
        let dir = LogDir::new("hops");
        let (inner_log, outer_log) = (dir.file("inner.log"), dir.file("outer.log"));
        let hop = |log: &str, cluster: &str| {
            format!(
                r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    access_log: [ {{ path: "{log}", format: "%RESPONSE_CODE% %RESPONSE_FLAGS%" }} ]
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: c }} }} ] }} ]
clusters:
  - {{ name: c, endpoints: [ {cluster} ] }}
"#
            )
        };
        let (inner, inner_addr) = proxy::start_with_listener(&hop(&inner_log, ""), "web").await;
        let upstream = format!("{{ address: \"{inner_addr}\" }}");
        let (outer, outer_addr) = proxy::start_with_listener(&hop(&outer_log, &upstream), "web").await;
        let reply = mesh_tests::client::get(outer_addr, "site.test", "/").await.unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("x-mesh-response-flags"), Some("UH"), "the inner hop's reply");
        assert_eq!(wait_lines(&inner_log, 1).await, ["503 UH"]);
        assert_eq!(wait_lines(&outer_log, 1).await, ["503 -"]);
        outer.shutdown().await;
        inner.shutdown().await;
    })
    .await;
}

/// A client that goes away before its response gets a line all the same, flagged `DC`.
#[tokio::test]
async fn a_client_that_hangs_up_gets_a_dc_line() {
    within(T, async {
        let dir = LogDir::new("dc");
        let log = dir.file("dc.log");
        let b1 = Http::start("b1").await;
        let yaml = fill(
            &YAML.replace("$LOG", &log),
            &[("B1", b1.addr()), ("CLOSED", closed_port())],
        );
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        b1.slow(Duration::from_secs(2));
        let mut raw = RawConn::connect(addr).await.unwrap();
        raw.send(b"GET /ok/slow HTTP/1.1\r\nhost: site.test\r\n\r\n")
            .await
            .unwrap();
        let arrived = || async { b1.requests() == 1 };
        eventually(Duration::from_secs(5), "the backend got the request", arrived).await;
        drop(raw);
        // No response was sent: code 0, and the route's cluster was never answered for.
        assert_eq!(wait_lines(&log, 1).await, ["/ok/slow 0 DC -"]);
        running.shutdown().await;
    })
    .await;
}

/// An upstream that sends its response headers and then nothing: the route timeout cuts the
/// body off, and the line says so (`UT`) beside the status the client already got.
#[tokio::test]
async fn a_route_timeout_after_the_headers_is_ut_on_the_line() {
    within(T, async {
        let dir = LogDir::new("late-ut");
        let log = dir.file("late.log");
        let (stalling, _server) = stalling_upstream().await;
        let yaml = format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    access_log: [ {{ path: "{log}", format: "%RESPONSE_CODE% %RESPONSE_FLAGS%" }} ]
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: s, timeout: 300ms }} }} ] }} ]
clusters:
  - {{ name: s, endpoints: [ {{ address: "{stalling}" }} ] }}
"#
        );
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let req = mesh_tests::client::request(http::Method::GET, "site.test", "/", mesh_tests::client::body::empty());
        let response = conn.send_streaming(req).await.unwrap();
        assert_eq!(response.status(), 200);
        let cut = http_body_util::BodyExt::collect(response.into_body()).await;
        assert!(cut.is_err(), "the body was cut off");
        assert_eq!(wait_lines(&log, 1).await, ["200 UT"]);
        running.shutdown().await;
    })
    .await;
}

/// A server that answers every request with 200 and a body that never ends.
async fn stalling_upstream() -> (std::net::SocketAddr, mesh_tests::AbortOnDrop) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper::service::service_fn(|_req| async {
                let never =
                    futures_util::stream::pending::<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>();
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::StreamBody::new(never)))
            });
            let io = hyper_util::rt::TokioIo::new(tcp);
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
        }
    });
    (addr, mesh_tests::AbortOnDrop(task))
}
