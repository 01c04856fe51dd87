//! Route actions: forward (single and weighted clusters, path and host rewrites), redirect, and
//! direct response.

use super::T;
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;
use std::net::SocketAddr;

const FORWARDS: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/api/" }, route: { cluster: b1, prefix_rewrite: "/v2/" } }
          - { match: { path: "/exact-rw" }, route: { cluster: b1, prefix_rewrite: "/replaced/path" } }
          - { match: { prefix: "/trap" }, route: { cluster: b1, prefix_rewrite: "/" } }
          - match: { safe_regex: "/service/[^/]+/.*" }
            route:
              cluster: b1
              regex_rewrite: { pattern: "^/service/([^/]+)(/.*)$", substitution: '\2/instance/\1' }
          - match: { prefix: "/oo/" }
            route: { cluster: b1, regex_rewrite: { pattern: "o+", substitution: "0" } }
          - { match: { prefix: "/host/" }, route: { cluster: b1, host_rewrite_literal: "rewritten.internal:81" } }
          - { match: { prefix: "/split" }, route: { weighted_clusters: [ { name: b1, weight: 80 }, { name: b2, weight: 20 }, { name: never, weight: 0 } ] } }
          - { match: { prefix: "/" }, route: { cluster: b1 } }
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
  - { name: b2, endpoints: [ { address: "$B2" } ] }
  - { name: never, endpoints: [ { address: "$NEVER" } ] }
"#;

/// Backends `b1`, `b2` and `never` behind a proxy running [`FORWARDS`].
async fn start_forwards() -> ((Http, Http, Http), mesh_proxy::Running, SocketAddr) {
    let (b1, b2, never) = (
        Http::start("b1").await,
        Http::start("b2").await,
        Http::start("never").await,
    );
    let vars = [("B1", b1.addr()), ("B2", b2.addr()), ("NEVER", never.addr())];
    let (running, addr) = proxy::start_with_listener(&fill(FORWARDS, &vars), "web").await;
    ((b1, b2, never), running, addr)
}

#[tokio::test]
async fn forward_rewrites_path_and_host_and_keeps_the_query() {
    within(T, async {
        let ((_b1, b2, never), _proxy, addr) = start_forwards().await;

        let cases = [
            // (request, path the backend sees)
            ("/plain/x?q=1", "/plain/x?q=1"),
            ("/api/users?x=1&y=2", "/v2/users?x=1&y=2"),
            ("/api/", "/v2/"),
            ("/exact-rw?k=v", "/replaced/path?k=v"),
            // Envoy's documented trailing-slash trap: `/trap` + `/` turns `/trap/users` into `//users`.
            ("/trap/users", "//users"),
            ("/service/foo/v1/api?q=2", "/v1/api/instance/foo?q=2"),
            // regex_rewrite is not anchored and replaces every match.
            ("/oo/foo/boo?zoo", "/0/f0/b0?zoo"),
        ];
        for conn in [
            Connection::http1(addr).await.unwrap(),
            Connection::h2c(addr).await.unwrap(),
        ] {
            let mut conn = conn;
            for (path, want) in cases {
                let reply = conn.get("site.test", path).await.unwrap();
                assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
                let r = reply.received();
                assert_eq!(r.backend, "b1");
                assert_eq!(r.path, want, "{path} via {:?}", conn.version());
                assert_eq!(r.header("host"), Some("site.test"), "no host rewrite on {path}");
            }
            let r = conn.get("site.test", "/host/x?y").await.unwrap().received();
            assert_eq!(r.header("host"), Some("rewritten.internal:81"));
            assert_eq!(r.path, "/host/x?y");
        }
        assert_eq!(b2.requests() + never.requests(), 0);
    })
    .await;
}

