//! When the next check of a host runs: [`Schedule`].

use super::HealthState;
use mesh_core::policy::HealthCheck;
use rand::Rng;
use std::time::Duration;

/// The check intervals of one [`HealthCheck`], and Envoy's choice among them.
///
/// The delay runs from the end of one check to the start of the next (as Envoy arms its interval
/// timer when a check completes), so a slow host is never checked twice at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Duration,
    pub unhealthy_interval: Duration,
    pub no_traffic_interval: Duration,
    pub interval_jitter: Duration,
    pub interval_jitter_percent: u32,
}

impl From<&HealthCheck> for Schedule {
    fn from(check: &HealthCheck) -> Self {
        Self {
            interval: check.interval,
            unhealthy_interval: check.unhealthy_interval,
            no_traffic_interval: check.no_traffic_interval,
            interval_jitter: check.interval_jitter,
            interval_jitter_percent: check.interval_jitter_percent,
        }
    }
}

impl Schedule {
    /// The delay before jitter: `no_traffic_interval` while the cluster has seen no traffic
    /// (whatever the host's state), else `interval` for a healthy host and `unhealthy_interval`
    /// for an unhealthy one.
    pub fn base(&self, state: HealthState, has_traffic: bool) -> Duration {
        match (has_traffic, state) {
            (false, _) => self.no_traffic_interval,
            (true, HealthState::Healthy) => self.interval,
            (true, HealthState::Unhealthy) => self.unhealthy_interval,
        }
    }

    /// [`base`](Self::base) plus jitter drawn from `rng`: uniform in
    /// `[0, interval_jitter_percent% of base)` plus uniform in `[0, interval_jitter)`, as Envoy
    /// adds both. So the delay lies in `[base, base + base·percent/100 + interval_jitter)`.
    pub fn delay<R: Rng + ?Sized>(&self, state: HealthState, has_traffic: bool, rng: &mut R) -> Duration {
        let base = self.base(state, has_traffic);
        let percent_span = base.as_nanos() * u128::from(self.interval_jitter_percent) / 100;
        base.saturating_add(uniform_below(percent_span, rng))
            .saturating_add(uniform_below(self.interval_jitter.as_nanos(), rng))
    }
}

/// A uniform duration in `[0, nanos)`; zero when the span is empty.
fn uniform_below<R: Rng + ?Sized>(nanos: u128, rng: &mut R) -> Duration {
    match u64::try_from(nanos).unwrap_or(u64::MAX) {
        0 => Duration::ZERO,
        span => Duration::from_nanos(rng.random_range(0..span)),
    }
}
