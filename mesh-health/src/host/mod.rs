//! One host's health under one check: [`HostHealth`], Envoy's threshold state machine.
//!
//! ```text
//!            first check passes, or healthy_threshold passes in a row
//!   ┌───────────┐ ─────────────────────────────────────────────▶ ┌─────────┐
//!   │ Unhealthy │                                                 │ Healthy │
//!   └───────────┘ ◀───────────────────────────────────────────── └─────────┘
//!     (start)     unhealthy_threshold failures in a row, or one that fails at once
//! ```
//!
//! Policy, as Envoy's active health checker:
//! - A host starts **Unhealthy** (Envoy flags new hosts failed-active-HC) until a check passes.
//! - If the host's **very first check** passes, it is Healthy at once, whatever
//!   `healthy_threshold` says (Envoy trades a little safety for fast start-up). If that first check
//!   fails, the host needs `healthy_threshold` passes in a row like any unhealthy host.
//! - `unhealthy_threshold` failures in a row turn Healthy into Unhealthy; a pass resets the count.
//! - [`Outcome::ImmediateFailure`] turns the host Unhealthy at once.
//! - A host that answers and says it is unhealthy fails **at once**, as Envoy's active failures:
//!   an HTTP status outside `expected_statuses` (unless listed in `retriable_statuses`), a gRPC
//!   error status or a serving status other than `SERVING` ([`ProbeFailure::fails_at_once`]).
//!   Timeouts, connect and protocol errors and retriable statuses may be the network's fault:
//!   they count toward `unhealthy_threshold`.
//!
//! Scheduling ([`Schedule`]): `interval` while healthy, `unhealthy_interval` while unhealthy,
//! `no_traffic_interval` while the cluster has seen no traffic, plus jitter from an injected RNG.
//!
//! Failure: none; this is pure bookkeeping with times passed in, so it is tested without IO.
//! Placement: owned by each host's check loop inside [`HealthChecker`](crate::HealthChecker).
//!
//! ```
//! use mesh_core::policy::{Checker, HealthCheck};
//! use mesh_health::{HostHealth, Outcome, ProbeFailure, Transition};
//! use std::time::Duration;
//! use tokio::time::Instant;
//!
//! let check = HealthCheck {
//!     timeout: Duration::from_secs(1),
//!     interval: Duration::from_secs(5),
//!     interval_jitter: Duration::ZERO,
//!     interval_jitter_percent: 0,
//!     unhealthy_interval: Duration::from_secs(5),
//!     no_traffic_interval: Duration::from_secs(60),
//!     unhealthy_threshold: 2,
//!     healthy_threshold: 2,
//!     checker: Checker::Tcp { send: None, receive: vec![] },
//! };
//! let now = Instant::now();
//! let mut host = HostHealth::new(&check, now);
//! assert!(!host.is_healthy());
//! assert_eq!(host.record(Outcome::Healthy, now), Transition::BecameHealthy);
//! let refused = || Outcome::Unhealthy(ProbeFailure::Connect("refused".into()));
//! assert_eq!(host.record(refused(), now), Transition::Unchanged);
//! assert_eq!(host.record(refused(), now), Transition::BecameUnhealthy);
//! ```

mod schedule;
#[cfg(test)]
mod tests;

pub use schedule::Schedule;

use crate::outcome::{Outcome, ProbeFailure};
use mesh_core::policy::HealthCheck;
use rand::Rng;
use std::time::Duration;
use tokio::time::Instant;

/// Whether a host should receive traffic, as far as one check can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthState {
    Healthy,
    Unhealthy,
}

/// What one recorded outcome did to the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    Unchanged,
    BecameHealthy,
    BecameUnhealthy,
}

/// The health of one host under one check; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct HostHealth {
    state: HealthState,
    /// No outcome recorded yet: the first pass makes the host healthy at once.
    first_check: bool,
    consecutive_successes: u32,
    consecutive_failures: u32,
    since: Instant,
    last_failure: Option<ProbeFailure>,
    healthy_threshold: u32,
    unhealthy_threshold: u32,
    schedule: Schedule,
}

impl HostHealth {
    /// A host first seen at `now`: Unhealthy, never checked.
    pub fn new(check: &HealthCheck, now: Instant) -> Self {
        Self {
            state: HealthState::Unhealthy,
            first_check: true,
            consecutive_successes: 0,
            consecutive_failures: 0,
            since: now,
            last_failure: None,
            healthy_threshold: check.healthy_threshold,
            unhealthy_threshold: check.unhealthy_threshold,
            schedule: Schedule::from(check),
        }
    }

    /// Counts the outcome of a check that completed at `now` and applies the thresholds.
    pub fn record(&mut self, outcome: Outcome, now: Instant) -> Transition {
        let first_check = std::mem::replace(&mut self.first_check, false);
        let next = match outcome {
            Outcome::Healthy => {
                self.consecutive_failures = 0;
                self.consecutive_successes = self.consecutive_successes.saturating_add(1);
                let enough = first_check || self.consecutive_successes >= self.healthy_threshold;
                if enough { HealthState::Healthy } else { self.state }
            }
            Outcome::Unhealthy(failure) => {
                let at_once = failure.fails_at_once();
                self.fail(failure);
                if at_once || self.consecutive_failures >= self.unhealthy_threshold {
                    HealthState::Unhealthy
                } else {
                    self.state
                }
            }
            Outcome::ImmediateFailure => {
                self.fail(ProbeFailure::ImmediateFailRequested);
                HealthState::Unhealthy
            }
        };
        if next == self.state {
            return Transition::Unchanged;
        }
        self.state = next;
        self.since = now;
        match next {
            HealthState::Healthy => Transition::BecameHealthy,
            HealthState::Unhealthy => Transition::BecameUnhealthy,
        }
    }

    fn fail(&mut self, failure: ProbeFailure) {
        self.consecutive_successes = 0;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure = Some(failure);
    }

    /// How long to wait after the check just recorded before the next one.
    pub fn next_delay<R: Rng + ?Sized>(&self, has_traffic: bool, rng: &mut R) -> Duration {
        self.schedule.delay(self.state, has_traffic, rng)
    }

    pub fn state(&self) -> HealthState {
        self.state
    }

    pub fn is_healthy(&self) -> bool {
        self.state == HealthState::Healthy
    }

    /// When the current state began (when the host was first seen, for a host never healthy).
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn consecutive_successes(&self) -> u32 {
        self.consecutive_successes
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Why the most recent failed check failed (kept after later passes).
    pub fn last_failure(&self) -> Option<&ProbeFailure> {
        self.last_failure.as_ref()
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }
}
