//! The retry budget, alone and in the layer.

use super::*;

#[tokio::test(start_paused = true)]
async fn retries_stay_within_the_budget_when_everything_fails() {
    const REQUESTS: usize = 500;
    let budget = Arc::new(RetryBudget::new(Duration::from_secs(10), 20, 1).unwrap());
    let layer = RetryLayer::new(RetryPolicy {
        num_retries: 3,
        ..policy("5xx")
    })
    .with_budget(budget);
    let upstream = Upstream::new(vec![Step::Status(503); REQUESTS * 4]);
    let start = Instant::now();
    for _ in 0..REQUESTS {
        assert_eq!(send(&layer, &upstream, get()).await.unwrap().status(), 503);
    }
    let retries = layer.stats().retries() as f64;
    // 20% of the requests, the 10-retry reserve, 1 per second of (paused) time.
    let allowed = 0.2 * REQUESTS as f64 + 10.0 + start.elapsed().as_secs_f64();
    assert!(retries <= allowed, "{retries} retries, {allowed} allowed");
    assert!(
        retries >= 0.2 * REQUESTS as f64,
        "the budget's share is used: {retries}"
    );
    assert!(layer.stats().budget_exhausted() > 0);
    assert_eq!(upstream.attempts(), REQUESTS + retries as usize);
}

#[test]
fn validation() {
    let ttl = Duration::from_secs(10);
    assert_eq!(
        RetryBudget::new(Duration::from_millis(999), 20, 10).unwrap_err(),
        InvalidBudget::Ttl(Duration::from_millis(999))
    );
    assert!(RetryBudget::new(Duration::from_secs(61), 20, 10).is_err());
    assert_eq!(
        RetryBudget::new(ttl, 1001, 10).unwrap_err(),
        InvalidBudget::Percent(1001)
    );
    assert!(matches!(
        RetryBudget::new(ttl, 20, u32::MAX),
        Err(InvalidBudget::Reserve { .. })
    ));
    assert!(RetryBudget::new(ttl, 1000, 0).is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_default_is_finaglas_and_starts_with_its_reserve() {
    let default = RetryBudget::default();
    let built = RetryBudget::new(RetryBudget::DEFAULT_TTL, 20, 10).unwrap();
    assert_eq!(default.capacity(), built.capacity());
    assert_eq!(default.retries_available(), 100);
    assert_eq!(default.ttl(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn deposits_and_time_buy_retries() {
    let budget = RetryBudget::new(Duration::from_secs(1), 20, 0).unwrap();
    let now = Instant::now();
    assert!(budget.try_withdraw_at(now), "starts with one retry's room");
    assert!(!budget.try_withdraw_at(now));
    for _ in 0..4 {
        budget.deposit_at(now);
    }
    assert!(!budget.try_withdraw_at(now), "four requests buy 80% of a retry");
    budget.deposit_at(now);
    assert!(budget.try_withdraw_at(now), "the fifth completes it");

    let floor = RetryBudget::new(Duration::from_secs(1), 0, 10).unwrap();
    for _ in 0..10 {
        assert!(floor.try_withdraw_at(now));
    }
    assert!(!floor.try_withdraw_at(now));
    assert!(!floor.try_withdraw_at(now + Duration::from_millis(99)));
    assert!(
        floor.try_withdraw_at(now + Duration::from_millis(100)),
        "10 per second"
    );

    let none = RetryBudget::new(Duration::from_secs(1), 0, 0).unwrap();
    none.deposit_at(now);
    assert!(
        !none.try_withdraw_at(now + Duration::from_secs(60)),
        "0% and no floor: no retries"
    );
}

#[test]
fn concurrent_withdrawals_never_overdraw() {
    let budget = Arc::new(RetryBudget::new(Duration::from_secs(10), 20, 10).unwrap());
    let now = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let budget = budget.clone();
            std::thread::spawn(move || (0..100).filter(|_| budget.try_withdraw_at(now)).count())
        })
        .collect();
    let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(
        granted, 100,
        "exactly the reserve, however the threads interleave"
    );
    assert_eq!(budget.balance_at(now), 0);
}
