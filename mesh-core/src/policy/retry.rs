//! Validated `retry_policy` (routes and virtual hosts) with Envoy's defaults.
//!
//! Envoy's semantics: up to `num_retries` more attempts when an attempt ends in a
//! condition of `retry_on`, each bounded by `per_try_timeout` and all of them by the route
//! timeout, separated by full-jitter exponential backoff between `base_interval` and
//! `max_interval`. A route without its own policy takes its virtual host's.

use super::errors::{Issues, Path};
use super::retry_on::RetryOn;
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::time::Duration;

/// Envoy's default retry `base_interval`.
pub const DEFAULT_RETRY_BASE_INTERVAL: Duration = Duration::from_millis(25);
/// Envoy's default `rate_limited_retry_back_off.max_interval`.
pub const DEFAULT_RATE_LIMITED_MAX_INTERVAL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetryPolicy {
    /// What is retried. Empty: nothing (a policy without `retry_on`, as in Envoy).
    pub retry_on: RetryOn,
    /// Retries after the first attempt. Default 1.
    pub num_retries: u32,
    /// Bounds each attempt, inside the route timeout. `None` (the default): only the
    /// route timeout applies.
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub per_try_timeout: Option<Duration>,
    pub retry_back_off: RetryBackOff,
    /// Statuses retried under `retriable-status-codes`, each in `100..600`.
    pub retriable_status_codes: Vec<u16>,
    pub retry_host_predicate: Vec<RetryHostPredicate>,
    /// How often host selection is retried to satisfy the predicates. Default 1.
    pub host_selection_retry_max_attempts: u32,
    /// `Some`: a retriable 429/503 with `Retry-After` waits as asked instead of backing
    /// off, when that is at most `max_interval`.
    pub rate_limited_retry_back_off: Option<RateLimitedRetryBackOff>,
    pub hedge_policy: HedgePolicy,
}

impl RetryPolicy {
    /// Whether tried hosts are to be avoided (the `previous_hosts` predicate).
    pub fn avoids_previous_hosts(&self) -> bool {
        self.retry_host_predicate
            .contains(&RetryHostPredicate::PreviousHosts)
    }
}

/// Envoy's defaults: no conditions, one retry, 25 ms–250 ms backoff, no per-try timeout.
impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retry_on: RetryOn::NONE,
            num_retries: 1,
            per_try_timeout: None,
            retry_back_off: RetryBackOff::default(),
            retriable_status_codes: Vec::new(),
            retry_host_predicate: Vec::new(),
            host_selection_retry_max_attempts: 1,
            rate_limited_retry_back_off: None,
            hedge_policy: HedgePolicy::default(),
        }
    }
}

/// Exponential backoff bounds: `0 < base_interval <= max_interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryBackOff {
    #[serde(with = "serde_str")]
    base_interval: Duration,
    #[serde(with = "serde_str")]
    max_interval: Duration,
}

impl RetryBackOff {
    /// `max_interval` defaults to 10 × `base_interval`, as in Envoy.
    pub fn new(base_interval: Duration, max_interval: Option<Duration>) -> Result<Self, String> {
        let max_interval = max_interval.unwrap_or(base_interval.saturating_mul(10));
        if base_interval.is_zero() {
            return Err("base_interval must be greater than 0s".into());
        }
        if max_interval < base_interval {
            return Err("max_interval must not be shorter than base_interval".into());
        }
        Ok(RetryBackOff {
            base_interval,
            max_interval,
        })
    }

    pub fn base_interval(&self) -> Duration {
        self.base_interval
    }

    pub fn max_interval(&self) -> Duration {
        self.max_interval
    }
}

impl Default for RetryBackOff {
    fn default() -> Self {
        RetryBackOff {
            base_interval: DEFAULT_RETRY_BASE_INTERVAL,
            max_interval: DEFAULT_RETRY_BASE_INTERVAL.saturating_mul(10),
        }
    }
}

