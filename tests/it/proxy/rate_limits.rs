//! Local rate limits through the real proxy: a request without a token is answered 429 with
//! `retry-after` and never reaches the backend; the most specific bucket (route, else virtual
//! host, else listener) applies; and listeners close connections over `max_connections` or
//! `connection_rate_limit` as soon as they are accepted.

use mesh_tests::backend::{Http, TcpEcho};
use mesh_tests::client::{Connection, Reply};
use mesh_tests::proxy::{self, counter, fill};
use mesh_tests::{eventually, within};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(30);

/// `/burst` refills once a minute, so no fill can fall inside a test's burst; `/refill` once a
/// second. The `limited.test` host exercises precedence; everything else shares the listener's.
const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    local_rate_limit: { max_tokens: 1, fill_interval: 60s }
    virtual_hosts:
      - name: limited
        domains: ["limited.test"]
        local_rate_limit: { max_tokens: 2, fill_interval: 60s }
        routes:
          - { match: { prefix: "/burst" }, local_rate_limit: { max_tokens: 5, tokens_per_fill: 1, fill_interval: 60s }, route: { cluster: b1 } }
          - { match: { prefix: "/refill" }, local_rate_limit: { max_tokens: 5, tokens_per_fill: 1, fill_interval: 1s }, route: { cluster: b1 } }
          - { match: { prefix: "/own" }, local_rate_limit: { max_tokens: 3, fill_interval: 60s }, route: { cluster: b1 } }
          - { match: { prefix: "/" }, route: { cluster: b1 } }
      - name: rest
        domains: ["*"]
        routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: "direct" } } ]
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
"#;

const WEB: [(&str, &str); 1] = [("listener", "web")];

async fn statuses(conn: &mut Connection, host: &str, path: &str, n: usize) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(n);
    for _ in 0..n {
        replies.push(conn.get(host, path).await.unwrap());
    }
    replies
}

fn assert_limited(r: &Reply, max_retry_after: u64) {
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("x-mesh-response-flags"), Some("RL"));
    let after: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=max_retry_after).contains(&after), "retry-after {after}");
}

#[tokio::test]
async fn an_empty_bucket_answers_429_with_retry_after_and_refills_on_time() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (running, addr) = proxy::start_with_listener(&fill(YAML, &[("B1", b1.addr())]), "web").await;
        let mut conn = Connection::h2c(addr).await.unwrap();

        let replies = statuses(&mut conn, "limited.test", "/burst", 20).await;
        let passed = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            passed, 5,
            "the bucket starts full with max_tokens and nothing refills it"
        );
        assert!(replies[..5].iter().all(|r| r.status == 200));
        for r in &replies[5..] {
            assert_limited(r, 60);
        }
        assert_eq!(b1.requests(), 5, "limited requests never reach the backend");

        // Drain the 1 s bucket (a fill may land mid-way; the loop is bounded either way).
        let mut limited = None;
        for _ in 0..50 {
            let r = conn.get("limited.test", "/refill").await.unwrap();
            if r.status != 200 {
                limited = Some(r);
                break;
            }
        }
        let limited = limited.expect("the 1 s bucket ran dry within 50 requests");
        assert_limited(&limited, 1);
        // Waiting `retry-after` always finds the next fill done.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(conn.get("limited.test", "/refill").await.unwrap().status, 200);

        let ok = counter(running.admin_addr(), "mesh_http_local_rate_limit_ok_total", WEB).await;
        let rl = counter(
            running.admin_addr(),
            "mesh_http_local_rate_limit_rate_limited_total",
            WEB,
        )
        .await;
        assert_eq!(rl, 16, "15 from the burst, 1 from the drain");
        assert_eq!(ok as usize, b1.requests());
    })
    .await;
}

