//! Peak resident memory of this process over a stretch of work (Linux `/proc/self`).
//!
//! Writing `5` to `/proc/self/clear_refs` resets the kernel's high-water mark (`VmHWM`) to the
//! current RSS, so the mark read afterwards is the true peak of the stretch. Where that write is
//! refused, a background task samples `VmRSS` every 50 ms instead and the peak is the largest
//! sample (it can miss spikes shorter than that, which is why the kernel's mark comes first).

use mesh_tests::AbortOnDrop;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Watches the process's RSS from [`PeakRss::start`] on; dropping it stops the sampler.
#[derive(Debug)]
pub struct PeakRss {
    baseline: u64,
    hwm_reset: bool,
    sampled_max: Arc<AtomicU64>,
    _sampler: AbortOnDrop,
}

impl PeakRss {
    /// Resets the high-water mark (if allowed), records the current RSS, starts sampling.
    /// Needs a Tokio runtime.
    pub fn start() -> PeakRss {
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let baseline = status_bytes("VmRSS");
        let sampled_max = Arc::new(AtomicU64::new(baseline));
        let max = sampled_max.clone();
        let sampler = tokio::spawn(async move {
            loop {
                max.fetch_max(status_bytes("VmRSS"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        PeakRss {
            baseline,
            hwm_reset,
            sampled_max,
            _sampler: AbortOnDrop(sampler),
        }
    }

    /// How the peak was measured, for messages.
    pub fn method(&self) -> &'static str {
        if self.hwm_reset {
            "VmHWM after clear_refs"
        } else {
            "VmRSS sampled every 50 ms"
        }
    }

    /// RSS at the start, in bytes.
    pub fn baseline(&self) -> u64 {
        self.baseline
    }

    /// Peak RSS since the start minus the RSS at the start, in bytes.
    pub fn growth(&self) -> u64 {
        let mut peak = self
            .sampled_max
            .load(Ordering::Relaxed)
            .max(status_bytes("VmRSS"));
        if self.hwm_reset {
            peak = peak.max(status_bytes("VmHWM"));
        }
        peak.saturating_sub(self.baseline)
    }
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status:\n{status}"))
}
