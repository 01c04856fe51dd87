//! The control loop's membership bookkeeping: [`Members`] makes the recorders' host map and the
//! snapshot follow the cluster's host list.
//!
//! Three views of the members must agree, and only [`Members::sync`] changes them, together:
//! the snapshot's hosts (member order, with their [`HostEjection`]), `stats` (the same order, so
//! the ejector can walk both side by side) and the recorders' map (by address). A host that stays
//! keeps its `Arc<HostStats>` and its `HostEjection`, so its runs, windows, ejection and backoff
//! carry on; a new host gets fresh ones; a removed host's are dropped.

use super::eject::max_ejected;
use super::record::{HostMap, HostStats, Shared};
use super::snapshot::{EjectionSnapshot, HostEjection};
use mesh_core::policy::Percentage;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug)]
pub(super) struct Members {
    cluster: Arc<str>,
    pub(super) shared: Arc<Shared>,
    /// Each member's request-path state, in the snapshot's member order.
    stats: Vec<Arc<HostStats>>,
    max_ejection_percent: Percentage,
}

impl Members {
    /// No members yet: the first [`sync`](Self::sync) adds them.
    pub(super) fn new(cluster: Arc<str>, shared: Arc<Shared>, max_ejection_percent: Percentage) -> Self {
        Self {
            cluster,
            shared,
            stats: Vec::new(),
            max_ejection_percent,
        }
    }

    /// Each member's request-path state, in the snapshot's member order.
    pub(super) fn stats(&self) -> &[Arc<HostStats>] {
        &self.stats
    }

    /// Makes the members exactly `wanted` (a repeated address counts once, at its first place),
    /// in its order: hosts that stay keep their state, new hosts start fresh and not ejected,
    /// removed hosts are forgotten (an ejected one no longer counts as active, as in Envoy), and
    /// `max_ejected` follows the new member count. Returns whether the member list changed.
    pub(super) fn sync(&mut self, wanted: &[SocketAddr], snap: &mut EjectionSnapshot) -> bool {
        let mut index = HashMap::with_capacity(wanted.len());
        let mut hosts = Vec::with_capacity(wanted.len());
        let mut stats = Vec::with_capacity(wanted.len());
        for &addr in wanted {
            if index.contains_key(&addr) {
                continue;
            }
            let kept = snap.index.get(&addr).and_then(|&at| {
                let (_, ejection) = snap.hosts.get(at)?;
                Some((*ejection, self.stats.get(at)?.clone()))
            });
            let (ejection, host_stats) = kept.unwrap_or_else(|| {
                tracing::debug!(cluster = %self.cluster, host = %addr, "host added");
                (HostEjection::default(), Arc::default())
            });
            index.insert(addr, hosts.len());
            hosts.push((addr, ejection));
            stats.push(host_stats);
        }
        for (addr, ejection) in snap.hosts.iter().filter(|(addr, _)| !index.contains_key(addr)) {
            if ejection.ejected {
                snap.stats.active = snap.stats.active.saturating_sub(1);
            }
            let ejected = ejection.ejected;
            tracing::debug!(cluster = %self.cluster, host = %addr, ejected, "host removed");
        }
        let changed = !hosts.iter().map(|(a, _)| a).eq(snap.hosts.iter().map(|(a, _)| a));
        snap.max_ejected = max_ejected(hosts.len(), self.max_ejection_percent);
        snap.hosts = hosts;
        snap.index = index;
        self.stats = stats;
        if changed {
            let map: HostMap = snap
                .hosts
                .iter()
                .map(|(addr, _)| *addr)
                .zip(self.stats.iter().cloned())
                .collect();
            self.shared.members.store(Arc::new(map));
        }
        changed
    }
}
