//! Request IDs across a two-proxy chain (issue 6's acceptance): client → A (the edge, client
//! untrusted) → B (trusts A through `trusted_cidrs`) → an echo backend. The ID the backend saw
//! is the one in both proxies' access logs and the one A echoes; a client cannot choose it at
//! the edge unless `preserve_external_request_id`; logs sampled by request ID log the same
//! requests at both hops.

use super::access_log::{LogDir, lines, wait_lines};
use super::routing::T;
use http::Method;
use mesh_tests::backend::Http;
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, fill};
use mesh_tests::{eventually, within};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

const FORMAT: &str = "%REQ(X-REQUEST-ID)% %RESPONSE_CODE%";

/// One proxy of the chain: listener `web` logging to `log`, forwarding everything to `next`.
fn hop(log: &str, next: SocketAddr, extra: &str) -> String {
    let yaml = format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - name: web
    address: 127.0.0.1:0
{extra}
    access_log: [ {{ path: "{log}", format: "{FORMAT}" $SAMPLING }} ]
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: next }} }} ] }} ]
clusters:
  - {{ name: next, endpoints: [ {{ address: "$NEXT" }} ] }}
"#
    );
    fill(&yaml, &[("NEXT", next)])
}

struct Chain {
    a: SocketAddr,
    a_log: String,
    b_log: String,
    _running: (mesh_proxy::Running, mesh_proxy::Running),
    _backend: Http,
    _dir: LogDir,
}

/// Starts backend, B, then A; `a_extra` is more of A's listener keys, `sampling` both logs'.
async fn chain(name: &str, a_extra: &str, sampling: &str) -> Chain {
    let dir = LogDir::new(name);
    let (a_log, b_log) = (dir.file("a.log"), dir.file("b.log"));
    let backend = Http::start("echo").await;
    let sampling = match sampling {
        "" => String::new(),
        share => format!(", sampling: \"{share}\""),
    };
    let b_yaml =
        hop(&b_log, backend.addr(), "    trusted_cidrs: [127.0.0.0/8]").replace("$SAMPLING", &sampling);
    let (b_running, b) = proxy::start_with_listener(&b_yaml, "web").await;
    let a_extra = format!("    always_set_request_id_in_response: true\n{a_extra}");
    let a_yaml = hop(&a_log, b, &a_extra).replace("$SAMPLING", &sampling);
    let (a_running, a) = proxy::start_with_listener(&a_yaml, "web").await;
    Chain {
        a,
        a_log,
        b_log,
        _running: (a_running, b_running),
        _backend: backend,
        _dir: dir,
    }
}

/// Sends a GET through the chain, with `id` as its `x-request-id` when given; returns the ID
/// the backend saw and the one A echoed.
async fn send(conn: &mut Connection, id: Option<&str>) -> (String, String) {
    let mut req = request(Method::GET, "site.test", "/who", body::empty());
    if let Some(id) = id {
        req.headers_mut().insert("x-request-id", id.parse().unwrap());
    }
    let reply = conn.send(req).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let seen = reply.received();
    assert_eq!(seen.header_all("x-request-id").len(), 1, "{:?}", seen.headers);
    let echoed = reply.header("x-request-id").expect("A echoes the ID").to_owned();
    (seen.header("x-request-id").unwrap().to_owned(), echoed)
}

fn assert_uuid_v4(id: &str) {
    let bytes = id.as_bytes();
    assert_eq!(bytes.len(), 36, "{id}");
    assert_eq!(bytes[14], b'4', "version 4: {id}");
    assert!(
        matches!(bytes[19], b'8' | b'9' | b'a' | b'b'),
        "RFC 4122 variant: {id}"
    );
}

#[tokio::test]
async fn one_id_from_the_edge_to_the_backend_and_in_both_logs() {
    within(T, async {
        let chain = chain("chain", "", "").await;
        let mut conn = Connection::http1(chain.a).await.unwrap();
        let (generated, echoed) = send(&mut conn, None).await;
        assert_uuid_v4(&generated);
        assert_eq!(echoed, generated);
        // The client's own ID is replaced at the untrusted edge; B keeps what A chose.
        let (replaced, echoed_too) = send(&mut conn, Some("client-chosen-7")).await;
        assert_uuid_v4(&replaced);
        assert_ne!(replaced, generated);
        assert_eq!(echoed_too, replaced);

        let expected = [format!("{generated} 200"), format!("{replaced} 200")];
        assert_eq!(wait_lines(&chain.a_log, 2).await, expected);
        assert_eq!(wait_lines(&chain.b_log, 2).await, expected);
    })
    .await;
}

#[tokio::test]
async fn preserve_external_request_id_keeps_the_clients_id_at_the_edge() {
    within(T, async {
        let chain = chain("preserve", "    preserve_external_request_id: true", "").await;
        let mut conn = Connection::http1(chain.a).await.unwrap();
        let (seen, echoed) = send(&mut conn, Some("client-chosen-7")).await;
        assert_eq!(
            (seen.as_str(), echoed.as_str()),
            ("client-chosen-7", "client-chosen-7")
        );
        // Unusable IDs are replaced all the same.
        let (seen, _) = send(&mut conn, Some("has space")).await;
        assert_uuid_v4(&seen);
        let expected = ["client-chosen-7 200".to_owned(), format!("{seen} 200")];
        assert_eq!(wait_lines(&chain.a_log, 2).await, expected);
        assert_eq!(wait_lines(&chain.b_log, 2).await, expected);
    })
    .await;
}

#[tokio::test]
async fn sampling_by_request_id_logs_the_same_requests_at_both_hops() {
    within(T, async {
        const REQUESTS: usize = 200;
        let chain = chain("sampling", "", "50%").await;
        let mut conn = Connection::http1(chain.a).await.unwrap();
        let mut sent = BTreeSet::new();
        for _ in 0..REQUESTS {
            sent.insert(send(&mut conn, None).await.0);
        }
        assert_eq!(sent.len(), REQUESTS, "every request has its own ID");
        // No line count to wait for: wait until both logs stop growing and agree.
        let ids = |path: &str| -> BTreeSet<String> {
            lines(path)
                .iter()
                .map(|l| l.strip_suffix(" 200").unwrap_or_else(|| panic!("{l}")).to_owned())
                .collect()
        };
        let settled = || async {
            let before = (lines(&chain.a_log).len(), lines(&chain.b_log).len());
            tokio::time::sleep(Duration::from_millis(200)).await;
            before == (lines(&chain.a_log).len(), lines(&chain.b_log).len()) && before.0 == before.1
        };
        eventually(Duration::from_secs(10), "both logs settle", settled).await;
        let (a, b) = (ids(&chain.a_log), ids(&chain.b_log));
        assert_eq!(a, b, "the hops logged different requests");
        assert!(a.is_subset(&sent));
        assert!(
            (50..=150).contains(&a.len()),
            "{} of {REQUESTS} logged at 50%",
            a.len()
        );
    })
    .await;
}