/// 80/20 weighted clusters over 2000 requests.
///
/// The b2 count is Binomial(n = 2000, p = 0.2): mean 400, standard deviation sqrt(2000·0.2·0.8) ≈ 17.9.
/// The test accepts 300..=500 (20% ± 5 percentage points), i.e. ±5.6 standard deviations; by the
/// Chernoff bound the chance that a correct proxy falls outside is below 2·exp(-100²/(3·400)) ≈ 5e-4
/// and the normal approximation puts it near 2e-8, so a failure means the split is wrong. A zero
/// weight gets no traffic at all.
#[tokio::test]
async fn weighted_clusters_split_traffic_by_weight() {
    within(T, async {
        let ((b1, b2, never), _proxy, addr) = start_forwards().await;

        const N: usize = 2000;
        // Four connections in parallel: the split is per request, not per connection.
        let mut tasks = Vec::new();
        for _ in 0..4 {
            tasks.push(tokio::spawn(async move {
                let mut conn = Connection::http1(addr).await.unwrap();
                for _ in 0..N / 4 {
                    let reply = conn.get("site.test", "/split").await.unwrap();
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(b1.requests() + b2.requests(), N);
        assert_eq!(never.requests(), 0, "a weight of 0 gets no traffic");
        let b2_share = b2.requests();
        assert!(
            (300..=500).contains(&b2_share),
            "b2 got {b2_share} of {N} requests; want 20% ± 5 points (300..=500)"
        );
    })
    .await;
}

const LOCAL: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/secure" }, redirect: { https_redirect: true } }
          - { match: { prefix: "/tls-port" }, redirect: { https_redirect: true, port_redirect: 8443 } }
          - { match: { prefix: "/moved" }, redirect: { host_redirect: "b.example.com:9000", response_code: 302 } }
          - { match: { prefix: "/other-host" }, redirect: { host_redirect: "c.example.com" } }
          - { match: { path: "/old" }, redirect: { path_redirect: "/new", response_code: 307 } }
          - { match: { prefix: "/docs/" }, redirect: { prefix_rewrite: "/v2/docs/", response_code: 308 } }
          - { match: { path: "/strip" }, redirect: { path_redirect: "/stripped", strip_query: true, response_code: 303 } }
          - match: { path: "/teapot" }
            direct_response: { status: 418, body: "short and stout\n" }
            response_headers_to_add: [ { key: x-route, value: teapot } ]
          - { match: { path: "/healthz" }, direct_response: { status: 200, body: "ok\n" } }
          - { match: { path: "/empty" }, direct_response: { status: 503 } }
"#;

#[tokio::test]
async fn redirects_set_status_and_location() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(LOCAL, "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let cases = [
            // (Host, path, status, Location)
            ("a.com", "/secure/x?q=1", 301, "https://a.com/secure/x?q=1"),
            // Changing the scheme drops the old scheme's default port and keeps any other.
            ("a.com:80", "/secure/x", 301, "https://a.com/secure/x"),
            ("a.com:8080", "/secure/x", 301, "https://a.com:8080/secure/x"),
            (
                "a.com:8080",
                "/tls-port/y?z",
                301,
                "https://a.com:8443/tls-port/y?z",
            ),
            // A port in host_redirect replaces the request's; without one, the request's is kept.
            (
                "a.com:8080",
                "/moved/p?x=1",
                302,
                "http://b.example.com:9000/moved/p?x=1",
            ),
            (
                "a.com:8080",
                "/other-host/p",
                301,
                "http://c.example.com:8080/other-host/p",
            ),
            ("a.com", "/old?k=v", 307, "http://a.com/new?k=v"),
            ("a.com", "/docs/a/b?x", 308, "http://a.com/v2/docs/a/b?x"),
            ("a.com", "/strip?secret=1", 303, "http://a.com/stripped"),
        ];
        for (host, path, status, location) in cases {
            let reply = conn.get(host, path).await.unwrap();
            assert_eq!(reply.status.as_u16(), status, "{host}{path}");
            assert_eq!(reply.header("location"), Some(location), "{host}{path}");
            assert_eq!(
                reply.header("x-mesh-response-flags"),
                None,
                "a redirect is not a failure"
            );
        }
        // Over h2 the :authority is the host.
        let mut h2 = Connection::h2c(addr).await.unwrap();
        let reply = h2.get("h2.example:8080", "/old").await.unwrap();
        assert_eq!(reply.status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(reply.header("location"), Some("http://h2.example:8080/new"));
    })
    .await;
}

#[tokio::test]
async fn direct_responses_have_their_status_and_body() {
    within(T, async {
        let (_proxy, addr) = proxy::start_with_listener(LOCAL, "web").await;
        for mut conn in [
            Connection::http1(addr).await.unwrap(),
            Connection::h2c(addr).await.unwrap(),
        ] {
            let reply = conn.get("a.com", "/teapot").await.unwrap();
            assert_eq!(reply.status.as_u16(), 418);
            assert_eq!(reply.text(), "short and stout\n");
            assert_eq!(
                reply.header("x-route"),
                Some("teapot"),
                "response rules apply to direct responses"
            );
            assert_eq!(reply.header("x-mesh-response-flags"), None);

            let reply = conn.get("a.com", "/healthz?verbose").await.unwrap();
            assert_eq!((reply.status, reply.text().as_str()), (StatusCode::OK, "ok\n"));

            let reply = conn.get("a.com", "/empty").await.unwrap();
            assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                reply.body.is_empty(),
                "body defaults to empty: {:?}",
                reply.text()
            );
            assert_eq!(
                reply.header("x-mesh-response-flags"),
                None,
                "configured, not a failure"
            );
        }
    })
    .await;
}
