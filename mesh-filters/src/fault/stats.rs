//! The fault filter's counters, and the guard that counts a request as an active fault.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Envoy's fault filter counters and gauge.
#[derive(Debug, Default)]
pub struct FaultStats {
    pub(super) delays_injected: AtomicU64,
    aborts_injected: AtomicU64,
    active_faults: AtomicU64,
    faults_overflow: AtomicU64,
}

impl FaultStats {
    pub fn delays_injected(&self) -> u64 {
        self.delays_injected.load(Ordering::Relaxed)
    }

    pub fn aborts_injected(&self) -> u64 {
        self.aborts_injected.load(Ordering::Relaxed)
    }

    /// Requests under a fault right now.
    pub fn active_faults(&self) -> u64 {
        self.active_faults.load(Ordering::Acquire)
    }

    /// Faults not injected because `max_active_faults` were active.
    pub fn faults_overflow(&self) -> u64 {
        self.faults_overflow.load(Ordering::Relaxed)
    }

    /// Counts one more active fault unless `max` are active.
    pub(super) fn try_begin(self: &Arc<Self>, max: Option<u32>) -> Option<ActiveFault> {
        let max = max.map_or(u64::MAX, u64::from);
        let begun = self
            .active_faults
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then(|| n + 1));
        if begun.is_err() {
            self.faults_overflow.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(ActiveFault { stats: self.clone() })
    }
}

/// One request's place among the active faults; released on drop.
#[derive(Debug)]
pub(crate) struct ActiveFault {
    stats: Arc<FaultStats>,
}

impl ActiveFault {
    pub(super) fn record_abort(&self) {
        self.stats.aborts_injected.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for ActiveFault {
    fn drop(&mut self) {
        self.stats.active_faults.fetch_sub(1, Ordering::AcqRel);
    }
}
