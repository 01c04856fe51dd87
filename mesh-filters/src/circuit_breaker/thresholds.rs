//! Validated thresholds with Envoy's defaults.

use super::error::InvalidThresholds;

/// Envoy's retry budget: concurrent retries are limited to a share of the requests in flight
/// rather than to a fixed `max_retries`, so the allowance grows with the traffic.
///
/// Allowed concurrent retries = `max(min_retry_concurrency, ⌊budget_percent% × (active + pending
/// requests)⌋)`. Defaults: 20% and 3, as Envoy's `retry_budget {}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    budget_percent: f64,
    min_retry_concurrency: u32,
}

impl RetryBudget {
    pub const DEFAULT_BUDGET_PERCENT: f64 = 20.0;
    pub const DEFAULT_MIN_RETRY_CONCURRENCY: u32 = 3;

    /// Fails unless `budget_percent` is a number in `0.0..=100.0`.
    pub fn new(budget_percent: f64, min_retry_concurrency: u32) -> Result<Self, InvalidThresholds> {
        // `contains` is false for NaN, so NaN is refused here too.
        if !(0.0..=100.0).contains(&budget_percent) {
            return Err(InvalidThresholds::BudgetPercent(budget_percent));
        }
        Ok(RetryBudget {
            budget_percent,
            min_retry_concurrency,
        })
    }

    pub fn budget_percent(&self) -> f64 {
        self.budget_percent
    }

    pub fn min_retry_concurrency(&self) -> u32 {
        self.min_retry_concurrency
    }

    /// The concurrent retries allowed while `outstanding` requests (active + pending) are in flight.
    pub fn max_retries(&self, outstanding: u64) -> u32 {
        // Multiplying before dividing keeps whole percentages exact (29% of 100 is 29, where
        // Envoy's `0.29 * 100` truncates to 28); `as` saturates, so a huge product stays in range.
        let share = (self.budget_percent * outstanding as f64 / 100.0).floor() as u32;
        share.max(self.min_retry_concurrency)
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            budget_percent: Self::DEFAULT_BUDGET_PERCENT,
            min_retry_concurrency: Self::DEFAULT_MIN_RETRY_CONCURRENCY,
        }
    }
}

/// One priority's circuit-breaker thresholds (Envoy's `circuit_breakers.thresholds[]` entry).
///
/// Every count is valid, 0 included: a threshold of 0 makes every attempt on that resource
/// overflow, as in Envoy. A [`RetryBudget`], when set, replaces `max_retries`.
///
/// ```
/// use mesh_filters::circuit_breaker::Thresholds;
///
/// let t = Thresholds::builder().max_requests(100).retry_budget(Some(25.0), None).build()?;
/// assert_eq!((t.max_requests(), t.max_connections()), (100, 1024));
/// assert_eq!(t.retry_budget().map(|b| b.min_retry_concurrency()), Some(3));
/// assert!(Thresholds::builder().retry_budget(Some(150.0), None).build().is_err());
/// # Ok::<(), mesh_filters::circuit_breaker::InvalidThresholds>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    max_connections: u32,
    max_pending_requests: u32,
    max_requests: u32,
    max_retries: u32,
    retry_budget: Option<RetryBudget>,
}

impl Thresholds {
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
    pub const DEFAULT_MAX_PENDING_REQUESTS: u32 = 1024;
    pub const DEFAULT_MAX_REQUESTS: u32 = 1024;
    pub const DEFAULT_MAX_RETRIES: u32 = 3;

    /// A builder starting from Envoy's defaults.
    pub fn builder() -> ThresholdsBuilder {
        ThresholdsBuilder::default()
    }

    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    pub fn max_pending_requests(&self) -> u32 {
        self.max_pending_requests
    }

    pub fn max_requests(&self) -> u32 {
        self.max_requests
    }

    /// The fixed retry limit; ignored while a [`retry_budget`](Self::retry_budget) is set.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    pub fn retry_budget(&self) -> Option<RetryBudget> {
        self.retry_budget
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_pending_requests: Self::DEFAULT_MAX_PENDING_REQUESTS,
            max_requests: Self::DEFAULT_MAX_REQUESTS,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            retry_budget: None,
        }
    }
}

/// Builds [`Thresholds`] from Envoy's knobs; unset knobs keep Envoy's defaults.
#[derive(Debug, Clone, Default)]
pub struct ThresholdsBuilder {
    thresholds: Thresholds,
    // Kept raw until `build`, so a config loader passes the file's optional fields straight through
    // and gets one error for the whole entry.
    retry_budget: Option<(Option<f64>, Option<u32>)>,
}

impl ThresholdsBuilder {
    pub fn max_connections(mut self, n: u32) -> Self {
        self.thresholds.max_connections = n;
        self
    }

    pub fn max_pending_requests(mut self, n: u32) -> Self {
        self.thresholds.max_pending_requests = n;
        self
    }

    pub fn max_requests(mut self, n: u32) -> Self {
        self.thresholds.max_requests = n;
        self
    }

    pub fn max_retries(mut self, n: u32) -> Self {
        self.thresholds.max_retries = n;
        self
    }

    /// Enables a retry budget (replacing `max_retries`); `None` fields take Envoy's defaults
    /// (20%, 3), so `retry_budget(None, None)` is Envoy's `retry_budget: {}`.
    pub fn retry_budget(mut self, budget_percent: Option<f64>, min_retry_concurrency: Option<u32>) -> Self {
        self.retry_budget = Some((budget_percent, min_retry_concurrency));
        self
    }

    pub fn build(self) -> Result<Thresholds, InvalidThresholds> {
        let retry_budget = match self.retry_budget {
            None => None,
            Some((percent, min)) => Some(RetryBudget::new(
                percent.unwrap_or(RetryBudget::DEFAULT_BUDGET_PERCENT),
                min.unwrap_or(RetryBudget::DEFAULT_MIN_RETRY_CONCURRENCY),
            )?),
        };
        Ok(Thresholds {
            retry_budget,
            ..self.thresholds
        })
    }
}
