//! Request and response header rules at route and virtual-host level, with every append action.

use super::T;
use http::{HeaderName, HeaderValue, Method};
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;

const RULES: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        request_headers_to_add:
          - { key: x-both, value: vhost, append_action: overwrite_if_exists_or_add }
          - { key: x-vhost, value: v }
        request_headers_to_remove: [x-vhost-secret]
        response_headers_to_add:
          - { key: x-resp-vhost, value: v }
          - { key: x-resp-route, value: from-vhost, append_action: add_if_absent }
          - { key: x-resp-both, value: vhost, append_action: overwrite_if_exists_or_add }
        response_headers_to_remove: [x-backend]
        routes:
          - match: { prefix: "/rules" }
            route: { cluster: b1 }
            request_headers_to_add:
              - { key: x-append, value: route }
              - { key: x-absent, value: route, append_action: add_if_absent }
              - { key: x-kept, value: route, append_action: add_if_absent }
              - { key: x-over, value: route, append_action: overwrite_if_exists_or_add }
              - { key: x-only-if, value: route, append_action: overwrite_if_exists }
              - { key: x-only-if-present, value: route, append_action: OVERWRITE_IF_EXISTS }
              - { key: x-both, value: route, append_action: overwrite_if_exists_or_add }
              - { key: x-secret, value: re-added }
            request_headers_to_remove: [x-secret, x-remove-me]
            response_headers_to_add:
              - { key: x-resp-route, value: r }
              - { key: x-resp-both, value: route }
              - { key: content-type, value: text/x-route, append_action: overwrite_if_exists }
            response_headers_to_remove: [x-drop]
          - match: { prefix: "/" }
            route: { cluster: b1 }
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;

#[tokio::test]
async fn request_and_response_header_rules() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (_proxy, addr) = proxy::start_with_listener(&fill(RULES, &[("B1", b1.addr())]), "web").await;

        for mut conn in [
            Connection::http1(addr).await.unwrap(),
            Connection::h2c(addr).await.unwrap(),
        ] {
            let mut req = request(Method::GET, "site.test", "/rules", body::empty());
            for (name, value) in [
                ("x-append", "client"),
                ("x-kept", "client"),
                ("x-over", "client"),
                ("x-over", "client-2"),
                ("x-only-if-present", "client"),
                ("x-secret", "s"),
                ("x-remove-me", "s"),
                ("x-vhost-secret", "s"),
                ("x-both", "client"),
            ] {
                req.headers_mut()
                    .append(HeaderName::from_static(name), HeaderValue::from_static(value));
            }
            let reply = conn.send(req).await.unwrap();
            assert!(reply.status.is_success(), "{}", reply.text());
            let r = reply.received();
            let all = |name: &str| r.header_all(name).to_vec();
            let version = conn.version();
            // append_if_exists_or_add (the default) adds another field.
            assert_eq!(all("x-append"), ["client", "route"], "{version:?}");
            // add_if_absent adds only when missing.
            assert_eq!(all("x-absent"), ["route"]);
            assert_eq!(all("x-kept"), ["client"]);
            // overwrite_if_exists_or_add replaces every value.
            assert_eq!(all("x-over"), ["route"]);
            // overwrite_if_exists does nothing when absent (either spelling of the action).
            assert!(all("x-only-if").is_empty());
            assert_eq!(all("x-only-if-present"), ["route"]);
            // Removals come before additions at the same level.
            assert_eq!(all("x-secret"), ["re-added"]);
            assert!(all("x-remove-me").is_empty());
            // The virtual host's rules run after the route's: its overwrite wins.
            assert_eq!(all("x-both"), ["vhost"]);
            assert_eq!(all("x-vhost"), ["v"]);
            assert!(all("x-vhost-secret").is_empty());

            // Response rules: route level, then virtual-host level.
            let values = |name: &str| -> Vec<&str> {
                reply
                    .headers
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect()
            };
            assert_eq!(
                values("x-resp-route"),
                ["r"],
                "vhost's add_if_absent kept the route's"
            );
            assert_eq!(values("x-resp-both"), ["vhost"]);
            assert_eq!(values("x-resp-vhost"), ["v"]);
            assert_eq!(values("content-type"), ["text/x-route"], "overwrite_if_exists");
            assert!(values("x-backend").is_empty(), "removed at the virtual host");

            // A route without rules still gets the virtual host's.
            let r = conn.get("site.test", "/other").await.unwrap();
            assert_eq!(r.header("x-resp-vhost"), Some("v"));
            assert_eq!(r.header("x-resp-route"), Some("from-vhost"));
            assert_eq!(r.header("x-backend"), None);
            let received = r.received();
            assert_eq!(received.header_all("x-vhost"), ["v"]);
            assert_eq!(received.header("x-append"), None);
        }
    })
    .await;
}
