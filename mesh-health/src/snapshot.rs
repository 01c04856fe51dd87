//! The published health of a cluster: [`HealthSnapshot`], one [`HostStatus`] per member host.
//!
//! The [`HealthChecker`](crate::HealthChecker) owns the only writer and publishes each snapshot
//! as an `Arc` through a `tokio::sync::watch` channel. Readers take the `Arc` (e.g. when they
//! rebuild a balancer after `changed()`) and then read it with no lock, await or atomic.

use crate::host::HostHealth;
use crate::outcome::ProbeFailure;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tokio::time::Instant;

/// Health of every member host of one cluster, ordered by address.
#[derive(Debug, Clone, Default)]
pub struct HealthSnapshot {
    pub(crate) hosts: BTreeMap<SocketAddr, HostStatus>,
    pub(crate) stats: HealthStats,
}

impl HealthSnapshot {
    /// The status of `addr`, if it is a member.
    pub fn get(&self, addr: &SocketAddr) -> Option<&HostStatus> {
        self.hosts.get(addr)
    }

    /// Whether `addr` is a member and healthy (every check passing).
    pub fn is_healthy(&self, addr: &SocketAddr) -> bool {
        self.hosts.get(addr).is_some_and(|h| h.healthy)
    }

    /// Every member host and its status.
    pub fn hosts(&self) -> impl Iterator<Item = (&SocketAddr, &HostStatus)> {
        self.hosts.iter()
    }

    /// The members currently healthy.
    pub fn healthy_hosts(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.hosts.iter().filter(|(_, h)| h.healthy).map(|(a, _)| *a)
    }

    pub fn healthy_count(&self) -> usize {
        self.hosts.values().filter(|h| h.healthy).count()
    }

    /// Number of member hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Counters since the checker started, over all hosts ever checked.
    pub fn stats(&self) -> &HealthStats {
        &self.stats
    }
}

/// The health of one host: healthy only while every configured check passes (no checks: always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    pub healthy: bool,
    /// When `healthy` last changed (when the host joined, if it never did).
    pub since: Instant,
    /// Why the most recent failed check of this host failed, over all its checks.
    pub last_failure: Option<ProbeFailure>,
    /// One entry per configured check, in configuration order.
    pub checks: Vec<CheckStatus>,
}

impl HostStatus {
    pub(crate) fn new(checks: usize, now: Instant) -> Self {
        Self {
            healthy: checks == 0,
            since: now,
            last_failure: None,
            checks: vec![CheckStatus::default(); checks],
        }
    }
}

/// One check's view of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckStatus {
    pub healthy: bool,
    pub consecutive_successes: u32,
    pub consecutive_failures: u32,
    pub last_failure: Option<ProbeFailure>,
    /// Checks of this host completed under this check.
    pub attempts: u64,
}

impl CheckStatus {
    pub(crate) fn from_health(health: &HostHealth, attempts: u64) -> Self {
        Self {
            healthy: health.is_healthy(),
            consecutive_successes: health.consecutive_successes(),
            consecutive_failures: health.consecutive_failures(),
            last_failure: health.last_failure().cloned(),
            attempts,
        }
    }
}

/// Cluster-wide counters, after Envoy's `health_check.*` stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthStats {
    /// Checks completed (`health_check.attempt`).
    pub attempts: u64,
    /// Checks that passed (`health_check.success`).
    pub successes: u64,
    /// Checks that failed, immediate failures included (`health_check.failure`).
    pub failures: u64,
    /// Checks answered with the immediate-failure header.
    pub immediate_failures: u64,
    /// Hosts that turned healthy (every check passing).
    pub became_healthy: u64,
    /// Hosts that turned unhealthy (`health_check.healthy` dropping).
    pub became_unhealthy: u64,
}
