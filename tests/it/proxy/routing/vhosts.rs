//! Virtual-host selection by Host / `:authority`: exact, `*.suffix`, `prefix.*`, `*`, and ports.

use super::T;
use http::StatusCode;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection};
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;

const VHOSTS: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - { name: exact, domains: ["api.example.com"], routes: [ { match: { prefix: "/" }, route: { cluster: exact } } ] }
      - { name: with-port, domains: ["api.example.com:8443"], routes: [ { match: { prefix: "/" }, route: { cluster: with-port } } ] }
      - { name: suffix, domains: ["*.example.com"], routes: [ { match: { prefix: "/" }, route: { cluster: suffix } } ] }
      - { name: longer-suffix, domains: ["*.api.example.com"], routes: [ { match: { prefix: "/" }, route: { cluster: longer-suffix } } ] }
      - { name: prefix, domains: ["api.*"], routes: [ { match: { prefix: "/" }, route: { cluster: prefix } } ] }
      - { name: longer-prefix, domains: ["api.v1.*"], routes: [ { match: { prefix: "/" }, route: { cluster: longer-prefix } } ] }
      - { name: any, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: any } } ] }
clusters:
  - { name: exact, endpoints: [ { address: "$EXACT" } ] }
  - { name: with-port, endpoints: [ { address: "$WITH_PORT" } ] }
  - { name: suffix, endpoints: [ { address: "$SUFFIX" } ] }
  - { name: longer-suffix, endpoints: [ { address: "$LONGER_SUFFIX" } ] }
  - { name: prefix, endpoints: [ { address: "$PREFIX" } ] }
  - { name: longer-prefix, endpoints: [ { address: "$LONGER_PREFIX" } ] }
  - { name: any, endpoints: [ { address: "$ANY" } ] }
"#;

/// Each domain kind routes to its own backend, in Envoy's precedence order.
#[tokio::test]
async fn virtual_hosts_are_selected_by_domain_kind_and_precedence() {
    within(T, async {
        let names = [
            "exact",
            "with-port",
            "suffix",
            "longer-suffix",
            "prefix",
            "longer-prefix",
            "any",
        ];
        let mut backends = Vec::new();
        for name in names {
            backends.push(Http::start(name).await);
        }
        let vars: Vec<(String, _)> = names
            .iter()
            .zip(&backends)
            .map(|(n, b)| (n.to_uppercase().replace('-', "_"), b.addr()))
            .collect();
        let vars: Vec<(&str, _)> = vars.iter().map(|(n, a)| (n.as_str(), *a)).collect();
        let (_proxy, addr) = proxy::start_with_listener(&fill(VHOSTS, &vars), "web").await;

        let cases = [
            ("api.example.com", "exact"),
            ("API.Example.COM", "exact"), // domains compare case-insensitively
            ("api.example.com:8443", "with-port"),
            ("api.example.com:9999", "exact"), // no exact entry with this port: tried without it
            ("www.example.com", "suffix"),
            ("www.example.com:1234", "suffix"), // wildcards match the host without its port
            ("v1.api.example.com", "longer-suffix"),
            ("api.other.org", "prefix"),
            ("api.v1.other.org", "longer-prefix"),
            ("api.v1.example.com", "suffix"), // a suffix wildcard beats a (longer) prefix wildcard
            ("example.com", "any"),           // `*.example.com` needs at least one character before
            ("other.net", "any"),
        ];
        let mut conn = Connection::http1(addr).await.unwrap();
        for (host, want) in cases {
            let reply = conn.get(host, "/").await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "Host {host}: {}", reply.text());
            assert_eq!(reply.header("x-backend"), Some(want), "Host {host}");
            assert_eq!(
                reply.received().header("host"),
                Some(host),
                "Host is forwarded as sent"
            );
        }

        // HTTP/2 selects by :authority the same way.
        let mut h2 = Connection::h2c(addr).await.unwrap();
        for (host, want) in [
            ("www.example.com", "suffix"),
            ("api.example.com:8443", "with-port"),
        ] {
            let reply = h2.get(host, "/").await.unwrap();
            assert_eq!(reply.header("x-backend"), Some(want), "h2 :authority {host}");
        }
    })
    .await;
}

/// With no `*` virtual host, an unknown host gets the proxy's own 404 with flag `NR`.
#[tokio::test]
async fn unknown_host_without_catch_all_is_404_nr() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let yaml = fill(
            r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: only
        domains: ["known.example.com", "*.known.example.com"]
        routes: [ { match: { prefix: "/" }, route: { cluster: b1 } } ]
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#,
            &[("B1", b1.addr())],
        );
        let (_proxy, addr) = proxy::start_with_listener(&yaml, "web").await;

        assert_eq!(
            client::get(addr, "known.example.com", "/").await.unwrap().status,
            StatusCode::OK
        );
        for host in ["unknown.example.com", "known.example.com.evil.org"] {
            let reply = client::get(addr, host, "/").await.unwrap();
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "Host {host}");
            assert_eq!(reply.header("x-mesh-response-flags"), Some("NR"), "Host {host}");
            assert!(!reply.body.is_empty(), "a local reply explains itself");
            assert_eq!(reply.header("x-backend"), None, "answered by the proxy itself");
        }
        let reply = client::h2c_get(addr, "unknown.example.com", "/").await.unwrap();
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.header("x-mesh-response-flags"), Some("NR"));
        assert_eq!(b1.requests(), 1, "only the known host reached the backend");
    })
    .await;
}
