//! Fault injection through the real proxy: aborts answered by the proxy at the configured
//! share, gRPC aborts as trailers-only replies, delays before forwarding, and header-controlled
//! faults honoured only from a listener's trusted peers.

use mesh_tests::backend::grpc::{EchoClient, raw};
use mesh_tests::backend::{Grpc, Http};
use mesh_tests::client::{Connection, body, request};
use mesh_tests::proxy::{self, counter, fill};
use mesh_tests::within;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(60);

const YAML: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    virtual_hosts: [ { name: all, domains: ["*"], routes: &routes [
      { match: { prefix: "/half" }, fault: { abort: { http_status: 503, percentage: 50 } }, route: { cluster: b1 } },
      { match: { prefix: "/slow-abort" }, fault: { delay: { fixed_delay: 200ms }, abort: { http_status: 500 } }, route: { cluster: b1 } },
      { match: { prefix: "/slow" }, fault: { delay: { fixed_delay: 300ms } }, route: { cluster: b1 } },
      { match: { prefix: "/asked" }, fault: { header_control: true }, route: { cluster: b1 } },
      { match: { prefix: "/mesh.test.Echo/" }, fault: { abort: { grpc_status: 14 } }, route: { cluster: grpc } },
      { match: { prefix: "/" }, route: { cluster: b1 } } ] } ]
  - name: egress
    address: 127.0.0.1:0
    trusted_cidrs: ["127.0.0.0/8"]
    virtual_hosts: [ { name: all, domains: ["*"], routes: *routes } ]
clusters:
  - { name: b1, endpoints: [ { address: "$B1" } ] }
  - { name: grpc, protocol: http2, endpoints: [ { address: "$G1" } ] }
"#;

struct Setup {
    running: mesh_proxy::Running,
    b1: Http,
    grpc: Grpc,
}

async fn setup() -> Setup {
    let b1 = Http::start("b1").await;
    let grpc = Grpc::start("g1").await;
    let yaml = fill(YAML, &[("B1", b1.addr()), ("G1", grpc.addr())]);
    let running = proxy::start(&yaml).await;
    Setup { running, b1, grpc }
}

impl Setup {
    async fn conn(&self, listener: &str) -> Connection {
        Connection::h2c(self.running.listener_addr(listener).unwrap())
            .await
            .unwrap()
    }

    async fn counter(&self, name: &str, listener: &str) -> u64 {
        counter(self.running.admin_addr(), name, [("listener", listener)]).await
    }
}

#[tokio::test]
async fn half_of_the_requests_are_aborted_within_five_sigma() {
    within(T, async {
        let s = setup().await;
        let mut conn = s.conn("edge").await;
        const N: usize = 400;
        let mut aborted = 0;
        for _ in 0..N {
            let r = conn.get("site.test", "/half").await.unwrap();
            match r.status.as_u16() {
                200 => {}
                503 => {
                    assert_eq!(r.header("x-mesh-response-flags"), Some("FI"));
                    assert_eq!(r.text(), "fault filter abort");
                    aborted += 1;
                }
                other => panic!("unexpected {other}: {}", r.text()),
            }
        }
        // Binomial(400, 0.5): σ = 10, so 5σ is ±50 (fails by chance about once in 2 million).
        assert!((150..=250).contains(&aborted), "{aborted} of {N} aborted");
        assert_eq!(
            s.b1.requests(),
            N - aborted,
            "aborted requests never reach the backend"
        );
        let injected = s.counter("mesh_http_fault_aborts_injected_total", "edge").await;
        assert_eq!(injected as usize, aborted);
    })
    .await;
}

#[tokio::test]
async fn a_grpc_abort_is_a_trailers_only_reply() {
    within(T, async {
        let s = setup().await;
        let client = EchoClient::connect(s.running.listener_addr("edge").unwrap())
            .await
            .unwrap();
        let status = client.unary("hello").await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert_eq!(status.message(), "fault filter abort");

        let mut conn = s.conn("edge").await;
        let r = conn
            .send(raw::request("g", "Unary", raw::frame("x")))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/grpc"));
        assert_eq!(r.header("grpc-status"), Some("14"));
        assert_eq!(r.header("x-mesh-response-flags"), Some("FI"));
        assert!(
            r.body.is_empty() && r.trailers.is_none(),
            "headers end the stream"
        );
        assert_eq!(s.grpc.calls(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_delay_holds_the_request_then_forwards_or_aborts_it() {
    within(T, async {
        let s = setup().await;
        let mut conn = s.conn("edge").await;

        let started = Instant::now();
        let r = conn.get("site.test", "/slow").await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.received().path, "/slow");

        let started = Instant::now();
        let r = conn.get("site.test", "/slow-abort").await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.status, 500);
        assert_eq!(r.header("x-mesh-response-flags"), Some("DI,FI"));

        assert_eq!(s.b1.requests(), 1);
        assert_eq!(
            s.counter("mesh_http_fault_delays_injected_total", "edge").await,
            2
        );
        assert_eq!(
            s.counter("mesh_http_fault_aborts_injected_total", "edge").await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn header_controlled_faults_apply_only_from_trusted_peers() {
    within(T, async {
        let s = setup().await;
        let asking = || {
            let mut req = request(http::Method::GET, "site.test", "/asked", body::empty());
            let h = req.headers_mut();
            h.insert("x-mesh-fault-abort-request", "418".parse().unwrap());
            req
        };
        let delaying = || {
            let mut req = request(http::Method::GET, "site.test", "/asked", body::empty());
            req.headers_mut()
                .insert("x-mesh-fault-delay-request", "200".parse().unwrap());
            req
        };

        // The edge listener trusts no one: the headers are gone before the route sees them.
        let mut edge = s.conn("edge").await;
        for _ in 0..5 {
            let r = edge.send(asking()).await.unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(r.received().headers.keys().all(|k| !k.starts_with("x-mesh-")));
            assert_eq!(edge.send(delaying()).await.unwrap().status, 200);
        }
        assert_eq!(
            s.counter("mesh_http_fault_aborts_injected_total", "edge").await,
            0
        );
        assert_eq!(
            s.counter("mesh_http_fault_delays_injected_total", "edge").await,
            0
        );

        // The egress listener trusts loopback peers, so they choose the fault.
        let mut egress = s.conn("egress").await;
        let r = egress.send(asking()).await.unwrap();
        assert_eq!(r.status, 418);
        assert_eq!(r.header("x-mesh-response-flags"), Some("FI"));
        let started = Instant::now();
        assert_eq!(egress.send(delaying()).await.unwrap().status, 200);
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
        // Without the headers, a header-controlled route injects nothing.
        assert_eq!(egress.get("site.test", "/asked").await.unwrap().status, 200);
        assert_eq!(
            s.counter("mesh_http_fault_aborts_injected_total", "egress").await,
            1
        );
        assert_eq!(
            s.counter("mesh_http_fault_delays_injected_total", "egress").await,
            1
        );
    })
    .await;
}
