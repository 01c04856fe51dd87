//! The proxy's failure replies as typed errors, each with the proxy's status and flags; a
//! stuck proxy cut by the local deadline; a dead one reported as unreachable.

use super::{T, Upstream, egress};
use mesh_client::{CallOptions, Error, ErrorKind, MeshClient, TimeoutCause};
use mesh_tests::backend::Http;
use mesh_tests::proxy::counter;
use mesh_tests::{AbortOnDrop, closed_port, eventually, within};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[tokio::test]
async fn the_default_timeout_fires_when_the_backend_hangs_and_a_call_can_lift_it() {
    within(T, async {
        let backend = Http::start("backend").await;
        backend.slow(Duration::from_secs(20));
        let upstreams = [Upstream {
            name: "backend",
            endpoints: &[backend.addr()],
            extra: "",
        }];
        let client = MeshClient::builder().timeout(Duration::from_millis(300));
        let (proxy, client) = egress(&upstreams, client).await;

        let started = Instant::now();
        let err = client.get("backend", "/hangs").await.unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(
            matches!(
                &err,
                Error::Timeout {
                    cause: TimeoutCause::Proxy(_),
                    ..
                }
            ),
            "the proxy's timeout, not the local deadline: {err}"
        );
        assert_eq!(err.status().map(|s| s.as_u16()), Some(504));
        assert_eq!(err.flags(), Some("UT"));
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        let timeouts = counter(
            proxy.admin_addr(),
            "mesh_cluster_upstream_rq_timeout_total",
            [("cluster", "backend")],
        );
        assert_eq!(timeouts.await, 1, "the proxy counted the timeout");

        // The same client, one call allowed longer than the client's 300 ms.
        backend.slow(Duration::from_millis(800));
        let opts = CallOptions::new().timeout(Duration::from_secs(10));
        let req = http::Request::get("/slow-but-allowed")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let reply = client
            .request_with("backend", req, &opts)
            .await
            .expect("within the call's timeout");
        assert_eq!(reply.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn a_stuck_proxy_is_cut_by_the_local_deadline() {
    within(T, async {
        // Accepts connections and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _hole = AbortOnDrop(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        }));
        let client = MeshClient::builder()
            .egress(addr.to_string())
            .timeout(Duration::from_millis(200))
            .deadline_grace(Duration::from_millis(300))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client.get("backend", "/").await.unwrap_err();
        let elapsed = started.elapsed();
        match &err {
            Error::Timeout {
                cause: TimeoutCause::LocalDeadline(d),
                ..
            } => assert_eq!(*d, Duration::from_millis(500)),
            other => panic!("expected the local deadline, got {other}"),
        }
        assert!(elapsed >= Duration::from_millis(450), "fired early: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "fired late: {elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn overload_no_healthy_upstream_connect_failure_and_no_route_are_typed() {
    within(T, async {
        let busy = Http::start("busy").await;
        busy.slow(Duration::from_secs(20));
        let closed = closed_port();
        let upstreams = [
            Upstream {
                name: "busy",
                endpoints: &[busy.addr()],
                extra: "circuit_breakers: { thresholds: [ { max_requests: 1 } ] }",
            },
            Upstream {
                name: "empty",
                endpoints: &[],
                extra: "",
            },
            Upstream {
                name: "closed",
                endpoints: &[closed],
                extra: "connect_timeout: 2s",
            },
        ];
        let (proxy, client) = egress(&upstreams, MeshClient::builder()).await;

        // One call holds the only request slot of `busy`'s circuit breaker.
        let holder = client.clone();
        let _hold = AbortOnDrop(tokio::spawn(async move {
            let _ = holder.get("busy", "/hold").await;
        }));
        eventually(Duration::from_secs(10), "the first call reached busy", || async {
            busy.requests() == 1
        })
        .await;
        let started = Instant::now();
        let err = client.get("busy", "/second").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Overloaded, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
        assert!(
            err.flags().is_some_and(|f| f.split(',').any(|f| f == "UO")),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "overflow fails at once"
        );
        assert_eq!(busy.requests(), 1, "the overflowing call never reached busy");

        let err = client.get("empty", "/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoHealthyUpstream, "{err}");
        assert_eq!(
            (err.status().map(|s| s.as_u16()), err.flags()),
            (Some(503), Some("UH"))
        );

        let err = client.get("closed", "/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectFailure, "{err}");
        assert!(err.flags().is_some_and(|f| f.starts_with("UF")), "{err}");
        let connect_fails = counter(
            proxy.admin_addr(),
            "mesh_cluster_upstream_cx_connect_fail_total",
            [("cluster", "closed")],
        );
        assert_eq!(connect_fails.await, 3, "one try and the default two retries");

        let err = client.get("nowhere", "/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoRoute, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    })
    .await;
}

#[tokio::test]
async fn a_dead_proxy_is_unreachable() {
    within(T, async {
        let egress = closed_port();
        let client = MeshClient::builder().egress(egress.to_string()).build().unwrap();
        let err = client.get("backend", "/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProxyUnreachable, "{err}");
        assert!(
            err.to_string().contains(&egress.to_string()),
            "names the egress: {err}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_cluster_whose_hosts_all_fail_health_checks_has_no_healthy_upstream() {
    within(T, async {
        let sick = Http::start("sick").await;
        sick.set_health(503);
        let upstreams = [Upstream {
            name: "sick",
            endpoints: &[sick.addr()],
            // No panic routing: with every host failing, the proxy must refuse, not spray.
            extra: "common_lb_config: { healthy_panic_threshold: 0 }, health_checks: [ { interval: 100ms, \
                    timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: /healthz } } ]",
        }];
        let (proxy, client) = egress(&upstreams, MeshClient::builder()).await;
        let admin = proxy.admin_addr();
        eventually(Duration::from_secs(10), "the host failed its health check", || async {
            counter(admin, "mesh_cluster_health_check_failure_total", [("cluster", "sick")]).await >= 1
                && counter(admin, "mesh_cluster_membership_healthy", [("cluster", "sick")]).await == 0
        })
        .await;
        let served = sick.requests();
        let err = client.get("sick", "/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoHealthyUpstream, "{err}");
        assert_eq!(err.flags(), Some("UH"));
        assert_eq!(sick.requests(), served, "the failing host got no traffic");
    })
    .await;
}
