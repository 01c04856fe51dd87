//! The shared counters of one cluster priority, and the snapshots read from them.

use super::error::{CircuitOpen, Resource};
use super::guard::{ConnectionGuard, PendingGuard, RequestGuard, RetryGuard, Slot};
use super::thresholds::Thresholds;
use crate::RetryAdmission;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One cluster priority's circuit breaker: counts open connections, pending requests, active
/// requests and active retries against its [`Thresholds`], without locks.
///
/// Cloning is cheap and shares the counters: a cluster keeps one `Breaker` per priority (Envoy's
/// `DEFAULT` and `HIGH`) and hands clones to whoever admits work — the [`CircuitBreaker`] layer for
/// requests, the connection pool for connections and pending requests, the retry layer for retries
/// (through [`RetryAdmission`]). Every `try_*` either takes a slot, returned as a guard that gives
/// it back on drop, or fails at once with [`CircuitOpen`] and counts an overflow.
///
/// [`CircuitBreaker`]: super::CircuitBreaker
#[derive(Debug, Clone, Default)]
pub struct Breaker {
    state: Arc<State>,
}

impl Breaker {
    pub fn new(thresholds: Thresholds) -> Self {
        let state = State {
            thresholds,
            ..State::default()
        };
        Breaker {
            state: Arc::new(state),
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.state.thresholds
    }

    /// Takes an active-request slot (`max_requests`) for one attempt sent upstream.
    pub fn try_request(&self) -> Result<RequestGuard, CircuitOpen> {
        self.slot(Resource::Requests).map(|_slot| RequestGuard { _slot })
    }

    /// Takes a pending-request slot (`max_pending_requests`) while a request waits for a connection
    /// or for the upstream to become ready; drop it when the wait ends, however it ends.
    pub fn try_pending(&self) -> Result<PendingGuard, CircuitOpen> {
        self.slot(Resource::PendingRequests)
            .map(|_slot| PendingGuard { _slot })
    }

    /// Takes a connection slot (`max_connections`) for one upstream connection, held until it closes.
    pub fn try_connection(&self) -> Result<ConnectionGuard, CircuitOpen> {
        self.slot(Resource::Connections)
            .map(|_slot| ConnectionGuard { _slot })
    }

    /// Takes a retry slot (`max_retries`, or the retry budget when set) for one retry attempt; the
    /// guard form of [`RetryAdmission::try_begin_retry`].
    pub fn try_retry(&self) -> Result<RetryGuard, CircuitOpen> {
        self.slot(Resource::Retries).map(|_slot| RetryGuard { _slot })
    }

    /// How many more of each resource would be admitted now (Envoy's `remaining_cx`,
    /// `remaining_pending`, `remaining_rq`, `remaining_retries` gauges). A racy snapshot: each
    /// field is read on its own.
    pub fn remaining(&self) -> Remaining {
        let s = &*self.state;
        let left = |r| s.limit(r).saturating_sub(s.count(r).load(Ordering::Relaxed));
        Remaining {
            connections: left(Resource::Connections),
            pending: left(Resource::PendingRequests),
            requests: left(Resource::Requests),
            retries: left(Resource::Retries),
        }
    }

    /// How many of each resource are held now (Envoy's `upstream_cx_active`,
    /// `upstream_rq_pending_active`, `upstream_rq_active` and the retries in flight).
    pub fn active(&self) -> Active {
        let load = |r| self.state.count(r).load(Ordering::Relaxed);
        Active {
            connections: load(Resource::Connections),
            pending: load(Resource::PendingRequests),
            requests: load(Resource::Requests),
            retries: load(Resource::Retries),
        }
    }

    /// Refusals so far, one counter per resource; see [`Overflows`] for Envoy's stat names.
    pub fn overflows(&self) -> Overflows {
        let o = &self.state.overflows;
        let load = |i: usize| o[i].load(Ordering::Relaxed);
        Overflows {
            connections: load(Resource::Connections as usize),
            pending: load(Resource::PendingRequests as usize),
            requests: load(Resource::Requests as usize),
            retries: load(Resource::Retries as usize),
        }
    }

    fn slot(&self, resource: Resource) -> Result<Slot, CircuitOpen> {
        self.state.acquire(resource)?;
        Ok(Slot::new(Arc::clone(&self.state), resource))
    }
}

impl RetryAdmission for Breaker {
    fn try_begin_retry(&self) -> bool {
        self.state.acquire(Resource::Retries).is_ok()
    }

    fn end_retry(&self) {
        self.state.release(Resource::Retries);
    }
}

/// Headroom per resource: how many more would be admitted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remaining {
    pub connections: u32,
    pub pending: u32,
    pub requests: u32,
    pub retries: u32,
}

/// Slots held per resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Active {
    pub connections: u32,
    pub pending: u32,
    pub requests: u32,
    pub retries: u32,
}

/// Refusals per resource since the breaker was created.
///
/// Kept apart so each threshold can be told from the others; Envoy's stats add them up differently,
/// as the methods say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overflows {
    pub connections: u64,
    pub pending: u64,
    pub requests: u64,
    pub retries: u64,
}

impl Overflows {
    /// Envoy's `upstream_cx_overflow`.
    pub fn upstream_cx_overflow(&self) -> u64 {
        self.connections
    }

    /// Envoy's `upstream_rq_pending_overflow`, which counts both `max_pending_requests` and
    /// `max_requests` refusals (Envoy's pool reports both as a pending-stream overflow).
    pub fn upstream_rq_pending_overflow(&self) -> u64 {
        self.pending.saturating_add(self.requests)
    }

    /// Envoy's `upstream_rq_retry_overflow`.
    pub fn upstream_rq_retry_overflow(&self) -> u64 {
        self.retries
    }
}

/// Counters indexed by `Resource as usize`.
#[derive(Debug, Default)]
pub(super) struct State {
    thresholds: Thresholds,
    counts: [AtomicU32; 4],
    overflows: [AtomicU64; 4],
}

// Every counter stands alone (no other memory is published through it), so `Relaxed` is enough:
// the read-modify-write itself is atomic, which is all the threshold check needs.
impl State {
    fn count(&self, resource: Resource) -> &AtomicU32 {
        &self.counts[resource as usize]
    }

    fn limit(&self, resource: Resource) -> u32 {
        let t = &self.thresholds;
        match resource {
            Resource::Connections => t.max_connections(),
            Resource::PendingRequests => t.max_pending_requests(),
            Resource::Requests => t.max_requests(),
            Resource::Retries => match t.retry_budget() {
                None => t.max_retries(),
                // As Envoy, the limit follows the traffic at the moment of asking: retries admitted
                // earlier are not cut off when requests end and the limit shrinks, only new ones.
                Some(budget) => {
                    let load = |r| u64::from(self.count(r).load(Ordering::Relaxed));
                    budget.max_retries(load(Resource::Requests) + load(Resource::PendingRequests))
                }
            },
        }
    }

    fn acquire(&self, resource: Resource) -> Result<(), CircuitOpen> {
        let limit = self.limit(resource);
        let taken = self
            .count(resource)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            });
        taken.map(drop).map_err(|_| {
            self.overflows[resource as usize].fetch_add(1, Ordering::Relaxed);
            tracing::debug!(resource = resource.as_str(), limit, "circuit breaker overflow");
            CircuitOpen::new(resource)
        })
    }

    pub(super) fn release(&self, resource: Resource) {
        // Saturating, so an unmatched `end_retry` (a caller bug) cannot wrap the counter to u32::MAX
        // and lock the resource; guards always match, so only `RetryAdmission` users can get here.
        let _ = self
            .count(resource)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}
