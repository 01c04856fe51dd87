//! Trust for `x-mesh-*` headers comes from the listener's `trusted_cidrs`, never from the
//! request: an edge listener removes every one before routing; a loopback egress listener
//! honours the control headers (consuming them) and passes the others on.

use http::Method;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    virtual_hosts: [ { name: all, domains: ["*"], routes: &routes [
      { match: { prefix: "/", headers: [ { name: x-mesh-canary, exact: "1" } ] }, direct_response: { status: 418 } },
      { match: { prefix: "/" }, route: { cluster: b1 } } ] } ]
  - name: egress
    address: 127.0.0.1:0
    trusted_cidrs: ["127.0.0.0/8", "::1/128"]
    virtual_hosts: [ { name: all, domains: ["*"], routes: *routes } ]
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;

#[tokio::test]
async fn control_headers_reach_upstreams_only_from_trusted_peers() {
    within(Duration::from_secs(30), async {
        let b1 = Http::start("b1").await;
        let running = proxy::start(&fill(YAML, &[("B1", b1.addr())])).await;
        let send = |listener: &'static str, canary: bool| {
            let addr = running.listener_addr(listener).unwrap();
            async move {
                let mut req = request(Method::GET, "site.test", "/x", body::empty());
                let h = req.headers_mut();
                h.insert("x-mesh-max-retries", "3".parse().unwrap());
                h.insert("x-mesh-team", "payments".parse().unwrap());
                h.insert("x-meshy", "not a control header".parse().unwrap());
                if canary {
                    h.insert("x-mesh-canary", "1".parse().unwrap());
                }
                Connection::http1(addr).await.unwrap().send(req).await.unwrap()
            }
        };

        let edge = send("edge", false).await.received();
        assert!(
            !edge.headers.keys().any(|k| k.starts_with("x-mesh-")),
            "edge passed control headers on: {:?}",
            edge.headers
        );
        assert_eq!(edge.headers["x-meshy"], ["not a control header"]);
        let egress = send("egress", false).await.received();
        assert_eq!(egress.headers["x-mesh-team"], ["payments"]);
        assert!(
            !egress.headers.contains_key("x-mesh-max-retries"),
            "a control header steers this hop and is consumed"
        );

        // A route matching a control header cannot be steered from outside.
        assert_eq!(send("edge", true).await.status, 200);
        assert_eq!(send("egress", true).await.status, 418);
    })
    .await;
}