/// Envoy's retry host predicates; only `previous_hosts` today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryHostPredicate {
    /// A retry avoids the hosts already tried for this request.
    PreviousHosts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimitedRetryBackOff {
    #[serde(with = "serde_str")]
    pub max_interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct HedgePolicy {
    /// On a per-try timeout, start the next attempt but keep the late one running; the
    /// first good response wins. Default false.
    pub hedge_on_per_try_timeout: bool,
}

pub(crate) fn build(raw: &config::RetryPolicy, path: &Path, issues: &mut Issues) -> Option<RetryPolicy> {
    let before = issues.0.len();
    let retry_on = match &raw.retry_on {
        None => RetryOn::NONE,
        Some(list) => issues
            .check(&path.key("retry_on"), RetryOn::parse(list))
            .unwrap_or_default(),
    };
    let per_try_timeout = raw.per_try_timeout.as_ref().and_then(|t| {
        let d = issues.check(&path.key("per_try_timeout"), crate::duration::parse(t))?;
        Some(d).filter(|d| !d.is_zero())
    });
    let retry_back_off = back_off(raw.retry_back_off.as_ref(), &path.key("retry_back_off"), issues);
    let codes = path.key("retriable_status_codes");
    for (i, code) in raw.retriable_status_codes.iter().enumerate() {
        if !(100..600).contains(code) {
            issues.push(&codes.idx(i), format!("{code} is not a status in 100..=599"));
        }
    }
    let predicates = path.key("retry_host_predicate");
    let retry_host_predicate = raw
        .retry_host_predicate
        .iter()
        .enumerate()
        .filter_map(|(i, name)| match name.as_str() {
            // Envoy names the extension by its full name; accept both spellings.
            "previous_hosts" | "envoy.retry_host_predicates.previous_hosts" => {
                Some(RetryHostPredicate::PreviousHosts)
            }
            other => {
                issues.push(
                    &predicates.idx(i),
                    format!("{other:?} is not a retry host predicate (known: previous_hosts)"),
                );
                None
            }
        })
        .collect();
    let rate_limited_retry_back_off = raw.rate_limited_retry_back_off.as_ref().map(|r| {
        let p = path.key("rate_limited_retry_back_off").key("max_interval");
        let max_interval = issues.duration(&r.max_interval, &p, DEFAULT_RATE_LIMITED_MAX_INTERVAL);
        if max_interval.is_zero() {
            issues.push(&p, "must be greater than 0s");
        }
        RateLimitedRetryBackOff { max_interval }
    });
    (issues.0.len() == before).then_some(())?;
    Some(RetryPolicy {
        retry_on,
        num_retries: raw.num_retries.unwrap_or(1),
        per_try_timeout,
        retry_back_off: retry_back_off?,
        retriable_status_codes: raw.retriable_status_codes.clone(),
        retry_host_predicate,
        host_selection_retry_max_attempts: raw.host_selection_retry_max_attempts.unwrap_or(1),
        rate_limited_retry_back_off,
        hedge_policy: HedgePolicy {
            hedge_on_per_try_timeout: raw
                .hedge_policy
                .as_ref()
                .and_then(|h| h.hedge_on_per_try_timeout)
                .unwrap_or(false),
        },
    })
}

fn back_off(raw: Option<&config::RetryBackOff>, path: &Path, issues: &mut Issues) -> Option<RetryBackOff> {
    let Some(raw) = raw else {
        return Some(RetryBackOff::default());
    };
    let base_path = path.key("base_interval");
    let base = issues.duration(&raw.base_interval, &base_path, DEFAULT_RETRY_BASE_INTERVAL);
    if base.is_zero() {
        issues.push(&base_path, "must be greater than 0s");
        return None;
    }
    let max_path = path.key("max_interval");
    let max_interval = match &raw.max_interval {
        None => base.saturating_mul(10),
        Some(m) => issues.check(&max_path, crate::duration::parse(m))?,
    };
    if max_interval < base {
        issues.push(&max_path, "must not be shorter than base_interval");
        return None;
    }
    Some(RetryBackOff {
        base_interval: base,
        max_interval,
    })
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_RETRY_BASE_INTERVAL, RetryBackOff};
    use std::time::Duration;

    #[test]
    fn back_off_bounds_are_checked_once() {
        let ms = Duration::from_millis;
        let b = RetryBackOff::new(ms(40), None).unwrap();
        assert_eq!((b.base_interval(), b.max_interval()), (ms(40), ms(400)));
        assert_eq!(
            RetryBackOff::new(ms(40), Some(ms(40))).map(|b| b.max_interval()),
            Ok(ms(40))
        );
        assert!(RetryBackOff::new(Duration::ZERO, Some(ms(1))).is_err());
        assert!(RetryBackOff::new(ms(40), Some(ms(39))).is_err());
        assert_eq!(
            RetryBackOff::default().base_interval(),
            DEFAULT_RETRY_BASE_INTERVAL
        );
    }
}
