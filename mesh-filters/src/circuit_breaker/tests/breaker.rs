//! The breaker's counters, thresholds and retry admission, without a service.

use super::super::*;
use crate::RetryAdmission;

fn with_budget(percent: f64, min: u32) -> Breaker {
    Breaker::new(
        Thresholds::builder()
            .retry_budget(Some(percent), Some(min))
            .build()
            .unwrap(),
    )
}

fn requests(b: &Breaker, n: usize) -> Vec<RequestGuard> {
    (0..n).map(|_| b.try_request().unwrap()).collect()
}

/// How many retries `b` admits now; gives them all back.
fn admitted_retries(b: &Breaker) -> u32 {
    let mut n = 0;
    while b.try_begin_retry() {
        n += 1;
    }
    (0..n).for_each(|_| b.end_retry());
    n
}

#[test]
fn defaults_are_envoys() {
    let t = Thresholds::default();
    assert_eq!(
        (
            t.max_connections(),
            t.max_pending_requests(),
            t.max_requests(),
            t.max_retries()
        ),
        (1024, 1024, 1024, 3)
    );
    assert_eq!(t.retry_budget(), None);
    assert_eq!(Thresholds::builder().build().unwrap(), t);
    let budget = RetryBudget::default();
    assert_eq!(
        (budget.budget_percent(), budget.min_retry_concurrency()),
        (20.0, 3)
    );
    let b = Breaker::default();
    let r = Remaining {
        connections: 1024,
        pending: 1024,
        requests: 1024,
        retries: 3,
    };
    assert_eq!(b.remaining(), r);
}

#[test]
fn budget_percent_must_be_a_percentage() {
    for bad in [-0.5, 100.5, f64::NAN, f64::INFINITY] {
        let err = Thresholds::builder()
            .retry_budget(Some(bad), None)
            .build()
            .unwrap_err();
        assert!(matches!(err, InvalidThresholds::BudgetPercent(_)), "{bad}");
        assert!(RetryBudget::new(bad, 3).is_err(), "{bad}");
    }
    for good in [0.0, 12.5, 100.0] {
        assert_eq!(RetryBudget::new(good, 3).unwrap().budget_percent(), good);
    }
    let err = RetryBudget::new(150.0, 3).unwrap_err().to_string();
    assert_eq!(
        err,
        "retry_budget.budget_percent: 150 is not a percentage in 0.0..=100.0"
    );
}

#[test]
fn max_retries_without_a_budget() {
    let b = Breaker::default();
    assert!((0..3).all(|_| b.try_begin_retry()));
    assert!(!b.try_begin_retry());
    assert_eq!(b.remaining().retries, 0);
    assert_eq!(b.overflows().upstream_rq_retry_overflow(), 1);
    b.end_retry();
    let guard = b.try_retry().unwrap();
    assert_eq!(b.try_retry().unwrap_err(), CircuitOpen::new(Resource::Retries));
    drop(guard);
    (0..2).for_each(|_| b.end_retry());
    assert_eq!(b.active().retries, 0);
    // An unmatched `end_retry` is a caller bug; it must not wrap the counter and lock retries out.
    b.end_retry();
    assert_eq!(b.remaining().retries, 3);
}

#[test]
fn the_budget_is_a_share_of_outstanding_requests_with_a_floor() {
    let b = with_budget(20.0, 3);
    let active = requests(&b, 100);
    assert_eq!(admitted_retries(&b), 20);
    assert_eq!(b.remaining().retries, 20);
    drop(active);

    let active = requests(&b, 5);
    assert_eq!(admitted_retries(&b), 3, "20% of 5 is 1, under the floor of 3");
    drop(active);

    // Pending requests count as outstanding too.
    let active = requests(&b, 50);
    let pending: Vec<_> = (0..50).map(|_| b.try_pending().unwrap()).collect();
    assert_eq!(admitted_retries(&b), 20);
    drop((active, pending));
    assert_eq!(admitted_retries(&b), 3);
}

#[test]
fn the_budget_replaces_max_retries_and_rounds_down() {
    let t = Thresholds::builder()
        .max_retries(0)
        .retry_budget(None, None)
        .build()
        .unwrap();
    let b = Breaker::new(t);
    assert_eq!(admitted_retries(&b), 3, "the budget's floor, not max_retries 0");

    let b = with_budget(29.0, 0);
    let active = requests(&b, 100);
    assert_eq!(admitted_retries(&b), 29, "exact for whole percentages");
    drop(active);
    let active = requests(&b, 9);
    assert_eq!(admitted_retries(&b), 2, "29% of 9 is 2.61");
    drop(active);
    assert_eq!(admitted_retries(&b), 0, "no floor and no traffic: no retries");
}

#[test]
fn retries_admitted_under_a_larger_budget_are_not_cut_off() {
    let b = with_budget(50.0, 1);
    let active = requests(&b, 10);
    let retries: Vec<_> = (0..5).map(|_| b.try_retry().unwrap()).collect();
    drop(active);
    assert_eq!(b.active().retries, 5);
    assert_eq!(b.remaining().retries, 0);
    assert!(b.try_retry().is_err());
    drop(retries);
    assert_eq!(b.remaining().retries, 1);
}

#[test]
fn remaining_active_and_overflows_per_resource() {
    let t = Thresholds::builder()
        .max_connections(2)
        .max_pending_requests(3)
        .max_requests(4)
        .max_retries(1);
    let b = Breaker::new(t.build().unwrap());
    let _c = b.try_connection().unwrap();
    let _p = (b.try_pending().unwrap(), b.try_pending().unwrap());
    let _r = requests(&b, 4);
    let _t = b.try_retry().unwrap();
    assert_eq!(
        b.remaining(),
        Remaining {
            connections: 1,
            pending: 1,
            requests: 0,
            retries: 0
        }
    );
    assert_eq!(
        b.active(),
        Active {
            connections: 1,
            pending: 2,
            requests: 4,
            retries: 1
        }
    );

    let _c2 = b.try_connection().unwrap();
    assert_eq!(b.try_connection().unwrap_err().resource, Resource::Connections);
    let _p3 = b.try_pending().unwrap();
    assert_eq!(b.try_pending().unwrap_err().resource, Resource::PendingRequests);
    assert_eq!(b.try_request().unwrap_err().resource, Resource::Requests);
    assert_eq!(b.try_retry().unwrap_err().resource, Resource::Retries);
    let o = b.overflows();
    assert_eq!(
        o,
        Overflows {
            connections: 1,
            pending: 1,
            requests: 1,
            retries: 1
        }
    );
    assert_eq!(
        (o.upstream_cx_overflow(), o.upstream_rq_pending_overflow()),
        (1, 2)
    );
}

#[test]
fn a_zero_threshold_refuses_everything() {
    let b = Breaker::new(Thresholds::builder().max_requests(0).build().unwrap());
    assert!(b.try_request().is_err());
    assert_eq!(b.remaining().requests, 0);
}

#[test]
fn errors_name_envoys_thresholds() {
    let names = [
        Resource::Connections,
        Resource::PendingRequests,
        Resource::Requests,
        Resource::Retries,
    ]
    .map(Resource::as_str);
    assert_eq!(
        names,
        [
            "max_connections",
            "max_pending_requests",
            "max_requests",
            "max_retries"
        ]
    );
    let err = CircuitOpen::new(Resource::PendingRequests).to_string();
    assert_eq!(err, "circuit breaker open: max_pending_requests reached");
}
