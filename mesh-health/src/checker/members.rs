//! The cluster loop's bookkeeping: which hosts have a check task, and folding their reports
//! into the [`HealthSnapshot`].

use super::host_task::{HostTask, Prober, Report, Verdict};
use crate::snapshot::{HealthSnapshot, HostStatus};
use mesh_core::policy::HealthCheck;
use rand::Rng;
use rand::rngs::SmallRng;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

#[derive(Debug)]
struct Member {
    task: u64,
    /// `None` when no checks are configured: nothing to run, the host is always healthy.
    handle: Option<AbortHandle>,
}

#[derive(Debug)]
pub(super) struct Members {
    pub(super) cluster: Arc<str>,
    pub(super) checks: Arc<[HealthCheck]>,
    pub(super) prober: Arc<dyn Prober>,
    pub(super) has_traffic: Arc<AtomicBool>,
    pub(super) rng: SmallRng,
    pub(super) reports: mpsc::Sender<Report>,
    /// Owns every host task: dropping the cluster loop aborts them all.
    pub(super) tasks: JoinSet<()>,
    live: HashMap<SocketAddr, Member>,
    next_task: u64,
}

impl Members {
    pub(super) fn new(
        cluster: Arc<str>,
        checks: Arc<[HealthCheck]>,
        prober: Arc<dyn Prober>,
        has_traffic: Arc<AtomicBool>,
        rng: SmallRng,
        reports: mpsc::Sender<Report>,
    ) -> Self {
        Self {
            cluster,
            checks,
            prober,
            has_traffic,
            rng,
            reports,
            tasks: JoinSet::new(),
            live: HashMap::new(),
            next_task: 0,
        }
    }

    /// Makes the checked hosts exactly `wanted`: stops the tasks of removed hosts and forgets
    /// them, starts a task for each new host, which enters the snapshot unhealthy (healthy if no
    /// checks are configured). Returns whether membership changed.
    pub(super) fn sync(&mut self, wanted: &[SocketAddr], snapshot: &mut HealthSnapshot) -> bool {
        let wanted: HashSet<SocketAddr> = wanted.iter().copied().collect();
        let before = snapshot.hosts.len();
        self.live.retain(|addr, member| {
            let keep = wanted.contains(addr);
            if !keep {
                if let Some(handle) = &member.handle {
                    handle.abort();
                }
                tracing::debug!(cluster = %self.cluster, host = %addr, "host removed: checks stopped");
            }
            keep
        });
        snapshot.hosts.retain(|addr, _| wanted.contains(addr));
        let mut changed = snapshot.hosts.len() != before;
        let now = Instant::now();
        for addr in wanted {
            if self.live.contains_key(&addr) {
                continue;
            }
            let task = self.next_task;
            self.next_task += 1;
            let handle = (!self.checks.is_empty()).then(|| self.spawn(addr, task));
            self.live.insert(addr, Member { task, handle });
            snapshot
                .hosts
                .entry(addr)
                .or_insert_with(|| HostStatus::new(self.checks.len(), now));
            tracing::debug!(cluster = %self.cluster, host = %addr, "host added: checks started");
            changed = true;
        }
        changed
    }

    fn spawn(&mut self, addr: SocketAddr, task: u64) -> AbortHandle {
        let host = HostTask {
            cluster: self.cluster.clone(),
            checks: self.checks.clone(),
            addr,
            task,
            seed: self.rng.random(),
            prober: self.prober.clone(),
            has_traffic: self.has_traffic.clone(),
            reports: self.reports.clone(),
        };
        self.tasks.spawn(host.run())
    }

    /// Folds one report into `snapshot`; returns whether the host's health changed. Reports of
    /// hosts no longer members (or of an earlier task of a re-added host) are dropped.
    pub(super) fn apply(&self, report: Report, snapshot: &mut HealthSnapshot) -> bool {
        if self.live.get(&report.addr).map(|m| m.task) != Some(report.task) {
            return false;
        }
        let Some(host) = snapshot.hosts.get_mut(&report.addr) else {
            return false;
        };
        let Some(check) = host.checks.get_mut(report.check) else {
            return false;
        };
        let stats = &mut snapshot.stats;
        stats.attempts += 1;
        match report.verdict {
            Verdict::Pass => stats.successes += 1,
            Verdict::Fail => stats.failures += 1,
            Verdict::Immediate => {
                stats.failures += 1;
                stats.immediate_failures += 1;
            }
        }
        if report.verdict != Verdict::Pass {
            host.last_failure = report.status.last_failure.clone();
        }
        *check = report.status;
        let healthy = host.checks.iter().all(|c| c.healthy);
        if healthy == host.healthy {
            return false;
        }
        host.healthy = healthy;
        host.since = report.at;
        if healthy {
            stats.became_healthy += 1;
        } else {
            stats.became_unhealthy += 1;
        }
        tracing::debug!(
            cluster = %self.cluster, host = %report.addr, healthy,
            last_failure = ?host.last_failure.as_ref().map(ToString::to_string),
            "host health changed"
        );
        true
    }
}
