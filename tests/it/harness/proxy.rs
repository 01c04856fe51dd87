//! `mesh_tests::proxy`: the YAML-to-running-proxy helper and the [`proxy::Config`] builder,
//! smoke-tested once.

use mesh_tests::backend::Http;
use mesh_tests::{client, proxy, within};
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn proxy_helper_starts_forwards_and_shuts_down() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let yaml = proxy::Config::new("web", &[b1.addr()]).yaml();
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

/// Every knob of the builder yields YAML the loader accepts, with the knob where it belongs.
#[test]
fn config_builder_yaml_loads_with_every_knob() {
    let endpoints: [SocketAddr; 2] = ["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
    let plain = proxy::Config::new("up", &endpoints[..1]).yaml();
    let full = proxy::Config::new("up", &endpoints)
        .protocol("http2")
        .route_timeout("0s")
        .host_rewrite("rewritten.internal")
        .domain("localhost")
        .listener_tls()
        .upstream_tls("localhost")
        .yaml();
    let empty = proxy::Config::new("none", &[]).yaml();
    for yaml in [&plain, &full, &empty] {
        mesh_core::load::from_yaml(yaml, "test.yaml")
            .unwrap_or_else(|e| panic!("invalid builder YAML:\n{e}\n--- yaml ---\n{yaml}"));
    }
    for unset in ["protocol", "timeout", "host_rewrite", "tls", "\"localhost\""] {
        assert!(!plain.contains(unset), "{unset} without its knob:\n{plain}");
    }
    for set in [
        "protocol: http2",
        "timeout: 0s",
        "host_rewrite_literal: \"rewritten.internal\"",
        "domains: [\"localhost\"]",
        "cert_file:",
        "sni: \"localhost\"",
        "address: \"127.0.0.1:2\"",
    ] {
        assert!(full.contains(set), "missing {set}:\n{full}");
    }
    assert!(empty.contains("endpoints: []"), "{empty}");
}
