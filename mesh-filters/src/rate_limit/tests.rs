use super::*;
use proptest::prelude::{prop, prop_assert, proptest};
use std::convert::Infallible;
use std::num::NonZeroU32;
use std::time::Duration;
use tower::{ServiceExt, service_fn};

const SECOND: Duration = Duration::from_secs(1);

fn bucket(max: u32, per_fill: u32, interval: Duration) -> TokenBucket {
    TokenBucket::new(max, per_fill, interval).unwrap()
}

/// How many of `n` back-to-back acquisitions succeed.
fn admit(bucket: &TokenBucket, n: u32) -> u32 {
    (0..n).filter(|_| bucket.try_acquire().is_ok()).count() as u32
}

fn echo() -> impl Service<u32, Response = u32, Error = Infallible> + Clone {
    service_fn(|n: u32| async move { Ok(n) })
}

#[test]
fn the_constructor_rejects_what_envoy_rejects() {
    assert_eq!(
        TokenBucket::new(0, 1, SECOND).unwrap_err(),
        InvalidTokenBucket::ZeroMaxTokens
    );
    assert_eq!(
        TokenBucket::new(1, 0, SECOND).unwrap_err(),
        InvalidTokenBucket::ZeroTokensPerFill
    );
    let short = Duration::from_millis(49);
    assert_eq!(
        TokenBucket::new(1, 1, short).unwrap_err(),
        InvalidTokenBucket::FillIntervalTooShort(short)
    );
    assert!(TokenBucket::new(1, 1, MIN_FILL_INTERVAL).is_ok());
}

#[tokio::test(start_paused = true)]
async fn exact_counts_per_fill() {
    let b = bucket(5, 5, SECOND);
    assert_eq!(admit(&b, 6), 5, "starts full; the 6th is limited");
    tokio::time::advance(SECOND - Duration::from_millis(1)).await;
    assert_eq!(admit(&b, 1), 0, "no fill before the interval");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(admit(&b, 10), 5);
    tokio::time::advance(3 * SECOND).await;
    assert_eq!(admit(&b, 10), 5, "three fills, capped at max_tokens");
}

#[tokio::test(start_paused = true)]
async fn partial_fills_accumulate_up_to_the_max() {
    let b = bucket(10, 3, Duration::from_millis(100));
    assert_eq!(admit(&b, 10), 10);
    tokio::time::advance(Duration::from_millis(250)).await;
    assert_eq!(b.available(), 6, "two fills of three");
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(b.available(), 10);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_the_time_to_the_next_fill() {
    let b = bucket(1, 1, SECOND);
    b.try_acquire().unwrap();
    tokio::time::advance(Duration::from_millis(300)).await;
    let limited = b.try_acquire().unwrap_err();
    assert_eq!(limited.retry_after, Duration::from_millis(700));
    assert_eq!(limited.retry_after_secs(), 1);

    tokio::time::advance(Duration::from_millis(700)).await;
    b.try_acquire().unwrap();
    assert_eq!(
        b.try_acquire().unwrap_err().retry_after,
        SECOND,
        "fills are aligned to creation"
    );
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    let secs = |ms| {
        RateLimited {
            retry_after: Duration::from_millis(ms),
        }
        .retry_after_secs()
    };
    assert_eq!(
        [secs(0), secs(1), secs(1000), secs(1001), secs(2500)],
        [0, 1, 1, 2, 3]
    );
}

#[test]
fn concurrent_takers_never_share_a_token() {
    // Real time, but an hour-long interval: no fill can happen during the test.
    let b = Arc::new(bucket(1000, 1, Duration::from_secs(3600)));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || admit(&b, 500))
        })
        .collect();
    let admitted: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(admitted, 1000);
}

