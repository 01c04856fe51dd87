//! `mesh_tests::proxy`: the YAML-to-running-proxy helper, smoke-tested once.

use mesh_tests::backend::Http;
use mesh_tests::{client, proxy, within};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn proxy_helper_starts_forwards_and_shuts_down() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let yaml = format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            route: {{ cluster: web }}
clusters:
  - name: web
    endpoints:
      - {{ address: "{}" }}
"#,
            b1.addr()
        );
        let (running, addr) = proxy::start_with_listener(&yaml, "web").await;
        assert_ne!(running.admin_addr().port(), 0);
        let reply = client::get(addr, "example.com", "/via-proxy").await.unwrap();
        assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text());
        let r = reply.received();
        assert_eq!((r.backend.as_str(), r.path.as_str()), ("b1", "/via-proxy"));
        assert_eq!(b1.requests(), 1);
        running.shutdown().await;
    })
    .await;
}

#[tokio::test]
#[should_panic(expected = "invalid proxy config")]
async fn proxy_helper_panics_with_the_config_errors() {
    proxy::start("listeners: [ { name: web, address: nowhere } ]").await;
}
