//! How many attempts, when, and what each carries.

use super::*;
use std::sync::atomic::Ordering::SeqCst;

#[tokio::test(start_paused = true)]
async fn retries_503s_until_a_200() {
    let upstream = Upstream::new([Step::Status(503), Step::Status(503), Step::Status(200)]);
    let layer = RetryLayer::new(RetryPolicy {
        num_retries: 2,
        ..policy("5xx")
    });
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 200);
    let attempts: Vec<String> = upstream.seen().into_iter().map(|s| s.attempt).collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert_eq!(layer.stats().retries(), 2);
    assert_eq!(layer.stats().success_after_retry(), 1);
}

#[tokio::test(start_paused = true)]
async fn num_retries_bounds_the_attempts_and_the_last_response_is_returned() {
    let upstream = Upstream::new([Step::Status(503), Step::Status(502), Step::Status(200)]);
    let layer = RetryLayer::new(policy("5xx"));
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 502, "default num_retries is 1");
    assert_eq!(upstream.attempts(), 2);
    assert_eq!(layer.stats().success_after_retry(), 0);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_retried_without_retry_on() {
    let upstream = Upstream::new([Step::Status(503)]);
    let response = send(&RetryLayer::new(RetryPolicy::default()), &upstream, get())
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(upstream.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_are_full_jitter_within_the_ceiling() {
    let backoff = Backoff::new(Duration::from_millis(100), Some(Duration::from_millis(500))).unwrap();
    for _ in 0..20 {
        let upstream = Upstream::new(vec![Step::Status(503); 5]);
        let layer = RetryLayer::new(RetryPolicy {
            num_retries: 4,
            backoff,
            ..policy("5xx")
        });
        send(&layer, &upstream, get()).await.unwrap();
        let seen = upstream.seen();
        assert_eq!(seen.len(), 5);
        for (n, pair) in (1u32..).zip(seen.windows(2)) {
            let wait = pair[1].at - pair[0].at;
            // The timer rounds a wait up to whole milliseconds, so a draw just under the
            // ceiling is seen at it; `props` checks the draws themselves are below it.
            let ceiling = Duration::from_millis(100 * 2u64.pow(n)).min(backoff.max());
            assert!(wait <= ceiling, "retry {n} waited {wait:?}, ceiling {ceiling:?}");
            assert!(wait <= backoff.ceiling(n));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_per_try_timeout_is_retried_under_5xx_only() {
    let slow_then_fast = || Upstream::new([Step::Slow(Duration::from_secs(10), 200)]);
    let per_try = |retry_on| RetryPolicy {
        per_try_timeout: Some(Duration::from_secs(1)),
        ..policy(retry_on)
    };

    let upstream = slow_then_fast();
    let start = Instant::now();
    let layer = RetryLayer::new(per_try("5xx"));
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.attempts(), 2);
    assert_eq!(layer.stats().per_try_timeouts(), 1, "the first try, cut at 1s");
    assert!(start.elapsed() >= Duration::from_secs(1) && start.elapsed() < Duration::from_secs(2));

    let upstream = slow_then_fast();
    let layer = RetryLayer::new(per_try("connect-failure"));
    let error = send(&layer, &upstream, get()).await.unwrap_err();
    assert_eq!(layer.stats().per_try_timeouts(), 1);
    assert_eq!(
        error.downcast_ref::<PerTryTimeout>(),
        Some(&PerTryTimeout {
            after: Duration::from_secs(1)
        })
    );
    assert_eq!(upstream.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_up_to_its_cap() {
    let wait = |cap: Option<Duration>| async move {
        let upstream = Upstream::new([Step::With(503, "retry-after", "3")]);
        let layer = RetryLayer::new(RetryPolicy {
            retry_after: cap,
            ..policy("5xx")
        });
        assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 200);
        let seen = upstream.seen();
        seen[1].at - seen[0].at
    };
    assert_eq!(
        wait(Some(RetryPolicy::DEFAULT_RETRY_AFTER_CAP)).await,
        Duration::from_secs(3)
    );
    // `<=`: the timer rounds waits up to whole milliseconds.
    assert!(wait(None).await <= Backoff::DEFAULT_BASE, "ignored when off");
    assert!(
        wait(Some(Duration::from_secs(2))).await <= Backoff::DEFAULT_BASE,
        "ignored over the cap"
    );
}

#[tokio::test(start_paused = true)]
async fn previous_hosts_accumulate_the_hosts_tried() {
    let upstream = Upstream::new([Step::Status(503), Step::Status(503)]);
    let layer = RetryLayer::new(RetryPolicy {
        num_retries: 2,
        avoid_previous_hosts: true,
        ..policy("5xx")
    });
    send(&layer, &upstream, get()).await.unwrap();
    let host = |n| SocketAddr::from(([10, 0, 0, n], 80));
    let previous: Vec<_> = upstream.seen().into_iter().map(|s| s.previous.unwrap()).collect();
    assert_eq!(previous, [vec![], vec![host(1)], vec![host(1), host(2)]]);

    let upstream = Upstream::new([Step::Status(503)]);
    send(&RetryLayer::new(policy("5xx")), &upstream, get())
        .await
        .unwrap();
    assert!(
        upstream.seen().iter().all(|s| s.previous.is_none()),
        "off by default"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refusing_circuit_breaker_stops_retries() {
    let breaker = Arc::new(Breaker::default());
    let layer = RetryLayer::new(policy("5xx")).with_admission(breaker.clone());
    let upstream = Upstream::new([Step::Status(503)]);
    assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 503);
    assert_eq!(upstream.attempts(), 1);
    assert_eq!(layer.stats().overflow(), 1);
    assert_eq!(layer.stats().retries(), 0);
    assert_eq!(
        breaker.ended.load(SeqCst),
        0,
        "nothing taken, nothing to give back"
    );
}

#[tokio::test(start_paused = true)]
async fn an_admitted_retry_gives_its_slot_back() {
    let breaker = Arc::new(Breaker::default());
    breaker.admit.store(true, SeqCst);
    let layer = RetryLayer::new(RetryPolicy {
        num_retries: 3,
        ..policy("5xx")
    })
    .with_admission(breaker.clone());
    let upstream = Upstream::new([Step::Status(503), Step::Status(503)]);
    assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 200);
    assert_eq!(breaker.begun.load(SeqCst), 2);
    assert_eq!(breaker.ended.load(SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_request_dropped_during_backoff_gives_its_slot_back() {
    let breaker = Arc::new(Breaker::default());
    breaker.admit.store(true, SeqCst);
    let layer = RetryLayer::new(RetryPolicy {
        retry_after: Some(Duration::from_secs(60)),
        ..policy("5xx")
    })
    .with_admission(breaker.clone());
    let upstream = Upstream::new([Step::With(503, "retry-after", "5")]);
    // Stands in for the route timeout, which sits outside the retry layer.
    let outcome = tokio::time::timeout(Duration::from_secs(1), send(&layer, &upstream, get())).await;
    assert!(outcome.is_err());
    assert_eq!((breaker.begun.load(SeqCst), breaker.ended.load(SeqCst)), (1, 1));
}

/// Readiness that belongs to one instance, as a concurrency permit does: a clone starts
/// without it, `poll_ready` reserves it, `call` spends it (and fails without it).
#[derive(Debug, Default)]
struct PerInstance {
    ready: bool,
    reserved: Arc<std::sync::atomic::AtomicU32>,
    calls: Arc<std::sync::atomic::AtomicU32>,
}

impl Clone for PerInstance {
    fn clone(&self) -> Self {
        PerInstance {
            ready: false,
            reserved: self.reserved.clone(),
            calls: self.calls.clone(),
        }
    }
}

impl Service<http::Request<ReplayBody<Body>>> for PerInstance {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = std::future::Ready<Result<http::Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        if !std::mem::replace(&mut self.ready, true) {
            self.reserved.fetch_add(1, SeqCst);
        }
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<ReplayBody<Body>>) -> Self::Future {
        let was_ready = std::mem::take(&mut self.ready);
        let status = if self.calls.fetch_add(1, SeqCst) == 0 {
            503
        } else {
            200
        };
        std::future::ready(match was_ready {
            true => Ok(http::Response::builder().status(status).body(empty()).unwrap()),
            false => Err("called without poll_ready".into()),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_attempt_spends_what_poll_ready_reserved() {
    let service = PerInstance::default();
    let (reserved, calls) = (service.reserved.clone(), service.calls.clone());
    let response = RetryLayer::new(policy("5xx"))
        .layer(service)
        .oneshot(get())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(reserved.load(SeqCst), 2, "no reservation left idle");
}