#[tokio::test(start_paused = true)]
async fn the_layer_limits_and_counts() {
    let layer = LocalRateLimitLayer::new(bucket(5, 5, SECOND));
    // Two clones of the stack, as two connections would have: one bucket between them.
    let (a, b) = (layer.layer(echo()), layer.layer(echo()));
    for i in 0..3 {
        assert_eq!(a.clone().oneshot(i).await.unwrap(), i);
    }
    for i in 0..2 {
        assert_eq!(b.clone().oneshot(i).await.unwrap(), i);
    }
    assert!(b.oneshot(8).await.is_err());
    let err = a.clone().oneshot(9).await.unwrap_err();
    assert_eq!(err.downcast_ref(), Some(&RateLimited { retry_after: SECOND }));
    assert_eq!((layer.stats().ok(), layer.stats().rate_limited()), (5, 2));

    tokio::time::advance(SECOND).await;
    assert_eq!(a.oneshot(10).await.unwrap(), 10);
}

#[tokio::test(start_paused = true)]
async fn a_limited_request_never_reaches_the_inner_service() {
    let (inner, mut handle) = tower_test::mock::pair::<u32, u32>();
    let mut svc = LocalRateLimit::new(inner, bucket(1, 1, SECOND));
    handle.allow(2);
    let first = tokio::spawn(svc.ready().await.unwrap().call(1));
    let (req, respond) = handle.next_request().await.unwrap();
    respond.send_response(req);
    assert_eq!(first.await.unwrap().unwrap(), 1);

    assert!(svc.ready().await.unwrap().call(2).await.is_err());
    assert!(
        tokio::time::timeout(SECOND / 2, handle.next_request())
            .await
            .is_err(),
        "nothing sent"
    );
}

#[test]
fn connection_cap_releases_on_drop() {
    let limit = ConnectionLimit::new(NonZeroU32::new(2), None);
    let first = limit.try_accept().unwrap();
    let second = limit.try_accept().unwrap();
    assert_eq!(limit.active(), 2);
    assert_eq!(
        limit.try_accept().unwrap_err(),
        ConnectionRefused::TooManyConnections { max: 2 }
    );
    drop(first);
    assert_eq!(limit.active(), 1);
    let third = limit.try_accept().unwrap();
    assert_eq!(limit.stats().limited_connections(), 1);
    drop((second, third));
    assert_eq!(limit.active(), 0);
}

#[tokio::test(start_paused = true)]
async fn connection_rate_reuses_the_bucket_and_frees_the_slot_it_refuses() {
    let limit = ConnectionLimit::new(NonZeroU32::new(10), Some(bucket(2, 1, SECOND)));
    let permits = [limit.try_accept().unwrap(), limit.try_accept().unwrap()];
    let refused = limit.try_accept().unwrap_err();
    assert_eq!(refused, ConnectionRefused::RateLimited { retry_after: SECOND });
    assert_eq!(limit.active(), 2, "the refused connection holds no slot");
    assert_eq!(limit.stats().rate_limited(), 1);
    tokio::time::advance(SECOND).await;
    let _third = limit.try_accept().unwrap();
    drop(permits);
    assert_eq!(limit.active(), 1);
}

#[test]
fn unlimited_connections_are_still_counted() {
    let limit = ConnectionLimit::new(None, None);
    let permits: Vec<_> = (0..100).map(|_| limit.try_accept().unwrap()).collect();
    assert_eq!(limit.active(), 100);
    drop(permits);
    assert_eq!(limit.active(), 0);
}

proptest! {
    /// Over any schedule of arrivals, the bucket never holds more than `max_tokens` and never
    /// admits more than `max_tokens + fills × tokens_per_fill`.
    #[test]
    fn admissions_never_exceed_the_budget(
        max in 1u32..50,
        per_fill in 1u32..50,
        interval_ms in 50u64..2000,
        steps in prop::collection::vec((0u64..3000, 0u32..80), 1..40),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(async {
            let interval = Duration::from_millis(interval_ms);
            let b = bucket(max, per_fill, interval);
            let start = tokio::time::Instant::now();
            let mut admitted = 0u64;
            for (wait_ms, attempts) in steps {
                tokio::time::advance(Duration::from_millis(wait_ms)).await;
                prop_assert!(b.available() <= max);
                admitted += u64::from(admit(&b, attempts));
                prop_assert!(b.available() <= max);
                let fills = (start.elapsed().as_millis() / u128::from(interval_ms)) as u64;
                prop_assert!(admitted <= u64::from(max) + fills * u64::from(per_fill));
            }
            Ok(())
        })?;
    }
}
