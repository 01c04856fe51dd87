//! Full-jitter exponential backoff, as Envoy's `retry_back_off`.

use super::error::InvalidBackoff;
use rand::Rng;
use std::time::Duration;

/// Validated `retry_back_off`: the wait before retry `n` (1-based) is drawn uniformly from
/// `[0, min(max, (2^n - 1) × base))`, Envoy's documented formula. Full jitter spreads the
/// retries of many clients that failed together, which a fixed or lightly jittered
/// delay would keep in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// Envoy's `base_interval` default.
    pub const DEFAULT_BASE: Duration = Duration::from_millis(25);

    /// `base` must be positive; `max` defaults to 10 × `base` (Envoy) and may not be
    /// below `base`.
    pub fn new(base: Duration, max: Option<Duration>) -> Result<Self, InvalidBackoff> {
        let max = max.unwrap_or_else(|| base.saturating_mul(10));
        if base.is_zero() {
            return Err(InvalidBackoff::ZeroBase);
        }
        if max < base {
            return Err(InvalidBackoff::MaxBelowBase { base, max });
        }
        Ok(Backoff { base, max })
    }

    pub fn base(&self) -> Duration {
        self.base
    }

    pub fn max(&self) -> Duration {
        self.max
    }

    /// The exclusive upper bound of the wait before retry `retry` (1-based; 0 is read as 1).
    pub fn ceiling(&self, retry: u32) -> Duration {
        // Past 2^63 the product saturates long before it could matter: max caps it.
        let factor = 1u64.checked_shl(retry.clamp(1, 63)).map_or(u64::MAX, |f| f - 1);
        let nanos = self.base.as_nanos().saturating_mul(u128::from(factor));
        let max = self.max.as_nanos();
        Duration::from_nanos(u64::try_from(nanos.min(max)).unwrap_or(u64::MAX))
    }

    /// A jittered wait before retry `retry` (1-based).
    pub fn delay<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_nanos()).unwrap_or(u64::MAX);
        // base > 0, so the ceiling is at least 1 ns and the range is never empty.
        Duration::from_nanos(rng.random_range(0..ceiling.max(1)))
    }
}

impl Default for Backoff {
    /// 25 ms base, 250 ms max: Envoy's defaults.
    fn default() -> Self {
        Backoff {
            base: Self::DEFAULT_BASE,
            max: Self::DEFAULT_BASE * 10,
        }
    }
}
