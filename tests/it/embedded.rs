//! The proxyless client (`mesh_examples::balanced::BalancedClient`) against real backends: it
//! spreads requests over healthy endpoints, follows active health checks both ways, and ejects an
//! endpoint that fails every request, within `max_ejection_percent`'s strict floor.

use http_body_util::{BodyExt, Full};
use hyper::Request;
use mesh_examples::balanced::{BalancedClient, Upstream};
use mesh_tests::backend::Http;
use mesh_tests::{eventually, within};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Bound of each whole test.
const T: Duration = Duration::from_secs(30);
/// Bound of each wait for a health or ejection change (checks and sweeps run every 100 ms).
const CHANGE: Duration = Duration::from_secs(3);

/// Three backends and a client over them, every backend eligible. 50% of 3 hosts lets
/// floor(1.5) = 1 be ejected at a time; the ejection (30 s) outlasts the test.
async fn start() -> ([Http; 3], BalancedClient) {
    let b = [
        Http::start("b1").await,
        Http::start("b2").await,
        Http::start("b3").await,
    ];
    let yaml = format!(
        r#"
clusters:
  - name: embedded
    connect_timeout: 1s
    endpoints: [ {{ address: "{}" }}, {{ address: "{}" }}, {{ address: "{}" }} ]
    health_checks:
      - interval: 100ms
        timeout: 1s
        unhealthy_threshold: 2
        healthy_threshold: 2
        http_health_check: {{ path: /healthz }}
    outlier_detection:
      {{ interval: 100ms, consecutive_5xx: 5, max_ejection_percent: 50, base_ejection_time: 30s }}
"#,
        b[0].addr(),
        b[1].addr(),
        b[2].addr()
    );
    let config = mesh_core::load::from_yaml(&yaml, "embedded.yaml").unwrap();
    let client = BalancedClient::new(&config.clusters[0], Duration::from_secs(5)).unwrap();
    within(CHANGE, client.wait_for_eligible(3)).await;
    (b, client)
}

/// One GET through the client: the status and the endpoint that answered.
async fn get(client: &BalancedClient, path: &str) -> (u16, SocketAddr) {
    let request = Request::get(path).body(Full::default()).unwrap();
    let response = client.send(request).await.unwrap();
    let upstream = response.extensions().get::<Upstream>().unwrap().0;
    let status = response.status().as_u16();
    response.into_body().collect().await.unwrap();
    (status, upstream)
}

/// Sends `n` requests and asserts that each was answered 200 by one of `allowed`.
async fn all_ok_from(client: &BalancedClient, n: usize, allowed: &[SocketAddr]) {
    for i in 0..n {
        let (status, upstream) = get(client, &format!("/n/{i}")).await;
        assert_eq!(status, 200, "request {i} answered by {upstream}");
        assert!(allowed.contains(&upstream), "request {i} went to {upstream}");
    }
}

#[tokio::test]
async fn embedded_client_spreads_requests_over_healthy_backends() {
    within(T, async {
        let (b, client) = start().await;
        let all: Vec<_> = b.iter().map(Http::addr).collect();
        all_ok_from(&client, 90, &all).await;
        let counts: Vec<_> = b.iter().map(Http::requests).collect();
        assert_eq!(
            counts.iter().sum::<usize>(),
            90,
            "health checks are not counted: {counts:?}"
        );
        // About 30 each; under 10 would take a very unlucky run of random choices.
        assert!(counts.iter().all(|&c| c >= 10), "uneven spread: {counts:?}");
    })
    .await;
}

#[tokio::test]
async fn embedded_client_follows_active_health_checks() {
    within(T, async {
        let (b, client) = start().await;
        let sick = b[1].addr();
        b[1].set_health(503);
        let failed_at = Instant::now();
        eventually(CHANGE, "b2 leaves the picker", || async {
            !client.eligible().contains(&sick)
        })
        .await;
        // 2 failed checks 100 ms apart: a few intervals, not seconds.
        let took = failed_at.elapsed();
        assert!(took < Duration::from_secs(2), "b2 left after {took:?}");

        let before = b[1].requests();
        all_ok_from(&client, 45, &[b[0].addr(), b[2].addr()]).await;
        assert_eq!(b[1].requests(), before, "an unhealthy backend got requests");

        b[1].set_health(200);
        eventually(CHANGE, "b2 returns to the picker", || async {
            client.eligible().contains(&sick)
        })
        .await;
        eventually(CHANGE, "b2 gets requests again", || async {
            get(&client, "/again").await;
            b[1].requests() > before
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn embedded_client_ejects_a_backend_failing_every_request() {
    within(T, async {
        let (b, client) = start().await;
        let failing = b[0].addr();
        b[0].fail_with(500);
        let failures = Cell::new(0);
        eventually(CHANGE, "b1 is ejected", || async {
            let (status, upstream) = get(&client, "/try").await;
            if status == 500 {
                assert_eq!(upstream, failing);
                failures.set(failures.get() + 1);
            }
            !client.eligible().contains(&failing)
        })
        .await;
        // The 5th failure in a row ejects; one more may slip in while the picker is rebuilt.
        assert!(
            (5..=6).contains(&failures.get()),
            "ejected after {} failures",
            failures.get()
        );
        let ejected_with = b[0].requests();
        assert_eq!(ejected_with, failures.get());

        let rest = [b[1].addr(), b[2].addr()];
        all_ok_from(&client, 45, &rest).await;
        assert_eq!(b[0].requests(), ejected_with, "an ejected backend got requests");

        // floor(3 × 50%) = 1: a second failing backend stays in, its 500s reach the caller.
        b[1].fail_with(500);
        let mut second = 0;
        for i in 0..60 {
            let (status, upstream) = get(&client, &format!("/second/{i}")).await;
            assert_ne!(upstream, failing, "the ejected backend stays out");
            second += usize::from(status == 500);
        }
        assert!(second >= 5, "b2 failed {second} requests, enough for a run of 5");
        assert_eq!(
            client.eligible(),
            rest,
            "max_ejection_percent allows one ejection"
        );
        assert_eq!(b[0].requests(), ejected_with);
    })
    .await;
}
