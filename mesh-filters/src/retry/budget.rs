//! A Finagle-style retry budget: retries may be a share of requests plus a small floor.

use super::error::InvalidBudget;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Milli-tokens one retry costs; the balance is kept in thousandths so a 20% deposit
/// is a whole number.
const RETRY_COST: u32 = 1_000;

/// Limits retries to `retry_percent` of requests plus `min_retries_per_second`, so an
/// upstream that fails everything sees at most that many extra requests, never a storm.
///
/// A token bucket: every request deposits `retry_percent / 100` of a retry, time adds
/// `min_retries_per_second`, a retry withdraws one whole retry or is refused. The balance
/// is capped at the floor's credit over one `ttl` (Finagle's reserve), and starts full.
/// Finagle instead expires each deposit after `ttl`, which lets a busy service bank
/// a share of every request of the last 10 s; the cap here keeps at most `ttl`'s
/// worth of the floor instead, so an outage after a busy spell starts with a small
/// burst, not thousands of retries. The steady state is the same: over any span,
/// `retries ≤ reserve + retry_percent × requests + min_retries_per_second × seconds`.
///
/// Lock-free: one `AtomicU64` holds the balance and the time it was last brought up to
/// date, updated by compare-and-swap, so the balance can never go below zero or above the cap.
#[derive(Debug)]
pub struct RetryBudget {
    /// High half: milliseconds since `epoch` (wrapping) of the last update; low half:
    /// balance in milli-retries.
    state: AtomicU64,
    epoch: Instant,
    deposit: u32,
    refill_per_ms: u32,
    capacity: u32,
    ttl: Duration,
}

impl RetryBudget {
    /// Finagle's defaults: a 10 s window, 20% of requests, 10 retries per second.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(10);
    pub const DEFAULT_PERCENT: u32 = 20;
    pub const DEFAULT_MIN_PER_SECOND: u32 = 10;

    /// `ttl` in 1 s..=60 s and `retry_percent` in 0..=1000, as Finagle.
    pub fn new(
        ttl: Duration,
        retry_percent: u32,
        min_retries_per_second: u32,
    ) -> Result<Self, InvalidBudget> {
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&ttl) {
            return Err(InvalidBudget::Ttl(ttl));
        }
        if retry_percent > 1000 {
            return Err(InvalidBudget::Percent(retry_percent));
        }
        // min_retries_per_second retries per second is exactly that many milli-retries per ms.
        let reserve = u32::try_from(u128::from(min_retries_per_second) * ttl.as_millis()).map_err(|_| {
            InvalidBudget::Reserve {
                min: min_retries_per_second,
                ttl,
            }
        })?;
        let deposit = retry_percent * 10;
        // Without a floor the cap must still hold one retry, or deposits could never buy one.
        let capacity = if deposit > 0 {
            reserve.max(deposit.max(RETRY_COST))
        } else {
            reserve
        };
        Ok(Self::from_valid(ttl, deposit, min_retries_per_second, capacity))
    }

    /// Starts full: Finagle's reserve is there from the first request.
    fn from_valid(ttl: Duration, deposit: u32, refill_per_ms: u32, capacity: u32) -> Self {
        RetryBudget {
            state: AtomicU64::new(u64::from(capacity)),
            epoch: Instant::now(),
            deposit,
            refill_per_ms,
            capacity,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Credits a request; called once per original request, never for a retry.
    pub fn deposit(&self) {
        self.deposit_at(Instant::now());
    }

    /// Takes one retry, or returns `false` and takes nothing.
    pub fn try_withdraw(&self) -> bool {
        self.try_withdraw_at(Instant::now())
    }

    /// Whole retries available now.
    pub fn retries_available(&self) -> u32 {
        self.balance_at(Instant::now()) / RETRY_COST
    }

    pub(super) fn deposit_at(&self, now: Instant) {
        let deposit = self.deposit;
        self.update(now, |balance| Some(balance.saturating_add(deposit)));
    }

    pub(super) fn try_withdraw_at(&self, now: Instant) -> bool {
        self.update(now, |balance| balance.checked_sub(RETRY_COST))
    }

    /// Balance in milli-retries at `now`.
    pub(super) fn balance_at(&self, now: Instant) -> u32 {
        let (last, balance) = unpack(self.state.load(Ordering::Acquire));
        self.refill(last, balance, self.tick(now)).1
    }

    #[cfg(test)]
    pub(super) fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Brings the balance up to `now`, applies `change` and stores the result; `false`
    /// (storing nothing) when `change` refuses. Refilling is a pure function of the stored
    /// state and the clock, so a refused update loses nothing by not storing.
    fn update(&self, now: Instant, change: impl Fn(u32) -> Option<u32>) -> bool {
        let tick = self.tick(now);
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let (last, balance) = unpack(current);
            let (tick, balance) = self.refill(last, balance, tick);
            let Some(next) = change(balance) else { return false };
            let next = pack(tick, next.min(self.capacity));
            match self
                .state
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// The tick to store and the balance after refilling from `last` to `tick`.
    fn refill(&self, last: u32, balance: u32, tick: u32) -> (u32, u32) {
        let elapsed = tick.wrapping_sub(last);
        // A tick "behind" the stored one comes from a racing thread that read the clock
        // earlier: no time passed for it. (The price: a budget idle for over 24 days
        // refills nothing on its first use; it is full again within one ttl.)
        if elapsed > u32::MAX / 2 {
            return (last, balance);
        }
        let refilled = u64::from(balance) + u64::from(elapsed) * u64::from(self.refill_per_ms);
        (
            tick,
            u32::try_from(refilled.min(u64::from(self.capacity))).unwrap_or(self.capacity),
        )
    }

    fn tick(&self, now: Instant) -> u32 {
        // Truncation is the point: ticks wrap and are compared with wrapping_sub.
        now.saturating_duration_since(self.epoch).as_millis() as u32
    }
}

impl Default for RetryBudget {
    /// What `new(DEFAULT_TTL, DEFAULT_PERCENT, DEFAULT_MIN_PER_SECOND)` builds: 200
    /// milli-retries per request, 10 per ms, a reserve of 100 retries.
    fn default() -> Self {
        Self::from_valid(
            Self::DEFAULT_TTL,
            Self::DEFAULT_PERCENT * 10,
            Self::DEFAULT_MIN_PER_SECOND,
            100_000,
        )
    }
}

fn pack(tick: u32, balance: u32) -> u64 {
    (u64::from(tick) << 32) | u64::from(balance)
}

fn unpack(state: u64) -> (u32, u32) {
    ((state >> 32) as u32, state as u32)
}
