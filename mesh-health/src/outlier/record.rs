//! The request path: [`OutlierRecorder::record`] counts one request's [`RequestResult`] into its
//! host's atomics, with no lock, allocation or await.
//!
//! The recorder finds the host in a map from address to [`HostStats`] behind an `ArcSwap`: a
//! load is a few atomic operations (arc-swap sets up one slot per thread on that thread's first
//! load, then reuses it), and the control loop replaces the whole map when membership changes,
//! moving the `Arc<HostStats>` of every host that stays into the new map, so its counts survive.
//!
//! Each host keeps Envoy's three consecutive-failure runs and two interval windows (external and
//! local origin), each window one `AtomicU64` holding the interval's total in its high half and its
//! successes in its low half, so the sweep reads and clears both in one `swap` without losing a
//! request recorded in between. Counts are exact below 2³² requests per host per interval.
//!
//! A run reaching its threshold (Envoy compares with `==`, so a run fires once however long it
//! grows) sets a bit in the host's `pending` flags and pokes the control loop through a one-slot
//! channel with `try_send`: a full slot means a wake-up is already due, and the flags, not the
//! message, carry the detection, so none is lost.

use arc_swap::ArcSwap;
use mesh_core::policy::OutlierDetection;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering::*};
use tokio::sync::mpsc;

/// What became of one request to one host, as the proxy saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestResult {
    /// The host sent response headers with this status (external origin). 5xx counts toward
    /// `consecutive_5xx`, 502/503/504 also toward `consecutive_gateway_failure`; any other status
    /// is a success and ends both runs. With `split_external_local_origin_errors` it is also a
    /// local-origin success: the connection worked.
    Status(u16),
    /// A non-HTTP exchange (TCP proxying) whose connection worked, which is all there is to judge:
    /// Envoy's `LocalOriginConnectSuccessFinal`, a 200 without the split.
    Connected,
    /// The connection could not be made (refused, `connect_timeout`, TLS handshake): Envoy's
    /// `LocalOriginConnectFailed`, a 503 without the split.
    ConnectFailed,
    /// The host reset or closed the connection before response headers. Envoy's router reports
    /// this as `LocalOriginConnectFailed` too: a 503 without the split.
    Reset,
    /// No response headers within the route or per-try timeout: Envoy's `LocalOriginTimeout`, a
    /// 504 without the split.
    Timeout,
}

/// [`OutlierRecorder::record`] was given a host that is not a member of the cluster, or not yet
/// one: the control loop adds a host shortly after it appears in the host list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("host {host} is not a member of the cluster")]
pub struct UnknownHost {
    pub host: SocketAddr,
}

/// The request-path handle of an [`OutlierDetector`](super::OutlierDetector): cheap to clone,
/// `Send + Sync`, never blocks. Hosts are named by address, as in the cluster's host list.
#[derive(Debug, Clone)]
pub struct OutlierRecorder {
    shared: Arc<Shared>,
}

impl OutlierRecorder {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Counts `result` for `host`; atomics only. When it completes a consecutive run the control
    /// loop is woken to eject the host now rather than at the next sweep. A host the loop has not
    /// added yet (or has removed) is refused and nothing is counted.
    pub fn record(&self, host: SocketAddr, result: RequestResult) -> Result<(), UnknownHost> {
        let shared = &*self.shared;
        let members = shared.members.load();
        let stats = members.get(&host).ok_or(UnknownHost { host })?;
        if stats.record(result, &shared.thresholds) {
            // Full: a wake-up is already queued. Closed: the loop has stopped.
            let _ = shared.wake.try_send(());
        }
        Ok(())
    }

    /// How many hosts are members now (as of the control loop's last membership change).
    pub fn hosts(&self) -> usize {
        self.shared.members.load().len()
    }
}

/// The request-path state of every member host, by address.
pub(super) type HostMap = HashMap<SocketAddr, Arc<HostStats>>;

/// What the recorders and the control loop share.
#[derive(Debug)]
pub(super) struct Shared {
    /// Read by every recorder, replaced (never changed in place) by the control loop.
    pub(super) members: ArcSwap<HostMap>,
    thresholds: Thresholds,
    wake: mpsc::Sender<()>,
}

impl Shared {
    /// Starts with no members: the loop's first membership sync adds them.
    pub(super) fn new(policy: &OutlierDetection, wake: mpsc::Sender<()>) -> Self {
        Self {
            members: ArcSwap::from_pointee(HostMap::new()),
            thresholds: Thresholds {
                consecutive_5xx: policy.consecutive_5xx,
                consecutive_gateway_failure: policy.consecutive_gateway_failure,
                consecutive_local_origin_failure: policy.consecutive_local_origin_failure,
                split: policy.split_external_local_origin_errors,
            },
            wake,
        }
    }
}

/// The part of the policy the request path needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Thresholds {
    pub(super) consecutive_5xx: u32,
    pub(super) consecutive_gateway_failure: u32,
    pub(super) consecutive_local_origin_failure: u32,
    pub(super) split: bool,
}

