//! Operating a running proxy from its admin port: out of rotation and back, draining the
//! listeners while the admin stays up, changing the log filter, and `/server_info`.

use super::T;
use http::StatusCode;
use mesh_proxy::{LogControl, StartOptions};
use mesh_tests::client;
use mesh_tests::proxy::{admin_get, admin_post};
use mesh_tests::{eventually, within};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
node: { id: edge-7, cluster: edge, zone: a }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: / }, direct_response: { status: 200, body: "hi" } } ] } ]
"#;

/// Records what `/logging` asked for; refuses filters that contain a space.
#[derive(Debug, Default)]
struct Logs(Mutex<String>);

impl LogControl for Logs {
    fn current(&self) -> String {
        self.0.lock().unwrap().clone()
    }
    fn set(&self, filter: &str) -> Result<(), String> {
        if filter.contains(' ') {
            return Err("no spaces".into());
        }
        *self.0.lock().unwrap() = filter.to_owned();
        Ok(())
    }
}

async fn start(log: Option<Arc<dyn LogControl>>) -> mesh_proxy::Running {
    let config = mesh_core::load::from_yaml(YAML, "control.yaml").unwrap();
    mesh_proxy::start_with(config, StartOptions { log })
        .await
        .unwrap()
}

fn json(reply: &mesh_tests::client::Reply) -> serde_json::Value {
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.text()))
}

#[tokio::test]
async fn healthcheck_fail_takes_the_proxy_out_of_rotation_and_ok_brings_it_back() {
    within(T, async {
        let proxy = start(None).await;
        let (admin, web) = (proxy.admin_addr(), proxy.listener_addr("web").unwrap());
        let refused = admin_get(admin, "/healthcheck/fail").await;
        assert_eq!(
            refused.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "a GET changes nothing"
        );
        assert_eq!(refused.header("allow"), Some("POST"));
        assert_eq!(admin_get(admin, "/ready").await.status, StatusCode::OK);

        assert_eq!(
            admin_post(admin, "/healthcheck/fail").await.status,
            StatusCode::OK
        );
        let ready = admin_get(admin, "/ready").await;
        assert_eq!(
            (ready.status, ready.text()),
            (StatusCode::SERVICE_UNAVAILABLE, "HEALTHCHECK_FAILED\n".into())
        );
        assert_eq!(
            json(&admin_get(admin, "/server_info").await)["state"],
            "HEALTHCHECK_FAILED"
        );
        assert_eq!(
            client::get(web, "a.test", "/").await.unwrap().text(),
            "hi",
            "traffic is still served"
        );

        assert_eq!(admin_post(admin, "/healthcheck/ok").await.status, StatusCode::OK);
        assert_eq!(admin_get(admin, "/ready").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn drain_listeners_stops_accepting_while_the_admin_stays_up() {
    within(T, async {
        let proxy = start(None).await;
        let (admin, web) = (proxy.admin_addr(), proxy.listener_addr("web").unwrap());
        assert_eq!(
            client::get(web, "a.test", "/").await.unwrap().status,
            StatusCode::OK
        );
        assert_eq!(admin_post(admin, "/drain_listeners").await.status, StatusCode::OK);
        eventually(
            Duration::from_secs(10),
            "the listener stops accepting",
            || async { tokio::net::TcpStream::connect(web).await.is_err() },
        )
        .await;
        let ready = admin_get(admin, "/ready").await;
        assert_eq!(
            (ready.status, ready.text()),
            (StatusCode::SERVICE_UNAVAILABLE, "DRAINING\n".into())
        );
        assert_eq!(json(&admin_get(admin, "/server_info").await)["state"], "DRAINING");
    })
    .await;
}

#[tokio::test]
async fn logging_shows_and_replaces_the_filter_only_on_post() {
    within(T, async {
        let logs = Arc::new(Logs(Mutex::new("info".into())));
        let proxy = start(Some(logs.clone())).await;
        let admin = proxy.admin_addr();
        assert_eq!(admin_get(admin, "/logging").await.text(), "info\n");
        assert_eq!(
            admin_get(admin, "/logging?level=debug").await.status,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(logs.current(), "info");

        let changed = admin_post(admin, "/logging?level=debug").await;
        assert_eq!(
            (changed.status, changed.text()),
            (StatusCode::OK, "debug\n".into())
        );
        let directives = admin_post(admin, "/logging?filter=mesh_proxy%3Dtrace%2Cinfo").await;
        assert_eq!(directives.text(), "mesh_proxy=trace,info\n");
        let bad = admin_post(admin, "/logging?level=not%20one").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            logs.current(),
            "mesh_proxy=trace,info",
            "a refused filter changes nothing"
        );

        let without = start(None).await;
        assert_eq!(
            admin_post(without.admin_addr(), "/logging?level=debug")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn server_info_names_the_version_node_and_config_version() {
    within(T, async {
        let proxy = start(None).await;
        let info = json(&admin_get(proxy.admin_addr(), "/server_info").await);
        assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(info["state"], "LIVE");
        assert_eq!(info["config_version"], 1);
        assert_eq!(
            info["node"],
            serde_json::json!({ "id": "edge-7", "cluster": "edge", "zone": "a" })
        );
        assert!(info["uptime_seconds"].as_u64().is_some());
    })
    .await;
}
