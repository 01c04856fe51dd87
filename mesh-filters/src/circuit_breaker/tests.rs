//! The layer with `tower_test` mocks; the breaker's own counters in `tests/`.

mod breaker;
mod props;

use super::*;
use futures_util::FutureExt;
use std::time::Duration;
use tower::{ServiceExt, service_fn};
use tower_test::mock::{self, Handle, Mock, Spawn};

type Svc = CircuitBreaker<Mock<u32, u32>>;

fn breaker(max_pending_requests: u32, max_requests: u32) -> Breaker {
    let t = Thresholds::builder()
        .max_pending_requests(max_pending_requests)
        .max_requests(max_requests);
    Breaker::new(t.build().unwrap())
}

fn layered(breaker: &Breaker) -> (Svc, Handle<u32, u32>) {
    let (mock, handle) = mock::pair();
    (CircuitBreakerLayer::new(breaker.clone()).layer(mock), handle)
}

fn open(err: &BoxError) -> Option<Resource> {
    err.downcast_ref::<CircuitOpen>().map(|e| e.resource)
}

#[tokio::test]
async fn fifty_concurrent_calls_with_ten_slots_admit_ten_and_fail_forty_at_once() {
    let breaker = breaker(1024, 10);
    let (svc, mut handle) = layered(&breaker);

    let mut futures = Vec::new();
    for i in 0..50 {
        let mut svc = svc.clone();
        svc.ready().await.unwrap();
        futures.push(Box::pin(svc.call(i)));
    }
    let mut in_flight = Vec::new();
    let mut refused = 0;
    for mut f in futures {
        match (&mut f).now_or_never() {
            Some(Err(e)) if open(&e) == Some(Resource::Requests) => refused += 1,
            None => in_flight.push(f),
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((refused, in_flight.len()), (40, 10));
    assert_eq!(breaker.remaining().requests, 0);
    assert_eq!(breaker.overflows().requests, 40);
    assert_eq!(breaker.overflows().upstream_rq_pending_overflow(), 40);

    for _ in 0..10 {
        let (req, reply) = handle.next_request().await.unwrap();
        reply.send_response(req * 2);
    }
    assert!(
        handle.poll_request().is_pending(),
        "only the admitted ten reach the upstream"
    );
    for f in in_flight {
        f.await.unwrap();
    }
    assert_eq!(breaker.active(), Active::default());
    assert_eq!(breaker.remaining().requests, 10);
}

#[tokio::test]
async fn the_request_slot_is_given_back_on_response_error_and_drop() {
    let breaker = breaker(1024, 1);
    let (mut svc, mut handle) = layered(&breaker);

    for outcome in ["response", "error", "dropped"] {
        svc.ready().await.unwrap();
        let future = svc.call(7);
        assert_eq!(breaker.active().requests, 1, "{outcome}");
        let (_, reply) = handle.next_request().await.unwrap();
        match outcome {
            "response" => {
                reply.send_response(1);
                assert_eq!(future.await.unwrap(), 1);
            }
            "error" => {
                reply.send_error("upstream reset");
                assert_eq!(future.await.unwrap_err().to_string(), "upstream reset");
            }
            _ => drop(future),
        }
        assert_eq!(breaker.active().requests, 0, "{outcome}");
    }
    assert_eq!(breaker.overflows(), Overflows::default());
}

#[tokio::test]
async fn the_slot_is_released_when_the_response_arrives_not_when_the_future_is_dropped() {
    let breaker = breaker(1024, 1);
    let (mut svc, mut handle) = layered(&breaker);
    svc.ready().await.unwrap();
    let mut future = Box::pin(svc.call(1));
    handle.next_request().await.unwrap().1.send_response(2);
    assert_eq!((&mut future).await.unwrap(), 2);
    assert_eq!(breaker.active().requests, 0);
    drop(future);
}

#[test]
fn waiting_for_readiness_is_pending_and_overflow_fails_the_call_at_once() {
    let breaker = breaker(2, 1024);
    let (svc, mut handle) = layered(&breaker);
    handle.allow(0);

    let mut waiting: Vec<Spawn<Svc>> = (0..2).map(|_| Spawn::new(svc.clone())).collect();
    for s in &mut waiting {
        assert!(s.poll_ready().is_pending());
        // Polling again while still waiting takes no second slot.
        assert!(s.poll_ready().is_pending());
    }
    assert_eq!(breaker.active().pending, 2);

    let mut third = Spawn::new(svc.clone());
    assert!(matches!(third.poll_ready(), Poll::Ready(Ok(()))));
    let err = third.call(3).now_or_never().unwrap().unwrap_err();
    assert_eq!(open(&err), Some(Resource::PendingRequests));
    assert!(
        handle.poll_request().is_pending(),
        "the refused request never reached the upstream"
    );
    assert_eq!(breaker.overflows().pending, 1);
    // The refusal was for that request only: the same service waits normally next time.
    assert!(
        third.poll_ready().is_ready(),
        "still no pending slot, so refused again"
    );
    drop(third);

    // Readiness ends the wait; dropping a waiting service ends it too.
    handle.allow(1);
    assert!(matches!(waiting[0].poll_ready(), Poll::Ready(Ok(()))));
    assert_eq!(breaker.active().pending, 1);
    waiting.truncate(1);
    assert_eq!(breaker.active().pending, 0);

    let _future = waiting[0].call(4);
    assert_eq!(breaker.active().requests, 1);
}

#[test]
fn a_readiness_error_ends_the_wait_and_passes_through() {
    let breaker = breaker(1, 1024);
    let (svc, mut handle) = layered(&breaker);
    handle.allow(0);
    let mut svc = Spawn::new(svc);
    assert!(svc.poll_ready().is_pending());
    assert_eq!(breaker.active().pending, 1);

    handle.send_error("connect failed");
    match svc.poll_ready() {
        Poll::Ready(Err(e)) => assert_eq!(e.to_string(), "connect failed"),
        other => panic!("expected the inner error, got {other:?}"),
    }
    assert_eq!(breaker.active().pending, 0);
}

#[tokio::test(start_paused = true)]
async fn overflow_never_waits_for_a_slot_to_free() {
    let breaker = breaker(1024, 1);
    let slow = service_fn(|()| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok::<_, BoxError>("done")
    });
    let svc = CircuitBreakerLayer::new(breaker.clone()).layer(slow);

    let first = tokio::spawn(svc.clone().oneshot(()));
    tokio::task::yield_now().await;
    assert_eq!(breaker.active().requests, 1);

    let start = tokio::time::Instant::now();
    let err = svc.clone().oneshot(()).await.unwrap_err();
    assert_eq!(open(&err), Some(Resource::Requests));
    assert_eq!(start.elapsed(), Duration::ZERO);

    assert_eq!(first.await.unwrap().unwrap(), "done");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(svc.oneshot(()).await.unwrap(), "done");
    assert_eq!(breaker.active(), Active::default());
}

#[test]
fn clones_share_the_breaker_but_not_the_wait() {
    let breaker = breaker(1, 1024);
    let (svc, mut handle) = layered(&breaker);
    handle.allow(0);
    let mut waiting = Spawn::new(svc.clone());
    assert!(waiting.poll_ready().is_pending());
    let clone = waiting.get_ref().clone();
    assert_eq!(
        breaker.active().pending,
        1,
        "a clone holds no pending slot of its own"
    );
    drop(waiting);
    assert_eq!(breaker.active().pending, 0);
    assert_eq!(clone.breaker().thresholds().max_pending_requests(), 1);
    drop(clone.into_inner());
}
