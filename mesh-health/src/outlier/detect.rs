//! The interval statistics: Envoy's success-rate and failure-percentage detection, pure.
//!
//! Over one interval's windows (a host's requests and successes since the last sweep), for one
//! origin (external, or local with the split):
//! - Success rate: hosts not ejected with at least `success_rate_request_volume` requests count;
//!   if at least `success_rate_minimum_hosts` (and at least one) do, each whose success rate is
//!   below `mean − (success_rate_stdev_factor / 1000) × stdev` (population stdev, rates in
//!   percent) is an outlier.
//! - Failure percentage: hosts not ejected with at least `failure_percentage_request_volume`
//!   requests count; if at least `failure_percentage_minimum_hosts` (and at least one) do, each
//!   whose failure percentage is at or above `failure_percentage_threshold` is an outlier.
//!
//! Both candidate lists are taken before any ejection, as in Envoy; hosts are named by their
//! place in member order.

use super::record::Counts;
use super::snapshot::EjectionReason;
use mesh_core::policy::OutlierDetection;

/// Which results a window holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    External,
    Local,
}

impl Origin {
    fn reasons(self) -> (EjectionReason, EjectionReason) {
        match self {
            Origin::External => (EjectionReason::SuccessRate, EjectionReason::FailurePercentage),
            Origin::Local => (
                EjectionReason::LocalOriginSuccessRate,
                EjectionReason::LocalOriginFailurePercentage,
            ),
        }
    }
}

/// Envoy's `successRateEjectionThreshold`: `mean − factor × stdev` of `rates`, or `None` if empty.
pub(super) fn success_rate_threshold(rates: &[f64], stdev_factor: u32) -> Option<f64> {
    if rates.is_empty() {
        return None;
    }
    let n = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / n;
    let variance = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    Some(mean - f64::from(stdev_factor) / 1000.0 * variance.sqrt())
}

/// The outliers among `windows` (one per member; `ejected[i]` for member `i`): success-rate ones
/// first, then failure-percentage ones, each in member order.
pub(super) fn outliers(
    windows: &[Counts],
    ejected: &[bool],
    policy: &OutlierDetection,
    origin: Origin,
) -> Vec<(usize, EjectionReason)> {
    let mut success_rate = Vec::new();
    let mut failure_percentage = Vec::new();
    for (host, (window, ejected)) in windows.iter().zip(ejected).enumerate() {
        let Some(rate) = window.success_rate().filter(|_| !ejected) else {
            continue;
        };
        if window.total >= policy.success_rate_request_volume {
            success_rate.push((host, rate));
        }
        if window.total >= policy.failure_percentage_request_volume {
            failure_percentage.push((host, rate));
        }
    }
    let enough = |hosts: &[(usize, f64)], minimum: u32| {
        !hosts.is_empty() && hosts.len() >= usize::try_from(minimum).unwrap_or(usize::MAX)
    };
    let (sr_reason, fp_reason) = origin.reasons();
    let mut found = Vec::new();
    if enough(&success_rate, policy.success_rate_minimum_hosts) {
        let rates: Vec<f64> = success_rate.iter().map(|(_, r)| *r).collect();
        if let Some(threshold) = success_rate_threshold(&rates, policy.success_rate_stdev_factor) {
            let below = success_rate.iter().filter(|(_, rate)| *rate < threshold);
            found.extend(below.map(|(host, _)| (*host, sr_reason)));
        }
    }
    if enough(&failure_percentage, policy.failure_percentage_minimum_hosts) {
        let threshold = f64::from(policy.failure_percentage_threshold.get());
        let above = failure_percentage
            .iter()
            .filter(|(_, rate)| 100.0 - rate >= threshold);
        found.extend(above.map(|(host, _)| (*host, fp_reason)));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outlier::tests::policy;

    fn counts(total: u32, successes: u32) -> Counts {
        Counts { total, successes }
    }

    #[test]
    fn threshold_is_envoys_example() {
        // From Envoy's comment: {50, 100, 100, 100, 100}: mean 90, stdev 20, 1.9 → 52.
        let t = success_rate_threshold(&[50.0, 100.0, 100.0, 100.0, 100.0], 1900);
        assert!(t.is_some_and(|t| (t - 52.0).abs() < 1e-9), "{t:?}");
        assert_eq!(success_rate_threshold(&[], 1900), None);
    }

    #[test]
    fn success_rate_needs_volume_and_hosts() {
        let p = policy("{}");
        let mut windows = vec![counts(100, 100); 4];
        windows.push(counts(100, 50));
        let ejected = [false; 5];
        let found = outliers(&windows, &ejected, &p, Origin::External);
        assert_eq!(found, vec![(4, EjectionReason::SuccessRate)]);
        // One host below the volume leaves four: under success_rate_minimum_hosts.
        windows[0] = counts(99, 99);
        assert_eq!(outliers(&windows, &ejected, &p, Origin::External), vec![]);
        // An ejected host does not count either.
        windows[0] = counts(100, 100);
        assert_eq!(
            outliers(
                &windows,
                &[true, false, false, false, false],
                &p,
                Origin::External
            ),
            vec![]
        );
    }

    #[test]
    fn failure_percentage_is_at_or_above_the_threshold() {
        let p = policy("{ failure_percentage_threshold: 50, success_rate_minimum_hosts: 100 }");
        let windows = [
            counts(50, 25),
            counts(50, 26),
            counts(49, 0),
            counts(50, 50),
            counts(50, 50),
        ];
        let found = outliers(&windows, &[false; 5], &p, Origin::Local);
        assert_eq!(found, vec![]);
        let windows = [
            counts(50, 25),
            counts(50, 26),
            counts(50, 0),
            counts(50, 50),
            counts(50, 50),
        ];
        let found = outliers(&windows, &[false; 5], &p, Origin::Local);
        let fp = EjectionReason::LocalOriginFailurePercentage;
        assert_eq!(found, vec![(0, fp), (2, fp)]);
    }
}
