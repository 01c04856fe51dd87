use super::*;
use http::Response;
use http_body_util::{BodyExt, Full, StreamBody};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>, Result<Vec<u8>, String>)>>>;

/// A shadow recording each copy's URI host, Host header and body (or body error).
fn recording() -> (
    Seen,
    impl Service<Request<Copy>, Response = Response<()>, Error = BoxError, Future: Send> + Clone + Send + 'static,
) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let shadow = tower::service_fn(move |req: Request<Copy>| {
        let log = log.clone();
        async move {
            let host = req.uri().authority().map(ToString::to_string);
            let header = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned);
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .map_err(|e| e.to_string());
            log.lock().unwrap().push((host, header, body));
            Ok::<_, BoxError>(Response::new(()))
        }
    });
    (seen, shadow)
}

async fn settle(seen: &Seen, n: usize) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while seen.lock().unwrap().len() < n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("copies arrive");
}

fn primary() -> impl Service<Request<Tee<Full<Bytes>>>, Response = Response<Bytes>, Error = BoxError> {
    tower::service_fn(|req: Request<Tee<Full<Bytes>>>| async move {
        Ok::<_, BoxError>(Response::new(req.into_body().collect().await?.to_bytes()))
    })
}

fn percent(p: f64) -> Percent {
    Percent::new(p).unwrap()
}

#[tokio::test]
async fn a_copy_gets_the_body_and_shadow_hosts() {
    let (seen, shadow) = recording();
    let mirror = Mirror::new(primary(), vec![(shadow, percent(100.0))]);
    let req = Request::builder()
        .uri("http://api.internal:8080/x")
        .header("host", "api.internal:8080")
        .body(Full::new(Bytes::from_static(b"payload")))
        .unwrap();
    let response = mirror.oneshot(req).await.unwrap();
    assert_eq!(&response.body()[..], b"payload");
    settle(&seen, 1).await;
    let (host, header, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(host.as_deref(), Some("api.internal-shadow:8080"));
    assert_eq!(header.as_deref(), Some("api.internal-shadow:8080"));
    assert_eq!(body.unwrap(), b"payload");
}

#[tokio::test]
async fn zero_percent_never_copies_and_shares_are_drawn_per_request() {
    let (never_seen, never) = recording();
    let (half_seen, half) = recording();
    let n = 2000;
    for _ in 0..n {
        let shadows = vec![(never.clone(), percent(0.0)), (half.clone(), percent(50.0))];
        let mirror = Mirror::new(primary(), shadows);
        let _ = mirror.oneshot(Request::new(Full::new(Bytes::new()))).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(never_seen.lock().unwrap().is_empty());
    // Mean 1000, sd ~22: ±150 is over 6 sd.
    let got = half_seen.lock().unwrap().len();
    assert!((850..=1150).contains(&got), "{got} of {n}");
}

#[tokio::test]
async fn a_copy_that_falls_behind_is_abandoned_and_the_primary_is_not() {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, BoxError>>(64);
    let body = StreamBody::new(tokio_stream_like(rx));
    let stalled = Arc::new(AtomicUsize::new(0));
    let gate = stalled.clone();
    // A shadow that never reads its body.
    let shadow = tower::service_fn(move |req: Request<Copy>| {
        let gate = gate.clone();
        async move {
            gate.fetch_add(1, Ordering::SeqCst);
            let _hold = req;
            std::future::pending::<()>().await;
            Ok::<_, BoxError>(Response::new(()))
        }
    });
    let req = copy_to(&[(shadow, percent(100.0))], None, Request::new(body));
    for _ in 0..(BACKLOG * 4) {
        tx.send(Ok(http_body::Frame::data(Bytes::from_static(b"chunk"))))
            .await
            .unwrap();
    }
    drop(tx);
    let collected = req.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(collected.len(), 5 * BACKLOG * 4, "the primary got every byte");
}

#[tokio::test]
async fn a_primary_body_that_errs_aborts_its_copies() {
    let (seen, shadow) = recording();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, BoxError>>(4);
    let req = copy_to(
        &[(shadow, percent(100.0))],
        None,
        Request::new(StreamBody::new(tokio_stream_like(rx))),
    );
    tx.send(Ok(http_body::Frame::data(Bytes::from_static(b"part"))))
        .await
        .unwrap();
    tx.send(Err("downstream went away".into())).await.unwrap();
    drop(tx);
    assert!(req.into_body().collect().await.is_err());
    settle(&seen, 1).await;
    let (_, _, body) = seen.lock().unwrap()[0].clone();
    assert!(body.is_err(), "a truncated copy must not look complete");
}

/// A receiver as a `Stream`, without pulling in tokio-stream.
fn tokio_stream_like<T>(mut rx: tokio::sync::mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
