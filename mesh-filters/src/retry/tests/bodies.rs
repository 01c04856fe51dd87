//! Request bodies sent again, or not.

use super::*;
use crate::retry::body::Recording;
use http_body::Body as _;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

fn post(body: Body) -> http::Request<Body> {
    http::Request::post("/").body(body).unwrap()
}

fn limited(limit: usize) -> RetryLayer {
    RetryLayer::new(RetryPolicy {
        buffer_limit: limit,
        ..policy("5xx,connect-failure")
    })
}

#[tokio::test(start_paused = true)]
async fn a_post_within_the_limit_is_retried_with_the_same_bytes() {
    let upstream = Upstream::new([Step::Status(503)]);
    let response = send(&limited(64), &upstream, post(streaming(&["hello ", "wor", "ld"])))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bodies: Vec<Bytes> = upstream.seen().into_iter().map(|s| s.body).collect();
    assert_eq!(bodies, ["hello world", "hello world"]);
}

#[tokio::test(start_paused = true)]
async fn an_oversized_streaming_body_is_sent_once() {
    let upstream = Upstream::new([Step::Status(503)]);
    let response = send(&limited(8), &upstream, post(streaming(&["hello ", "world"])))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let bodies: Vec<Bytes> = upstream.seen().into_iter().map(|s| s.body).collect();
    assert_eq!(bodies, ["hello world"], "the first attempt still gets all of it");
}

#[tokio::test(start_paused = true)]
async fn a_declared_length_over_the_limit_is_sent_once() {
    let upstream = Upstream::new([Step::Status(503)]);
    let response = send(&limited(8), &upstream, post(full("0123456789")))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(upstream.seen()[0].body, "0123456789");
}

#[tokio::test(start_paused = true)]
async fn a_body_never_read_by_a_failed_attempt_is_sent_by_the_retry() {
    let calls = Arc::new(AtomicU32::new(0));
    let upstream = tower::service_fn({
        let calls = calls.clone();
        move |req: http::Request<ReplayBody<Body>>| {
            let first = calls.fetch_add(1, SeqCst) == 0;
            async move {
                if first {
                    // A connect failure: the body is dropped unread.
                    return Err(BoxError::from(std::io::Error::from(
                        std::io::ErrorKind::ConnectionRefused,
                    )));
                }
                let body = req.into_body().collect().await?.to_bytes();
                Ok(http::Response::new(body))
            }
        }
    });
    let retry = limited(64).layer(upstream);
    let response = retry.oneshot(post(streaming(&["abc", "def"]))).await.unwrap();
    assert_eq!(response.into_body(), "abcdef");
    assert_eq!(calls.load(SeqCst), 2);
}

fn with_trailers() -> Body {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames = vec![
        Ok::<_, BoxError>(http_body::Frame::data(Bytes::from("ab"))),
        Ok(http_body::Frame::data(Bytes::from("c"))),
        Ok(http_body::Frame::trailers(trailers)),
    ];
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

#[tokio::test]
async fn a_replay_repeats_data_and_trailers() {
    let recording = Recording::new(with_trailers(), 64);
    let first = recording.body().collect().await.unwrap();
    let replay = recording.body();
    assert_eq!(replay.size_hint().exact(), Some(3));
    let second = replay.collect().await.unwrap();
    assert_eq!(first.trailers(), second.trailers());
    assert!(second.trailers().is_some());
    assert_eq!(
        (first.to_bytes(), second.to_bytes()),
        (Bytes::from("abc"), Bytes::from("abc"))
    );
}

#[tokio::test]
async fn a_half_read_original_is_handed_to_the_next_attempt() {
    let recording = Recording::new(with_trailers(), 64);
    let mut first = recording.body();
    let frame = first.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "ab");
    assert!(
        !recording.can_replay(false),
        "the first attempt still holds the original"
    );
    drop(first);
    assert!(recording.can_replay(false));
    assert!(!recording.can_replay(true), "a hedge needs the whole copy");
    let second = recording.body().collect().await.unwrap();
    assert_eq!(second.to_bytes(), "abc");
    assert!(recording.can_replay(true));
}

#[tokio::test]
async fn a_body_polled_while_another_holds_the_original_fails_cleanly() {
    let recording = Recording::new(with_trailers(), 64);
    let mut first = recording.body();
    first.frame().await.unwrap().unwrap();
    let mut late = recording.body();
    assert_eq!(late.frame().await.unwrap().unwrap().into_data().unwrap(), "ab");
    let error = late.frame().await.unwrap().unwrap_err();
    assert!(
        matches!(error, ReplayBodyError::Replay(ReplayError::BodyInUse)),
        "{error}"
    );
}

#[tokio::test]
async fn an_overflowed_copy_is_not_replayed() {
    let recording = Recording::new(streaming(&["ab", "cd"]), 3);
    assert_eq!(recording.body().collect().await.unwrap().to_bytes(), "abcd");
    assert!(!recording.can_replay(false));
    let error = BoxError::from(recording.body().frame().await.unwrap().unwrap_err());
    assert_eq!(
        error.downcast_ref::<ReplayError>(),
        Some(&ReplayError::Overflowed)
    );
}

#[tokio::test]
async fn an_empty_body_is_trivially_replayable() {
    let recording = Recording::new(empty(), 0);
    for _ in 0..3 {
        let body = recording.body();
        assert!(body.is_end_stream(), "hyper sends no body for it");
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(body.collect().await.unwrap().to_bytes().is_empty());
        assert!(recording.can_replay(true));
    }
}

#[tokio::test]
async fn the_first_attempt_reports_the_original_length() {
    let recording = Recording::new(full("0123456789"), 64);
    let body = recording.body();
    assert!(!body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(10));
}
