//! `retry_on`: what is retried and what is not.

use super::*;
use std::io::ErrorKind;

/// Attempts made for one request whose first attempt does `first` (then 200s).
async fn attempts(retry_on: &str, first: Step) -> usize {
    let upstream = Upstream::new([first]);
    let _ = send(&RetryLayer::new(policy(retry_on)), &upstream, get()).await;
    upstream.attempts()
}

#[tokio::test(start_paused = true)]
async fn four_xx_is_retried_only_for_409_under_retriable_4xx() {
    assert_eq!(attempts("5xx,gateway-error,reset", Step::Status(409)).await, 1);
    assert_eq!(attempts("retriable-4xx", Step::Status(409)).await, 2);
    assert_eq!(attempts("retriable-4xx", Step::Status(404)).await, 1);
    assert_eq!(attempts("retriable-4xx", Step::Status(429)).await, 1);
}

#[tokio::test(start_paused = true)]
async fn status_classes() {
    assert_eq!(attempts("5xx", Step::Status(500)).await, 2);
    assert_eq!(attempts("gateway-error", Step::Status(500)).await, 1);
    assert_eq!(attempts("gateway-error", Step::Status(504)).await, 2);
    assert_eq!(
        attempts("retriable-status-codes", Step::Status(418)).await,
        1,
        "empty list"
    );
    let upstream = Upstream::new([Step::Status(418)]);
    let layer = RetryLayer::new(RetryPolicy {
        retriable_status_codes: vec![418],
        ..policy("retriable-status-codes")
    });
    assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn connect_failures_and_resets() {
    assert_eq!(
        attempts("connect-failure", Step::Io(ErrorKind::ConnectionRefused)).await,
        2
    );
    assert_eq!(
        attempts("connect-failure", Step::Io(ErrorKind::ConnectionReset)).await,
        1
    );
    assert_eq!(attempts("reset", Step::Io(ErrorKind::ConnectionReset)).await, 2);
    assert_eq!(attempts("reset", Step::Io(ErrorKind::ConnectionRefused)).await, 2);
    assert_eq!(
        attempts("gateway-error", Step::Io(ErrorKind::ConnectionRefused)).await,
        2
    );
    assert_eq!(
        attempts("5xx", Step::Io(ErrorKind::InvalidData)).await,
        1,
        "not a reset"
    );
    assert_eq!(
        attempts("retriable-4xx", Step::Io(ErrorKind::ConnectionRefused)).await,
        1
    );
}

#[tokio::test(start_paused = true)]
async fn the_last_error_is_returned_unchanged() {
    let upstream = Upstream::new([
        Step::Io(ErrorKind::ConnectionRefused),
        Step::Io(ErrorKind::ConnectionRefused),
    ]);
    let error = send(&RetryLayer::new(policy("connect-failure")), &upstream, get())
        .await
        .unwrap_err();
    let io = error.downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(upstream.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_custom_classifier_decides_for_errors() {
    fn refused(_: &BoxError) -> ErrorClass {
        ErrorClass::RefusedStream
    }
    let upstream = Upstream::new([Step::Io(ErrorKind::Other)]);
    let layer = RetryLayer::new(RetryPolicy {
        classify: refused,
        ..policy("refused-stream")
    });
    assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn grpc_status_in_a_trailers_only_response() {
    assert_eq!(
        attempts("unavailable", Step::With(200, "grpc-status", "14")).await,
        2
    );
    assert_eq!(
        attempts("unavailable", Step::With(200, "grpc-status", "3")).await,
        1
    );
    assert_eq!(
        attempts("cancelled,internal", Step::With(200, "grpc-status", "13")).await,
        2
    );
    assert_eq!(attempts("5xx", Step::With(200, "grpc-status", "14")).await, 1);
    assert_eq!(
        attempts("resource-exhausted", Step::With(200, "grpc-status", "8")).await,
        2
    );
    assert_eq!(
        attempts("deadline-exceeded", Step::With(200, "grpc-status", "4")).await,
        2
    );
}

#[test]
fn error_classes_under_each_condition() {
    use ErrorClass::*;
    let table: [(&str, [bool; 5]); 5] = [
        // ConnectFailure, Reset, RefusedStream, Timeout, Other
        ("5xx", [true, true, true, true, false]),
        ("gateway-error", [true, true, true, true, false]),
        ("reset", [true, true, true, true, false]),
        ("connect-failure", [true, false, false, false, false]),
        ("refused-stream", [false, false, true, false, false]),
    ];
    for (name, expected) in table {
        let on: RetryOn = name.parse().unwrap();
        let got = [ConnectFailure, Reset, RefusedStream, Timeout, Other].map(|c| retries_error(on, c));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn classify_io_reads_the_source_chain() {
    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapped(#[source] std::io::Error);
    let err = |kind| -> BoxError { Box::new(Wrapped(std::io::Error::from(kind))) };
    assert_eq!(
        classify_io(&err(ErrorKind::ConnectionRefused)),
        ErrorClass::ConnectFailure
    );
    assert_eq!(classify_io(&err(ErrorKind::BrokenPipe)), ErrorClass::Reset);
    assert_eq!(classify_io(&err(ErrorKind::TimedOut)), ErrorClass::Timeout);
    assert_eq!(classify_io(&err(ErrorKind::PermissionDenied)), ErrorClass::Other);
    assert_eq!(
        classify_io(
            &PerTryTimeout {
                after: Duration::from_secs(1)
            }
            .into()
        ),
        ErrorClass::Timeout
    );
    assert_eq!(classify_io(&"plain".into()), ErrorClass::Other);
}
