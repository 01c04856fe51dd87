//! The background task that checks one host: one check loop per configured check, each a
//! [`HostHealth`] state machine fed by a probe, reporting every outcome to the cluster loop.

use crate::host::{HostHealth, Transition};
use crate::outcome::Outcome;
use crate::snapshot::CheckStatus;
use futures_util::future::BoxFuture;
use mesh_core::policy::HealthCheck;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Runs one check; the network one in production, a scripted one in the loop's tests.
pub(crate) trait Prober: fmt::Debug + Send + Sync + 'static {
    fn probe<'a>(
        &'a self,
        check: &'a HealthCheck,
        cluster: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Outcome>;
}

/// [`crate::probe`] over real connections.
#[derive(Debug)]
pub(crate) struct Network;

impl Prober for Network {
    fn probe<'a>(
        &'a self,
        check: &'a HealthCheck,
        cluster: &'a str,
        addr: SocketAddr,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(crate::probe(check, cluster, addr))
    }
}

/// How a check came out, for the cluster's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    Fail,
    Immediate,
}

/// One completed check, sent from a host task to the cluster loop.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) addr: SocketAddr,
    /// Which task of `addr` sent it: a host removed and added again gets a new task, and reports
    /// still queued from the old one must not count.
    pub(crate) task: u64,
    pub(crate) check: usize,
    pub(crate) status: CheckStatus,
    pub(crate) verdict: Verdict,
    pub(crate) at: Instant,
}

#[derive(Debug)]
pub(crate) struct HostTask {
    pub(crate) cluster: Arc<str>,
    pub(crate) checks: Arc<[HealthCheck]>,
    pub(crate) addr: SocketAddr,
    pub(crate) task: u64,
    pub(crate) seed: u64,
    pub(crate) prober: Arc<dyn Prober>,
    pub(crate) has_traffic: Arc<AtomicBool>,
    pub(crate) reports: mpsc::Sender<Report>,
}

impl HostTask {
    /// Checks the host until aborted (host removed, checker stopped) or the cluster loop is gone.
    pub(crate) async fn run(self) {
        let loops = (0..self.checks.len()).map(|index| self.check_loop(index));
        futures_util::future::join_all(loops).await;
    }

    /// Probe, record, report, sleep; the first probe runs at once (Envoy's default, no
    /// `initial_jitter`).
    async fn check_loop(&self, index: usize) {
        let Some(check) = self.checks.get(index) else {
            return;
        };
        let mut rng = SmallRng::seed_from_u64(self.seed.wrapping_add(index as u64));
        let mut health = HostHealth::new(check, Instant::now());
        let mut attempts = 0u64;
        loop {
            let outcome = self.prober.probe(check, &self.cluster, self.addr).await;
            let verdict = match &outcome {
                Outcome::Healthy => Verdict::Pass,
                Outcome::Unhealthy(_) => Verdict::Fail,
                Outcome::ImmediateFailure => Verdict::Immediate,
            };
            let at = Instant::now();
            attempts += 1;
            let transition = health.record(outcome, at);
            if transition != Transition::Unchanged {
                tracing::debug!(
                    cluster = %self.cluster, host = %self.addr, check = index, ?transition,
                    last_failure = ?health.last_failure().map(ToString::to_string),
                    "health check state changed"
                );
            }
            let status = CheckStatus::from_health(&health, attempts);
            let report = Report {
                addr: self.addr,
                task: self.task,
                check: index,
                status,
                verdict,
                at,
            };
            if self.reports.send(report).await.is_err() {
                return;
            }
            let delay = health.next_delay(self.has_traffic.load(Ordering::Relaxed), &mut rng);
            tokio::time::sleep(delay).await;
        }
    }
}
