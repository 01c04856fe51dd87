//! Validated outlier detection (`outlier_detection`) with Envoy's defaults.
//!
//! Every key defaults as in Envoy: consecutive 5xx 5, gateway and local-origin
//! failures 5, a 10 s sweep, 30 s base ejection (× times ejected, capped at 300 s),
//! at most 10% of hosts ejected, success-rate detection (mean − 1.9 σ over at
//! least 5 hosts with 100 requests each), failure-percentage detection (85%) off
//! by default, and Envoy's `enforcing_*` percentages.

use super::errors::{Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::time::Duration;

/// A percentage in `0..=100`; the constructor is the only way in, so the
/// algorithms never re-check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Percentage(u8);

impl Percentage {
    pub const ZERO: Percentage = Percentage(0);
    pub const HUNDRED: Percentage = Percentage(100);

    pub fn new(p: u32) -> Result<Self, String> {
        u8::try_from(p)
            .ok()
            .filter(|p| *p <= 100)
            .map(Percentage)
            .ok_or_else(|| format!("{p} is not a percentage in 0..=100"))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// `self` as a fraction in `0.0..=1.0`.
    pub fn fraction(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutlierDetection {
    pub consecutive_5xx: u32,
    pub consecutive_gateway_failure: u32,
    pub consecutive_local_origin_failure: u32,
    #[serde(with = "serde_str")]
    pub interval: Duration,
    #[serde(with = "serde_str")]
    pub base_ejection_time: Duration,
    #[serde(with = "serde_str")]
    pub max_ejection_time: Duration,
    pub max_ejection_percent: Percentage,
    pub enforcing_consecutive_5xx: Percentage,
    pub enforcing_consecutive_gateway_failure: Percentage,
    pub enforcing_consecutive_local_origin_failure: Percentage,
    pub enforcing_success_rate: Percentage,
    pub enforcing_local_origin_success_rate: Percentage,
    pub success_rate_minimum_hosts: u32,
    pub success_rate_request_volume: u32,
    /// Ejection below `mean - (stdev_factor / 1000) * stdev` (1900 → 1.9).
    pub success_rate_stdev_factor: u32,
    pub failure_percentage_threshold: Percentage,
    pub enforcing_failure_percentage: Percentage,
    pub enforcing_failure_percentage_local_origin: Percentage,
    pub failure_percentage_minimum_hosts: u32,
    pub failure_percentage_request_volume: u32,
    pub split_external_local_origin_errors: bool,
}

pub(crate) fn build(
    raw: &config::OutlierDetection,
    path: &Path,
    issues: &mut Issues,
) -> Option<OutlierDetection> {
    let before = issues.0.len();
    let mut pct = |v: Option<u32>, key: &str, default: u8| match v {
        None => Percentage(default),
        Some(p) => issues
            .check(&path.key(key), Percentage::new(p))
            .unwrap_or(Percentage(default)),
    };
    let max_ejection_percent = pct(raw.max_ejection_percent, "max_ejection_percent", 10);
    let enforcing_consecutive_5xx = pct(raw.enforcing_consecutive_5xx, "enforcing_consecutive_5xx", 100);
    let enforcing_consecutive_gateway_failure = pct(
        raw.enforcing_consecutive_gateway_failure,
        "enforcing_consecutive_gateway_failure",
        0,
    );
    let enforcing_consecutive_local_origin_failure = pct(
        raw.enforcing_consecutive_local_origin_failure,
        "enforcing_consecutive_local_origin_failure",
        100,
    );
    let enforcing_success_rate = pct(raw.enforcing_success_rate, "enforcing_success_rate", 100);
    let enforcing_local_origin_success_rate = pct(
        raw.enforcing_local_origin_success_rate,
        "enforcing_local_origin_success_rate",
        100,
    );
    let failure_percentage_threshold = pct(
        raw.failure_percentage_threshold,
        "failure_percentage_threshold",
        85,
    );
    let enforcing_failure_percentage = pct(
        raw.enforcing_failure_percentage,
        "enforcing_failure_percentage",
        0,
    );
    let enforcing_failure_percentage_local_origin = pct(
        raw.enforcing_failure_percentage_local_origin,
        "enforcing_failure_percentage_local_origin",
        0,
    );
    let positive = |issues: &mut Issues, v: &Option<String>, key: &str, default: Duration| {
        let d = issues.duration(v, &path.key(key), default);
        if d.is_zero() {
            issues.push(&path.key(key), "must be greater than 0s");
        }
        d
    };
    let interval = positive(issues, &raw.interval, "interval", Duration::from_secs(10));
    let base_ejection_time = positive(
        issues,
        &raw.base_ejection_time,
        "base_ejection_time",
        Duration::from_secs(30),
    );
    let max_ejection_time = positive(
        issues,
        &raw.max_ejection_time,
        "max_ejection_time",
        Duration::from_secs(300),
    );
    if max_ejection_time < base_ejection_time {
        issues.push(
            &path.key("max_ejection_time"),
            "must not be shorter than base_ejection_time",
        );
    }
    let consecutive = |issues: &mut Issues, v: Option<u32>, key: &str| {
        let n = v.unwrap_or(5);
        if n == 0 {
            issues.push(
                &path.key(key),
                "must be at least 1 (use its enforcing_* key at 0 to disable)",
            );
        }
        n
    };
    let consecutive_5xx = consecutive(issues, raw.consecutive_5xx, "consecutive_5xx");
    let consecutive_gateway_failure = consecutive(
        issues,
        raw.consecutive_gateway_failure,
        "consecutive_gateway_failure",
    );
    let consecutive_local_origin_failure = consecutive(
        issues,
        raw.consecutive_local_origin_failure,
        "consecutive_local_origin_failure",
    );
    (issues.0.len() == before).then_some(())?;
    Some(OutlierDetection {
        consecutive_5xx,
        consecutive_gateway_failure,
        consecutive_local_origin_failure,
        interval,
        base_ejection_time,
        max_ejection_time,
        max_ejection_percent,
        enforcing_consecutive_5xx,
        enforcing_consecutive_gateway_failure,
        enforcing_consecutive_local_origin_failure,
        enforcing_success_rate,
        enforcing_local_origin_success_rate,
        success_rate_minimum_hosts: raw.success_rate_minimum_hosts.unwrap_or(5),
        success_rate_request_volume: raw.success_rate_request_volume.unwrap_or(100),
        success_rate_stdev_factor: raw.success_rate_stdev_factor.unwrap_or(1900),
        failure_percentage_threshold,
        enforcing_failure_percentage,
        enforcing_failure_percentage_local_origin,
        failure_percentage_minimum_hosts: raw.failure_percentage_minimum_hosts.unwrap_or(5),
        failure_percentage_request_volume: raw.failure_percentage_request_volume.unwrap_or(50),
        split_external_local_origin_errors: raw.split_external_local_origin_errors.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::Percentage;

    #[test]
    fn percentages_are_checked_once() {
        assert_eq!(Percentage::new(100).map(Percentage::get), Ok(100));
        assert!(Percentage::new(101).is_err());
        assert!(Percentage::new(u32::MAX).is_err());
        assert_eq!(Percentage::new(25).map(Percentage::fraction), Ok(0.25));
    }
}
