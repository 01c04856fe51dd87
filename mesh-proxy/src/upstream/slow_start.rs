//! Slow start (Envoy's `slow_start_config`): an endpoint that just became healthy, or
//! just came back from an outlier ejection, gets a weight that ramps up over the window
//! instead of its full share at once, so a cold host is not flooded.
//!
//! Weight factor: `max(min_weight_percent, (max(elapsed, 1 s) / window) ^ (1 / aggression))`,
//! Envoy's formula. Applies to `round_robin`, `least_request` and `random`; the
//! membership task rebuilds the balancer on a short tick while any endpoint ramps.

use mesh_core::policy::SlowStart;
use std::num::NonZeroU32;
use std::time::Duration;

/// Weights are scaled by this much when slow start is on, so a ramping factor has
/// room below the configured weight (a weight of 1 at 10% still differs from 1).
pub(crate) const SCALE: u32 = 100;

/// The share of its weight an endpoint gets `elapsed` after it (re)joined; `None`
/// once the window is over.
pub(crate) fn factor(elapsed: Duration, config: &SlowStart) -> Option<f64> {
    if elapsed >= config.window || config.window.is_zero() {
        return None;
    }
    let t = elapsed.max(Duration::from_secs(1)).as_secs_f64() / config.window.as_secs_f64();
    Some(
        t.min(1.0)
            .powf(1.0 / config.aggression)
            .max(config.min_weight_percent.fraction()),
    )
}

/// `weight` scaled by [`SCALE`] and by `factor` (if ramping), never below 1.
pub(crate) fn weight(weight: NonZeroU32, factor: Option<f64>) -> NonZeroU32 {
    let full = f64::from(weight.get()) * f64::from(SCALE);
    let w = (full * factor.unwrap_or(1.0)).round().min(f64::from(u32::MAX));
    NonZeroU32::new(w as u32).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_core::policy::Percentage;

    fn config(window_s: u64, aggression: f64, min: u32) -> SlowStart {
        SlowStart {
            window: Duration::from_secs(window_s),
            aggression,
            min_weight_percent: Percentage::new(min).unwrap(),
        }
    }

    #[test]
    fn ramps_linearly_by_default_from_the_floor() {
        let c = config(10, 1.0, 10);
        assert_eq!(
            factor(Duration::ZERO, &c),
            Some(0.1),
            "1 s of 10 s, floored at 10%"
        );
        assert_eq!(factor(Duration::from_secs(5), &c), Some(0.5));
        assert_eq!(factor(Duration::from_secs(10), &c), None, "the window is over");
        let c = config(10, 1.0, 30);
        assert_eq!(
            factor(Duration::from_secs(2), &c),
            Some(0.3),
            "the floor wins early on"
        );
    }

    #[test]
    fn aggression_bends_the_ramp() {
        let fast = factor(Duration::from_secs(4), &config(16, 2.0, 0)).unwrap();
        assert!((fast - 0.5).abs() < 1e-9, "(4/16)^(1/2) = 0.5, got {fast}");
        let slow = factor(Duration::from_secs(8), &config(16, 0.5, 0)).unwrap();
        assert!((slow - 0.25).abs() < 1e-9, "(8/16)^2 = 0.25, got {slow}");
    }

    #[test]
    fn weights_scale_and_never_reach_zero() {
        let w = NonZeroU32::new(3).unwrap();
        assert_eq!(weight(w, None).get(), 300);
        assert_eq!(weight(w, Some(0.5)).get(), 150);
        assert_eq!(weight(NonZeroU32::MIN, Some(0.0)).get(), 1);
    }
}
