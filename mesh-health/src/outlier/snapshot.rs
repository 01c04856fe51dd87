//! The published ejections of a cluster: [`EjectionSnapshot`], one [`HostEjection`] per member
//! host, by address.
//!
//! The [`OutlierDetector`](super::OutlierDetector) loop is the only writer and publishes each
//! snapshot as an `Arc` through a `tokio::sync::watch` channel; receivers are woken only when a
//! host is ejected or returns, while counters are updated in place for whoever reads next.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Which detection found a host to be an outlier: Envoy's `OutlierEjectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EjectionReason {
    /// `consecutive_5xx` 5xx responses (or, without the split, local-origin failures) in a row.
    Consecutive5xx,
    /// `consecutive_gateway_failure` 502/503/504 responses in a row.
    ConsecutiveGatewayFailure,
    /// `consecutive_local_origin_failure` connect failures, resets or timeouts in a row (split).
    ConsecutiveLocalOriginFailure,
    /// Success rate below `mean − (success_rate_stdev_factor / 1000) × stdev` over one interval.
    SuccessRate,
    /// The same over local-origin results (split only).
    LocalOriginSuccessRate,
    /// Failure percentage at or above `failure_percentage_threshold` over one interval.
    FailurePercentage,
    /// The same over local-origin results (split only).
    LocalOriginFailurePercentage,
}

impl EjectionReason {
    pub const ALL: [EjectionReason; 7] = [
        EjectionReason::Consecutive5xx,
        EjectionReason::ConsecutiveGatewayFailure,
        EjectionReason::ConsecutiveLocalOriginFailure,
        EjectionReason::SuccessRate,
        EjectionReason::LocalOriginSuccessRate,
        EjectionReason::FailurePercentage,
        EjectionReason::LocalOriginFailurePercentage,
    ];

    /// The suffix of Envoy's `outlier_detection.ejections_{detected,enforced}_*` stats.
    pub fn as_str(self) -> &'static str {
        match self {
            EjectionReason::Consecutive5xx => "consecutive_5xx",
            EjectionReason::ConsecutiveGatewayFailure => "consecutive_gateway_failure",
            EjectionReason::ConsecutiveLocalOriginFailure => "consecutive_local_origin_failure",
            EjectionReason::SuccessRate => "success_rate",
            EjectionReason::LocalOriginSuccessRate => "local_origin_success_rate",
            EjectionReason::FailurePercentage => "failure_percentage",
            EjectionReason::LocalOriginFailurePercentage => "local_origin_failure_percentage",
        }
    }
}

/// One host's ejection state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostEjection {
    /// Ejected now: the balancer should leave the host out (panic threshold aside).
    pub ejected: bool,
    /// When the current (or, if not ejected, the last) ejection began.
    pub ejected_since: Option<Instant>,
    /// How long the current (or last) ejection lasts: `min(base_ejection_time × backoff,
    /// max_ejection_time)`. The host returns at the first sweep at least this long after
    /// `ejected_since`.
    pub ejection_time: Duration,
    /// When the host last returned from an ejection.
    pub returned_at: Option<Instant>,
    /// Ejections of this host so far (Envoy's `num_ejections`).
    pub times_ejected: u32,
    /// Envoy's ejection-time multiplier: one more per ejection (until `base × backoff` reaches
    /// `max_ejection_time + base_ejection_time`), one less per sweep at which the host has been
    /// back for at least an `interval`.
    pub backoff: u32,
    /// Why the host was last ejected.
    pub reason: Option<EjectionReason>,
}

/// A count per [`EjectionReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReasonCounts([u64; 7]);

impl ReasonCounts {
    pub fn get(&self, reason: EjectionReason) -> u64 {
        self.0[reason as usize]
    }

    /// The sum over every reason.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Every reason with its count, in [`EjectionReason::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (EjectionReason, u64)> + '_ {
        EjectionReason::ALL.into_iter().map(|r| (r, self.get(r)))
    }

    pub(super) fn add(&mut self, reason: EjectionReason) {
        self.0[reason as usize] += 1;
    }
}

/// Cluster-wide counters since the detector started, after Envoy's `outlier_detection.*` stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EjectionStats {
    /// Hosts ejected now (`ejections_active`).
    pub active: usize,
    /// Outliers found, enforced or not (`ejections_detected_*`).
    pub detected: ReasonCounts,
    /// Ejections made (`ejections_enforced_*`; `enforced.total()` is `ejections_enforced_total`).
    pub enforced: ReasonCounts,
    /// Outliers left in service because `max_ejection_percent` was reached (`ejections_overflow`).
    pub overflow: u64,
}

/// The ejection state of every member host of one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EjectionSnapshot {
    /// In member order: the order of first appearance in the host list.
    pub(super) hosts: Vec<(SocketAddr, HostEjection)>,
    /// Each member's position in `hosts`.
    pub(super) index: HashMap<SocketAddr, usize>,
    pub(super) stats: EjectionStats,
    pub(super) max_ejected: usize,
}

impl EjectionSnapshot {
    /// `host`'s state, if it is a member.
    pub fn get(&self, host: &SocketAddr) -> Option<&HostEjection> {
        let at = *self.index.get(host)?;
        self.hosts.get(at).map(|(_, h)| h)
    }

    /// Whether `host` is a member and ejected now.
    pub fn is_ejected(&self, host: &SocketAddr) -> bool {
        self.get(host).is_some_and(|h| h.ejected)
    }

    /// The hosts ejected now, in member order.
    pub fn ejected(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.hosts
            .iter()
            .filter(|(_, h)| h.ejected)
            .map(|(addr, _)| *addr)
    }

    /// How many hosts are ejected now.
    pub fn ejected_count(&self) -> usize {
        self.stats.active
    }

    /// The most hosts that may be ejected at once: `max_ejection_percent` of the members, rounded
    /// down (so 0 with the default 10% and fewer than 10 hosts, as in Envoy).
    pub fn max_ejected(&self) -> usize {
        self.max_ejected
    }

    /// Every member host with its state, in member order.
    pub fn hosts(&self) -> impl Iterator<Item = (SocketAddr, &HostEjection)> + '_ {
        self.hosts.iter().map(|(addr, h)| (*addr, h))
    }

    /// How many hosts are members.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    pub fn stats(&self) -> &EjectionStats {
        &self.stats
    }

    /// Whether the member at `at` (in member order) is ejected now.
    pub(super) fn is_ejected_at(&self, at: usize) -> bool {
        self.hosts.get(at).is_some_and(|(_, h)| h.ejected)
    }

    /// The address of the member at `at`, for logs.
    pub(super) fn addr_at(&self, at: usize) -> Option<SocketAddr> {
        self.hosts.get(at).map(|(addr, _)| *addr)
    }
}
