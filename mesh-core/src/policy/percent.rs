//! A fractional percentage (Envoy's `type.v3.Percent`), for knobs finer than whole percents:
//! retry budgets, fault and mirroring shares.

use serde::Serialize;
use std::fmt;

/// A percentage in `0.0..=100.0`, never NaN. The constructor is the only way in, so the
/// layers that sample with it never re-check it.
///
/// ```
/// use mesh_core::policy::Percent;
///
/// assert_eq!(Percent::new(12.5).map(Percent::fraction), Ok(0.125));
/// assert!(Percent::new(100.5).is_err() && Percent::new(f64::NAN).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
// Policy modules may write known-good constants (`Percent(20.0)`) directly.
pub struct Percent(pub(super) f64);

impl Percent {
    pub const ZERO: Percent = Percent(0.0);
    pub const HUNDRED: Percent = Percent(100.0);

    pub fn new(p: f64) -> Result<Self, String> {
        // `contains` is false for NaN, so NaN is refused too.
        if (0.0..=100.0).contains(&p) {
            Ok(Percent(p))
        } else {
            Err(format!("{p} is not a percentage in 0..=100"))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// `self` as a fraction in `0.0..=1.0`.
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }

    /// Whether a uniform draw `r` from `0.0..1.0` falls within this share: 0% never,
    /// 100% always. Callers bring their own RNG so tests stay deterministic.
    pub fn admits(self, r: f64) -> bool {
        r < self.fraction()
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Percent;

    #[test]
    fn bounds_and_sampling() {
        assert_eq!(Percent::new(0.0), Ok(Percent::ZERO));
        assert_eq!(Percent::new(100.0), Ok(Percent::HUNDRED));
        for bad in [-0.1, 100.01, f64::NAN, f64::INFINITY] {
            assert!(Percent::new(bad).is_err(), "{bad}");
        }
        assert!(!Percent::ZERO.admits(0.0));
        assert!(Percent::HUNDRED.admits(0.999_999));
        let ten = Percent::new(10.0).unwrap();
        assert!(ten.admits(0.05) && !ten.admits(0.1));
        assert_eq!(ten.to_string(), "10%");
    }
}
