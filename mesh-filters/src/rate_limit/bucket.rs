//! Envoy's local rate limit token bucket, lock-free.

use super::error::RateLimited;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Envoy rejects fill intervals shorter than this: finer ones cost timer wake-ups for nothing.
pub const MIN_FILL_INTERVAL: Duration = Duration::from_millis(50);

/// A token bucket that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTokenBucket {
    #[error("token_bucket.max_tokens must be at least 1")]
    ZeroMaxTokens,
    #[error("token_bucket.tokens_per_fill must be at least 1")]
    ZeroTokensPerFill,
    #[error("token_bucket.fill_interval must be at least 50ms, got {0:?}")]
    FillIntervalTooShort(Duration),
}

/// Envoy's `token_bucket`: starts full with `max_tokens`; every `fill_interval` after its
/// creation, `tokens_per_fill` tokens are added, never beyond `max_tokens`; each admission
/// takes one.
///
/// How: there is no timer. The state is one `AtomicU64`, the token count in the high half and
/// the number of the last fill credited (mod 2³²) in the low half; each caller credits the
/// fills that fell due since, from `tokio::time::Instant` (so paused test time works), and
/// takes its token in the same compare-and-swap. Fill boundaries are counted from the bucket's
/// creation, like Envoy's fill timer, so a burst can never see more than
/// `max_tokens + fills × tokens_per_fill` tokens.
#[derive(Debug)]
pub struct TokenBucket {
    max_tokens: u32,
    tokens_per_fill: u32,
    fill_interval: Duration,
    /// `fill_interval` in nanoseconds, never zero (it is at least 50 ms).
    interval_nanos: u64,
    origin: Instant,
    state: AtomicU64,
}

impl TokenBucket {
    /// A full bucket; fails unless `max_tokens` and `tokens_per_fill` are at least 1 and
    /// `fill_interval` at least [`MIN_FILL_INTERVAL`].
    pub fn new(
        max_tokens: u32,
        tokens_per_fill: u32,
        fill_interval: Duration,
    ) -> Result<Self, InvalidTokenBucket> {
        if max_tokens == 0 {
            return Err(InvalidTokenBucket::ZeroMaxTokens);
        }
        if tokens_per_fill == 0 {
            return Err(InvalidTokenBucket::ZeroTokensPerFill);
        }
        if fill_interval < MIN_FILL_INTERVAL {
            return Err(InvalidTokenBucket::FillIntervalTooShort(fill_interval));
        }
        Ok(Self {
            max_tokens,
            tokens_per_fill,
            fill_interval,
            interval_nanos: saturating_nanos(fill_interval),
            origin: Instant::now(),
            state: AtomicU64::new(pack(max_tokens, 0)),
        })
    }

    /// Takes a token, or says how long until the next fill.
    pub fn try_acquire(&self) -> Result<(), RateLimited> {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            // Read the clock after the state, never before: the fill recorded in the state was
            // computed from an earlier clock reading, so ours is not behind it and the
            // wrapping difference below is a true count of fills.
            let now = Instant::now();
            let tick = self.tick(now);
            let (tokens, last) = self.refill(current, tick);
            if tokens == 0 {
                return Err(RateLimited {
                    retry_after: self.until_fill(tick, now),
                });
            }
            match self.state.compare_exchange_weak(
                current,
                pack(tokens - 1, last),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// Tokens available now (a snapshot: others may take them first).
    pub fn available(&self) -> u32 {
        let current = self.state.load(Ordering::Acquire);
        self.refill(current, self.tick(Instant::now())).0
    }

    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    pub fn tokens_per_fill(&self) -> u32 {
        self.tokens_per_fill
    }

    pub fn fill_interval(&self) -> Duration {
        self.fill_interval
    }

    /// The number of fill boundaries passed between the bucket's creation and `now`.
    fn tick(&self, now: Instant) -> u64 {
        saturating_nanos(now.saturating_duration_since(self.origin)) / self.interval_nanos
    }

    /// The state `packed` brought up to fill `tick`: (tokens, last fill credited).
    fn refill(&self, packed: u64, tick: u64) -> (u32, u32) {
        let (tokens, last) = unpack(packed);
        // Truncation on purpose: fills are counted mod 2³². A bucket idle for 2³² fills (6.8
        // years at 50 ms) may see a too-small count once; it is then full again within
        // max_tokens / tokens_per_fill fills.
        let now = tick as u32;
        let fills = u64::from(now.wrapping_sub(last));
        if fills == 0 {
            return (tokens, last);
        }
        let refilled =
            u64::from(tokens).saturating_add(fills.saturating_mul(u64::from(self.tokens_per_fill)));
        (
            u32::try_from(refilled).unwrap_or(u32::MAX).min(self.max_tokens),
            now,
        )
    }

    /// Time from `now` until fill `tick + 1`.
    fn until_fill(&self, tick: u64, now: Instant) -> Duration {
        let next = Duration::from_nanos(tick.saturating_add(1).saturating_mul(self.interval_nanos));
        self.origin
            .checked_add(next)
            .map_or(Duration::MAX, |at| at.saturating_duration_since(now))
    }
}

fn pack(tokens: u32, last_fill: u32) -> u64 {
    (u64::from(tokens) << 32) | u64::from(last_fill)
}

fn unpack(state: u64) -> (u32, u32) {
    ((state >> 32) as u32, state as u32)
}

/// Nanoseconds, saturating at 584 years.
fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
