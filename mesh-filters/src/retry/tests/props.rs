//! Invariants under arbitrary inputs.

use super::*;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::SmallRng};

proptest! {
    #[test]
    fn backoff_is_within_zero_and_its_ceiling(
        base_ms in 1u64..10_000,
        max_factor in proptest::option::of(1u64..50),
        retry in 0u32..200,
        seed: u64,
    ) {
        let base = Duration::from_millis(base_ms);
        let backoff = Backoff::new(base, max_factor.map(|f| base * f as u32)).unwrap();
        let ceiling = backoff.ceiling(retry);
        let n = retry.clamp(1, 63);
        let brief = base.checked_mul(1 << n.min(31)).unwrap_or(Duration::MAX).min(backoff.max());
        prop_assert!(ceiling <= brief && ceiling >= base.min(backoff.max()));
        let mut rng = SmallRng::seed_from_u64(seed);
        for _ in 0..16 {
            prop_assert!(backoff.delay(retry, &mut rng) < ceiling);
        }
    }

    #[test]
    fn budget_balance_never_negative_nor_over_its_share(
        percent in 0u32..=1000,
        min_per_second in 0u32..100,
        ttl_s in 1u64..=60,
        ops in proptest::collection::vec((0u8..3, 0u64..500), 1..400),
    ) {
        let budget = RetryBudget::new(Duration::from_secs(ttl_s), percent, min_per_second).unwrap();
        let start = Instant::now();
        let (mut now, mut deposits, mut withdrawals) = (start, 0u64, 0u64);
        for (op, advance_ms) in ops {
            now += Duration::from_millis(advance_ms);
            match op {
                0 => { budget.deposit_at(now); deposits += 1; }
                1 if budget.try_withdraw_at(now) => withdrawals += 1,
                _ => {}
            }
            let balance = u64::from(budget.balance_at(now));
            prop_assert!(balance <= u64::from(budget.capacity()));
            // In milli-retries: what was there at the start, what requests paid in, what
            // time added (the +1 ms covers `start` being read just after the budget's epoch).
            let elapsed_ms = (now - start).as_millis() as u64 + 1;
            let earned = u64::from(budget.capacity())
                + deposits * u64::from(percent) * 10
                + elapsed_ms * u64::from(min_per_second);
            prop_assert!(withdrawals * 1_000 + balance <= earned, "{withdrawals} taken, {earned} earned");
        }
    }
}
