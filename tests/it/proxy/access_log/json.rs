//! `json_format`: one JSON object per line, numbers as numbers, unknown values as `null`.

use super::{LogDir, wait_lines};
use crate::proxy::routing::T;
use http::Method;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, fill};
use mesh_tests::within;
use serde_json::Value;

#[tokio::test]
async fn json_lines_parse_and_hold_the_request_the_response_and_the_hops() {
    within(T, async {
        let dir = LogDir::new("json");
        let log = dir.file("access.json");
        let b1 = Http::start("b1").await;
        let yaml = format!(
            r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
    access_log:
      - path: "{log}"
        json_format:
          id: "%REQ(X-REQUEST-ID)%"
          method: "%REQ(:METHOD)%"
          path: "%REQ(:PATH)%"
          code: "%RESPONSE_CODE%"
          flags: "%RESPONSE_FLAGS%"
          received: "%BYTES_RECEIVED%"
          sent: "%BYTES_SENT%"
          duration: "%DURATION%"
          upstream: "%UPSTREAM_HOST%"
          cluster: "%UPSTREAM_CLUSTER%"
          downstream: "%DOWNSTREAM_REMOTE_ADDRESS%"
          line: "%REQ(:METHOD)% %RESPONSE_CODE%"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - {{ match: {{ prefix: "/here" }}, direct_response: {{ status: 204 }} }}
          - {{ match: {{ prefix: "/" }}, route: {{ cluster: b1 }} }}
clusters:
  - {{ name: b1, endpoints: [ {{ address: "$B1" }} ] }}
"#
        );
        let (running, addr) = proxy::start_with_listener(&fill(&yaml, &[("B1", b1.addr())]), "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let req = request(Method::POST, "site.test", "/orders?x=1", body::full("hello"));
        let reply = conn.send(req).await.unwrap();
        assert_eq!(reply.status, 200);
        let id = reply.received().header("x-request-id").unwrap().to_owned();
        let local = conn.get("site.test", "/here").await.unwrap();
        assert_eq!(local.status, 204);

        let lines = wait_lines(&log, 2).await;
        let parsed: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let proxied = &parsed[0];
        assert_eq!(proxied["id"], id.as_str());
        assert_eq!(proxied["method"], "POST");
        assert_eq!(proxied["path"], "/orders?x=1");
        assert_eq!(proxied["code"], 200);
        assert_eq!(proxied["flags"], Value::Null);
        assert_eq!(proxied["received"], 5);
        assert_eq!(proxied["sent"], reply.body.len() as u64);
        assert!(proxied["duration"].is_u64(), "{proxied}");
        assert_eq!(proxied["upstream"], b1.addr().to_string());
        assert_eq!(proxied["cluster"], "b1");
        let downstream = proxied["downstream"].as_str().unwrap();
        assert!(downstream.starts_with("127.0.0.1:"), "{downstream}");
        assert_eq!(proxied["line"], "POST 200");

        // A direct response went to no upstream: those fields are null, not made up.
        let direct = &parsed[1];
        assert_eq!(direct["code"], 204);
        assert_eq!(direct["path"], "/here");
        assert_eq!(direct["upstream"], Value::Null);
        assert_eq!(direct["cluster"], Value::Null);
        assert_eq!(direct["received"], 0);
        assert!(
            direct["id"].as_str().is_some_and(|i| i.len() == 36 && i != id),
            "{direct}"
        );
        running.shutdown().await;
    })
    .await;
}
