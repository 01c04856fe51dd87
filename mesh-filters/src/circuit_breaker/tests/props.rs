//! Any interleaving of takes and gives keeps every counter within `0..=limit` and matching the
//! slots actually held, and everything returns to zero at the end.

use super::super::*;
use crate::RetryAdmission;
use proptest::prelude::*;

const RESOURCES: [Resource; 4] = [
    Resource::Connections,
    Resource::PendingRequests,
    Resource::Requests,
    Resource::Retries,
];

#[derive(Debug, Clone)]
enum Op {
    Take(usize),
    /// Gives back the held slot at this index (modulo how many are held).
    Give(usize),
    /// A retry through `RetryAdmission` rather than a guard.
    BeginRetry,
    EndRetry,
}

/// A held slot: a guard, or a retry begun through `RetryAdmission`.
#[derive(Debug)]
enum Held {
    Guard(usize, Box<dyn std::fmt::Debug>),
    Admitted,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize).prop_map(Op::Take),
        3 => any::<usize>().prop_map(Op::Give),
        1 => Just(Op::BeginRetry),
        1 => Just(Op::EndRetry),
    ]
}

fn thresholds() -> impl Strategy<Value = Thresholds> {
    let budget = proptest::option::of((0.0..=100.0f64, 0..4u32));
    (0..6u32, 0..6u32, 0..6u32, 0..6u32, budget).prop_map(|(cx, pending, rq, retries, budget)| {
        let b = Thresholds::builder()
            .max_connections(cx)
            .max_pending_requests(pending);
        let b = b.max_requests(rq).max_retries(retries);
        let b = match budget {
            Some((percent, min)) => b.retry_budget(Some(percent), Some(min)),
            None => b,
        };
        b.build().unwrap()
    })
}

fn counts(b: &Breaker) -> [u32; 4] {
    let a = b.active();
    [a.connections, a.pending, a.requests, a.retries]
}

fn limits(t: &Thresholds, held: &[u32; 4]) -> [u32; 4] {
    let retries = match t.retry_budget() {
        None => t.max_retries(),
        Some(budget) => budget.max_retries(u64::from(held[1]) + u64::from(held[2])),
    };
    [
        t.max_connections(),
        t.max_pending_requests(),
        t.max_requests(),
        retries,
    ]
}

fn take(b: &Breaker, r: usize) -> Option<Box<dyn std::fmt::Debug>> {
    fn boxed<G: std::fmt::Debug + 'static>(g: G) -> Box<dyn std::fmt::Debug> {
        Box::new(g)
    }
    match RESOURCES[r] {
        Resource::Connections => b.try_connection().ok().map(boxed),
        Resource::PendingRequests => b.try_pending().ok().map(boxed),
        Resource::Requests => b.try_request().ok().map(boxed),
        Resource::Retries => b.try_retry().ok().map(boxed),
    }
}

proptest! {
    #[test]
    fn counters_stay_within_bounds_and_return_to_zero(
        t in thresholds(),
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let b = Breaker::new(t);
        let mut held: Vec<Held> = Vec::new();
        let mut model = [0u32; 4];
        let mut refused = [0u64; 4];
        for op in ops {
            // Admission is decided against the limits as they stand before the attempt.
            let limit = limits(&t, &model);
            match op {
                Op::Take(r) => match take(&b, r) {
                    Some(g) => {
                        prop_assert!(model[r] < limit[r], "{:?} admitted past its limit", RESOURCES[r]);
                        model[r] += 1;
                        held.push(Held::Guard(r, g));
                    }
                    None => {
                        prop_assert!(model[r] >= limit[r], "{:?} refused below its limit", RESOURCES[r]);
                        refused[r] += 1;
                    }
                },
                Op::BeginRetry => {
                    let admitted = b.try_begin_retry();
                    prop_assert_eq!(admitted, model[3] < limit[3]);
                    if admitted {
                        model[3] += 1;
                        held.push(Held::Admitted);
                    } else {
                        refused[3] += 1;
                    }
                }
                Op::EndRetry => {
                    if let Some(i) = held.iter().position(|h| matches!(h, Held::Admitted)) {
                        held.swap_remove(i);
                        b.end_retry();
                        model[3] -= 1;
                    }
                }
                Op::Give(i) if !held.is_empty() => {
                    match held.swap_remove(i % held.len()) {
                        Held::Guard(r, guard) => {
                            drop(guard);
                            model[r] -= 1;
                        }
                        Held::Admitted => {
                            b.end_retry();
                            model[3] -= 1;
                        }
                    }
                }
                Op::Give(_) => {}
            }
            prop_assert_eq!(counts(&b), model);
            let t = b.thresholds();
            for (count, max) in model.iter().zip([t.max_connections(), t.max_pending_requests(), t.max_requests()]) {
                prop_assert!(*count <= max);
            }
            let o = b.overflows();
            prop_assert_eq!([o.connections, o.pending, o.requests, o.retries], refused);
        }
        for h in held {
            if matches!(h, Held::Admitted) {
                b.end_retry();
            }
        }
        prop_assert_eq!(b.active(), Active::default());
        let r = b.remaining();
        prop_assert_eq!([r.connections, r.pending, r.requests, r.retries], limits(&t, &[0; 4]));
    }
}