#[tokio::test]
async fn the_route_bucket_beats_the_virtual_hosts_and_that_beats_the_listeners() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let (_running, addr) = proxy::start_with_listener(&fill(YAML, &[("B1", b1.addr())]), "web").await;
        let mut conn = Connection::http1(addr).await.unwrap();
        let passed = |replies: Vec<Reply>| replies.iter().filter(|r| r.status == 200).count();

        // The route's own 3 tokens, untouched by the virtual host's 2 or the listener's 1.
        assert_eq!(passed(statuses(&mut conn, "limited.test", "/own", 6).await), 3);
        // Routes without a bucket share their virtual host's.
        assert_eq!(conn.get("limited.test", "/a").await.unwrap().status, 200);
        assert_eq!(conn.get("limited.test", "/b").await.unwrap().status, 200);
        assert_limited(&conn.get("limited.test", "/c").await.unwrap(), 60);
        // A virtual host without one uses the listener's, for direct responses too.
        let first = conn.get("other.test", "/x").await.unwrap();
        assert_eq!((first.status.as_u16(), first.text().as_str()), (200, "direct"));
        assert_limited(&conn.get("other.test", "/x").await.unwrap(), 60);
    })
    .await;
}

/// A TCP listener to the echo backend taking at most 2 connections at once.
const TCP_YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: echo, max_connections: 2 }
  - name: web
    address: 127.0.0.1:0
    connection_rate_limit: { max_tokens: 2, fill_interval: 60s }
    virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, direct_response: { status: 200 } } ] } ]
clusters:
  - { name: echo, endpoints: [ { address: "$ECHO" } ] }
"#;

/// Connects and proves the proxy serves the connection: an echo round trip.
async fn echoing(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"ping");
    Ok(stream)
}

/// Whether the proxy closed `stream` without serving it: EOF or a reset, no echo.
async fn closed_unserved(mut stream: TcpStream) -> bool {
    let _ = stream.write_all(b"ping").await;
    let mut buf = [0u8; 4];
    matches!(stream.read(&mut buf).await, Ok(0) | Err(_))
}

#[tokio::test]
async fn max_connections_closes_the_extra_connection_until_one_ends() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let (running, addr) =
            proxy::start_with_listener(&fill(TCP_YAML, &[("ECHO", echo.addr())]), "tcp").await;
        let first = echoing(addr).await.unwrap();
        let _second = echoing(addr).await.unwrap();

        let third = TcpStream::connect(addr).await.unwrap();
        assert!(
            closed_unserved(third).await,
            "a third concurrent connection was served"
        );
        let tcp = [("listener", "tcp")];
        assert_eq!(
            counter(running.admin_addr(), "mesh_listener_cx_limited_total", tcp).await,
            1
        );
        assert_eq!(
            echo.connections(),
            2,
            "the refused connection never reached the upstream"
        );

        // Once one ends its slot is free again (the session ends a moment after the close).
        drop(first);
        eventually(Duration::from_secs(10), "a slot frees up", || async {
            echoing(addr).await.is_ok()
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn connection_rate_limit_closes_connections_that_find_the_bucket_empty() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let (running, addr) =
            proxy::start_with_listener(&fill(TCP_YAML, &[("ECHO", echo.addr())]), "web").await;
        for _ in 0..2 {
            // Each served and closed: the rate counts new connections, not open ones.
            let mut conn = Connection::http1(addr).await.unwrap();
            assert_eq!(conn.get("x", "/").await.unwrap().status, 200);
        }
        let third = TcpStream::connect(addr).await.unwrap();
        assert!(
            closed_unserved(third).await,
            "a third connection within the minute was served"
        );
        let web = [("listener", "web")];
        assert_eq!(
            counter(running.admin_addr(), "mesh_listener_cx_rate_limited_total", web).await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_tcp_clusters_max_connections_breaker_closes_the_extra_session() {
    within(T, async {
        let echo = TcpEcho::start().await;
        let yaml = TCP_YAML.replace(", max_connections: 2 }", " }").replace(
            "{ name: echo, endpoints",
            "{ name: echo, circuit_breakers: { thresholds: [ { max_connections: 1 } ] }, endpoints",
        );
        let (running, addr) = proxy::start_with_listener(&fill(&yaml, &[("ECHO", echo.addr())]), "tcp").await;
        let first = echoing(addr).await.unwrap();
        let second = TcpStream::connect(addr).await.unwrap();
        assert!(
            closed_unserved(second).await,
            "a second upstream connection was made"
        );
        assert_eq!(echo.connections(), 1);
        let overflow = [("cluster", "echo")];
        let admin = running.admin_addr();
        assert_eq!(
            counter(admin, "mesh_cluster_upstream_rq_pending_overflow_total", overflow).await,
            1
        );
        drop(first);
        eventually(Duration::from_secs(10), "the slot frees up", || async {
            echoing(addr).await.is_ok()
        })
        .await;
    })
    .await;
}
