//! The ejection bookkeeping of the control loop: [`Ejector`], pure (time and RNG passed in).
//!
//! Each call works on the snapshot in place and says whether the ejected set changed, which is
//! what the loop passes to `watch::Sender::send_if_modified`.

use super::detect::{Origin, outliers};
use super::record::{HostStats, Run};
use super::snapshot::{EjectionReason, EjectionSnapshot, HostEjection};
use mesh_core::policy::{OutlierDetection, Percentage};
use rand::{Rng, RngCore};
use std::sync::Arc;
use tokio::time::Instant;

/// Decides and applies ejections for one cluster; see the [module docs](super).
pub(super) struct Ejector {
    cluster: Arc<str>,
    policy: OutlierDetection,
    rng: Box<dyn RngCore + Send>,
}

impl std::fmt::Debug for Ejector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ejector")
            .field("cluster", &self.cluster)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The most hosts of `hosts` that `max_ejection_percent` lets be ejected at once (rounded down).
pub(super) fn max_ejected(hosts: usize, max_ejection_percent: Percentage) -> usize {
    hosts.saturating_mul(usize::from(max_ejection_percent.get())) / 100
}

impl Ejector {
    pub(super) fn new(cluster: Arc<str>, policy: OutlierDetection, rng: Box<dyn RngCore + Send>) -> Self {
        Self { cluster, policy, rng }
    }

    pub(super) fn set_rng(&mut self, rng: Box<dyn RngCore + Send>) {
        self.rng = rng;
    }

    pub(super) fn policy(&self) -> &OutlierDetection {
        &self.policy
    }

    /// Handles the consecutive runs the request path flagged. As in Envoy, a run of a host that
    /// is already ejected is ignored (its counter keeps counting until the host returns, when
    /// every run starts over); any other run counts as detected, may eject, and starts over.
    pub(super) fn detections(
        &mut self,
        stats: &[Arc<HostStats>],
        snap: &mut EjectionSnapshot,
        now: Instant,
    ) -> bool {
        let mut changed = false;
        for (host, stats) in stats.iter().enumerate() {
            let pending = stats.take_pending();
            for run in Run::ALL.into_iter().filter(|run| pending & *run as u8 != 0) {
                if snap.is_ejected_at(host) {
                    break;
                }
                let reason = match run {
                    Run::Gateway => EjectionReason::ConsecutiveGatewayFailure,
                    Run::Http5xx => EjectionReason::Consecutive5xx,
                    Run::LocalOrigin => EjectionReason::ConsecutiveLocalOriginFailure,
                };
                changed |= self.outlier(host, reason, snap, now);
                stats.reset(run);
            }
        }
        changed
    }

    /// The interval sweep, in Envoy's order: return hosts whose ejection time has passed (their
    /// runs start over), take every host's windows, run the statistics (external origin, then
    /// local origin with the split), then decay the backoff of hosts back for an interval.
    pub(super) fn sweep(
        &mut self,
        stats: &[Arc<HostStats>],
        snap: &mut EjectionSnapshot,
        now: Instant,
    ) -> bool {
        let mut changed = false;
        let mut external = Vec::with_capacity(stats.len());
        let mut local = Vec::with_capacity(stats.len());
        for (stats, (host, state)) in stats.iter().zip(&mut snap.hosts) {
            let due = state.ejected_since.map(|since| since + state.ejection_time);
            if state.ejected && due.is_some_and(|due| due <= now) {
                state.ejected = false;
                state.returned_at = Some(now);
                snap.stats.active = snap.stats.active.saturating_sub(1);
                for run in Run::ALL {
                    stats.reset(run);
                }
                changed = true;
                tracing::debug!(cluster = %self.cluster, %host, state = "Serving", "host returned");
            }
            let (e, l) = stats.take_windows();
            external.push(e);
            local.push(l);
        }
        let mut origins = vec![(Origin::External, external)];
        if self.policy.split_external_local_origin_errors {
            origins.push((Origin::Local, local));
        }
        for (origin, windows) in origins {
            let ejected: Vec<bool> = snap.hosts.iter().map(|(_, h)| h.ejected).collect();
            for (host, reason) in outliers(&windows, &ejected, &self.policy, origin) {
                // Envoy would eject a host found by both detections twice; once is enough.
                if !snap.is_ejected_at(host) {
                    changed |= self.outlier(host, reason, snap, now);
                }
            }
        }
        let interval = self.policy.interval;
        for (_, state) in snap.hosts.iter_mut().filter(|(_, h)| !h.ejected && h.backoff > 0) {
            if state
                .returned_at
                .is_some_and(|at| now.saturating_duration_since(at) >= interval)
            {
                state.backoff -= 1;
            }
        }
        changed
    }

