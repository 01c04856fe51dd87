//! Access logs across reloads: a log whose path stays keeps its writer (nothing reopened, no
//! line lost), a changed format applies to requests that start after the reload, and listeners
//! logging to one path share it.

use super::{LogDir, lines, wait_lines};
use crate::proxy::routing::T;
use mesh_tests::backend::Http;
use mesh_tests::client::Connection;
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;

fn yaml(log: &str, format: &str) -> String {
    format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: one
    address: 127.0.0.1:0
    access_log: [ {{ path: "{log}", format: "one {format}" }} ]
    virtual_hosts: &hosts [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: b1 }} }} ] }} ]
  - name: two
    address: 127.0.0.1:0
    access_log: [ {{ path: "{log}", format: "two {format}" }} ]
    virtual_hosts: *hosts
clusters:
  - {{ name: b1, endpoints: [ {{ address: "$B1" }} ] }}
"#
    )
}

#[tokio::test]
async fn a_reload_changes_the_format_of_new_lines_and_keeps_the_file() {
    within(T, async {
        let dir = LogDir::new("reload");
        let log = dir.file("shared.log");
        let b1 = Http::start("b1").await;
        let vars = [("B1", b1.addr())];
        let running = proxy::start(&fill(&yaml(&log, "v1 %REQ(:PATH)%"), &vars)).await;
        let (one, two) = (
            running.listener_addr("one").unwrap(),
            running.listener_addr("two").unwrap(),
        );
        // One keep-alive connection across the reload: its next request follows the reload.
        let mut kept = Connection::http1(one).await.unwrap();
        assert_eq!(kept.get("site.test", "/a").await.unwrap().status, 200);
        assert_eq!(
            mesh_tests::client::get(two, "site.test", "/b")
                .await
                .unwrap()
                .status,
            200
        );
        assert_eq!(wait_lines(&log, 2).await, ["one v1 /a", "two v1 /b"]);

        let next = mesh_core::load::from_yaml(
            &fill(&yaml(&log, "v2 %RESPONSE_CODE% %REQ(:PATH)%"), &vars),
            "r.yaml",
        );
        running.reload(&next.unwrap()).await.unwrap();
        assert_eq!(kept.get("site.test", "/c").await.unwrap().status, 200);
        assert_eq!(
            mesh_tests::client::get(two, "site.test", "/d")
                .await
                .unwrap()
                .status,
            200
        );
        let expected = ["one v1 /a", "two v1 /b", "one v2 200 /c", "two v2 200 /d"];
        assert_eq!(wait_lines(&log, 4).await, expected);

        // A reload that leaves the logs as they are keeps their writer: moved aside (as a log
        // rotation would), the file goes on receiving lines and nothing reopens the path.
        let moved = dir.file("moved.log");
        std::fs::rename(&log, &moved).unwrap();
        running.reload(&next_same(&log, &vars)).await.unwrap();
        assert_eq!(kept.get("site.test", "/e").await.unwrap().status, 200);
        assert_eq!(wait_lines(&moved, 5).await[4], "one v2 200 /e");
        assert_eq!(lines(&moved)[..4], expected);
        assert!(
            !std::path::Path::new(&log).exists(),
            "the reload reopened the log"
        );
        running.shutdown().await;
    })
    .await;
}

fn next_same(log: &str, vars: &[(&str, std::net::SocketAddr)]) -> mesh_core::policy::Bootstrap {
    let text = fill(&yaml(log, "v2 %RESPONSE_CODE% %REQ(:PATH)%"), vars);
    mesh_core::load::from_yaml(&text, "r.yaml").unwrap()
}

/// A log file that cannot be opened refuses the reload; the configuration in force logs on.
#[tokio::test]
async fn an_unopenable_log_refuses_the_reload() {
    within(T, async {
        let dir = LogDir::new("refused");
        let log = dir.file("kept.log");
        let b1 = Http::start("b1").await;
        let vars = [("B1", b1.addr())];
        let running = proxy::start(&fill(&yaml(&log, "%REQ(:PATH)%"), &vars)).await;
        let one = running.listener_addr("one").unwrap();
        let unopenable = dir.file("no/such/dir/x.log");
        let next = mesh_core::load::from_yaml(&fill(&yaml(&unopenable, "%REQ(:PATH)%"), &vars), "r.yaml");
        let refused = running.reload(&next.unwrap()).await.unwrap_err().to_string();
        assert!(
            refused.contains("access log") && refused.contains("no/such/dir/x.log"),
            "{refused}"
        );
        assert_eq!(
            mesh_tests::client::get(one, "site.test", "/still")
                .await
                .unwrap()
                .status,
            200
        );
        assert_eq!(wait_lines(&log, 1).await, ["one /still"]);
        running.shutdown().await;
    })
    .await;
}
