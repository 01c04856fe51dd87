//! `hedge_on_per_try_timeout`: a slow attempt gets company instead of being cancelled.

use super::*;

fn hedged(num_retries: u32) -> RetryLayer {
    RetryLayer::new(RetryPolicy {
        num_retries,
        per_try_timeout: Some(Duration::from_secs(1)),
        hedge_on_per_try_timeout: true,
        ..policy("5xx")
    })
}

const SLOW: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn the_hedge_answers_first() {
    let upstream = Upstream::new([Step::Slow(SLOW, 201), Step::Status(200)]);
    let layer = hedged(1);
    let start = Instant::now();
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(upstream.seen()[1].attempt, "2");
    assert_eq!(
        (layer.stats().retries(), layer.stats().success_after_retry()),
        (1, 1)
    );
    assert_eq!(
        layer.stats().per_try_timeouts(),
        0,
        "a hedged try goes on: no timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn the_first_attempt_can_still_win() {
    let upstream = Upstream::new([
        Step::Slow(Duration::from_millis(1500), 201),
        Step::Slow(SLOW, 200),
    ]);
    let layer = hedged(1);
    let start = Instant::now();
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
    assert_eq!(upstream.attempts(), 2, "the hedge was sent, then dropped");
    assert_eq!(layer.stats().success_after_retry(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failure_waits_for_the_attempt_still_in_flight() {
    let upstream = Upstream::new([
        Step::Slow(Duration::from_secs(2), 503),
        Step::Slow(Duration::from_secs(3), 200),
    ]);
    let start = Instant::now();
    let response = send(&hedged(1), &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(start.elapsed() >= Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn when_all_fail_the_last_failure_is_returned() {
    let upstream = Upstream::new([Step::Slow(Duration::from_secs(2), 503), Step::Status(502)]);
    let start = Instant::now();
    let response = send(&hedged(1), &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn hedges_respect_num_retries() {
    let upstream = Upstream::new([
        Step::Slow(SLOW, 201),
        Step::Slow(SLOW, 202),
        Step::Slow(SLOW, 203),
    ]);
    let layer = hedged(2);
    let start = Instant::now();
    let response = send(&layer, &upstream, get()).await.unwrap();
    assert_eq!(response.status(), 201, "the first attempt finishes first");
    assert_eq!(start.elapsed(), SLOW);
    assert_eq!(upstream.attempts(), 3);
    assert_eq!(layer.stats().retries(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_still_uploading_is_not_hedged() {
    use futures_util::StreamExt as _;
    use http_body::Body as _;
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    let calls = Arc::new(AtomicU32::new(0));
    let upstream = tower::service_fn({
        let calls = calls.clone();
        move |req: http::Request<ReplayBody<Body>>| {
            calls.fetch_add(1, SeqCst);
            async move {
                let mut body = req.into_body();
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
                std::future::pending::<Result<http::Response<Body>, BoxError>>().await
            }
        }
    });
    let first = futures_util::stream::iter([Ok(http_body::Frame::data(Bytes::from("part")))]);
    let upload = BodyExt::boxed(StreamBody::new(first.chain(futures_util::stream::pending())));
    let retry = hedged(3).layer(upstream);
    let request = http::Request::post("/").body(upload).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), retry.oneshot(request)).await;
    assert!(outcome.is_err(), "still waiting for the only attempt");
    assert_eq!(calls.load(SeqCst), 1);
}