    /// Envoy's `ejectHost` for the outlier at `host` (its place in member order): counted as
    /// detected, then ejected if `max_ejection_percent` allows one more and the detection's
    /// `enforcing_*` draw says so.
    fn outlier(
        &mut self,
        host: usize,
        reason: EjectionReason,
        snap: &mut EjectionSnapshot,
        now: Instant,
    ) -> bool {
        let Some(addr) = snap.addr_at(host) else {
            return false;
        };
        snap.stats.detected.add(reason);
        if snap.stats.active >= snap.max_ejected {
            snap.stats.overflow += 1;
            tracing::debug!(cluster = %self.cluster, host = %addr, ?reason, "outlier not ejected: max_ejection_percent reached");
            return false;
        }
        let enforcing = self.enforcing(reason);
        if !self.draw(enforcing) {
            tracing::debug!(cluster = %self.cluster, host = %addr, ?reason, enforcing = enforcing.get(), "outlier not ejected: not enforced");
            return false;
        }
        let Some((_, state)) = snap.hosts.get_mut(host) else {
            return false;
        };
        self.eject(state, reason, now);
        snap.stats.active += 1;
        snap.stats.enforced.add(reason);
        tracing::debug!(
            cluster = %self.cluster, host = %addr, ?reason, state = "Ejected", ejection_time = ?state.ejection_time,
            times_ejected = state.times_ejected, "host ejected"
        );
        true
    }

    fn eject(&self, state: &mut HostEjection, reason: EjectionReason, now: Instant) {
        let (base, max) = (self.policy.base_ejection_time, self.policy.max_ejection_time);
        // Envoy grows the multiplier while `base × backoff < max + base`, then caps the time.
        if base.saturating_mul(state.backoff) < max.saturating_add(base) {
            state.backoff += 1;
        }
        state.ejected = true;
        state.ejected_since = Some(now);
        state.ejection_time = base.saturating_mul(state.backoff).min(max);
        state.times_ejected = state.times_ejected.saturating_add(1);
        state.reason = Some(reason);
    }

    fn enforcing(&self, reason: EjectionReason) -> Percentage {
        let p = &self.policy;
        match reason {
            EjectionReason::Consecutive5xx => p.enforcing_consecutive_5xx,
            EjectionReason::ConsecutiveGatewayFailure => p.enforcing_consecutive_gateway_failure,
            EjectionReason::ConsecutiveLocalOriginFailure => p.enforcing_consecutive_local_origin_failure,
            EjectionReason::SuccessRate => p.enforcing_success_rate,
            EjectionReason::LocalOriginSuccessRate => p.enforcing_local_origin_success_rate,
            EjectionReason::FailurePercentage => p.enforcing_failure_percentage,
            EjectionReason::LocalOriginFailurePercentage => p.enforcing_failure_percentage_local_origin,
        }
    }

    /// True with probability `p` (Envoy's `featureEnabled`: a draw in 0..100 below `p`); 0% and
    /// 100% draw nothing.
    fn draw(&mut self, p: Percentage) -> bool {
        match p.get() {
            0 => false,
            100.. => true,
            p => self.rng.random_range(0..100u8) < p,
        }
    }
}