/// A consecutive run that reached its threshold, as a bit of [`HostStats`]' `pending` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Run {
    Gateway = 1,
    Http5xx = 2,
    LocalOrigin = 4,
}

impl Run {
    /// In the order Envoy's worker posts them (gateway before 5xx for one response).
    pub(super) const ALL: [Run; 3] = [Run::Gateway, Run::Http5xx, Run::LocalOrigin];
}

/// One interval's request counts of one host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) total: u32,
    pub(super) successes: u32,
}

impl Counts {
    /// Successes in percent of the total (Envoy's scale); `None` without requests.
    pub(super) fn success_rate(self) -> Option<f64> {
        (self.total > 0).then(|| f64::from(self.successes) * 100.0 / f64::from(self.total))
    }
}

/// A window of one interval: total in the high 32 bits, successes in the low 32.
#[derive(Debug, Default)]
struct Window(AtomicU64);

const ONE_REQUEST: u64 = 1 << 32;

impl Window {
    fn add(&self, success: bool) {
        self.0.fetch_add(ONE_REQUEST | u64::from(success), Relaxed);
    }

    fn take(&self) -> Counts {
        let packed = self.0.swap(0, Relaxed);
        Counts {
            total: (packed >> 32) as u32,
            successes: packed as u32,
        }
    }
}

/// The request-path state of one host: atomics only.
#[derive(Debug, Default)]
pub(super) struct HostStats {
    consecutive_5xx: AtomicU32,
    consecutive_gateway_failure: AtomicU32,
    consecutive_local_origin_failure: AtomicU32,
    /// [`Run`] bits the control loop has not handled yet.
    pending: AtomicU8,
    external: Window,
    local: Window,
}

/// Adds one to a run and says whether it just reached `threshold`.
fn bump(run: &AtomicU32, threshold: u32) -> bool {
    run.fetch_add(1, Relaxed).wrapping_add(1) == threshold
}

impl HostStats {
    /// Counts one result; true when a run reached its threshold (its bit is then pending).
    pub(super) fn record(&self, result: RequestResult, t: &Thresholds) -> bool {
        let fired = if t.split {
            match result {
                RequestResult::Status(status) => {
                    self.local_origin(true, t);
                    self.status(status, t)
                }
                RequestResult::Connected => self.local_origin(true, t),
                RequestResult::ConnectFailed | RequestResult::Reset | RequestResult::Timeout => {
                    self.local_origin(false, t)
                }
            }
        } else {
            let status = match result {
                RequestResult::Status(status) => status,
                RequestResult::Connected => 200,
                RequestResult::ConnectFailed | RequestResult::Reset => 503,
                RequestResult::Timeout => 504,
            };
            self.status(status, t)
        };
        if fired != 0 {
            self.pending.fetch_or(fired, AcqRel);
        }
        fired != 0
    }

    /// Envoy's `putHttpResponseCode`; returns the [`Run`] bits that fired.
    fn status(&self, status: u16, t: &Thresholds) -> u8 {
        let failed = (500..600).contains(&status);
        self.external.add(!failed);
        if !failed {
            self.consecutive_5xx.store(0, Relaxed);
            self.consecutive_gateway_failure.store(0, Relaxed);
            return 0;
        }
        let mut fired = 0;
        if (502..=504).contains(&status) {
            if bump(&self.consecutive_gateway_failure, t.consecutive_gateway_failure) {
                fired |= Run::Gateway as u8;
            }
        } else {
            self.consecutive_gateway_failure.store(0, Relaxed);
        }
        if bump(&self.consecutive_5xx, t.consecutive_5xx) {
            fired |= Run::Http5xx as u8;
        }
        fired
    }

    /// Envoy's `localOriginNoFailure` / `localOriginFailure` (split mode only).
    fn local_origin(&self, success: bool, t: &Thresholds) -> u8 {
        self.local.add(success);
        if success {
            self.consecutive_local_origin_failure.store(0, Relaxed);
            0
        } else if bump(
            &self.consecutive_local_origin_failure,
            t.consecutive_local_origin_failure,
        ) {
            Run::LocalOrigin as u8
        } else {
            0
        }
    }

    /// Takes the [`Run`] bits set since the last call.
    pub(super) fn take_pending(&self) -> u8 {
        self.pending.swap(0, AcqRel)
    }

    /// Starts `run` over (after it was handled, as Envoy does, so a new run can fire).
    pub(super) fn reset(&self, run: Run) {
        let counter = match run {
            Run::Gateway => &self.consecutive_gateway_failure,
            Run::Http5xx => &self.consecutive_5xx,
            Run::LocalOrigin => &self.consecutive_local_origin_failure,
        };
        counter.store(0, Relaxed);
    }

    /// Reads and clears this interval's (external, local-origin) windows.
    pub(super) fn take_windows(&self) -> (Counts, Counts) {
        (self.external.take(), self.local.take())
    }
}
