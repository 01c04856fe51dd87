//! Slots taken from a [`Breaker`](super::Breaker), given back on drop.

use super::breaker::State;
use super::error::Resource;
use std::sync::Arc;

/// One slot of one resource. The typed guards below hold it only for its `Drop` (hence `_slot`); they
/// exist so that a slot can't be handed to the wrong place (a connection guard for a request).
#[derive(Debug)]
pub(super) struct Slot {
    state: Arc<State>,
    resource: Resource,
}

impl Slot {
    pub(super) fn new(state: Arc<State>, resource: Resource) -> Self {
        Slot { state, resource }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.state.release(self.resource);
    }
}

/// An active-request slot (`max_requests`), given back on drop.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as the guard is dropped"]
pub struct RequestGuard {
    pub(super) _slot: Slot,
}

/// A pending-request slot (`max_pending_requests`), given back on drop.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as the guard is dropped"]
pub struct PendingGuard {
    pub(super) _slot: Slot,
}

/// A connection slot (`max_connections`), given back on drop.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as the guard is dropped"]
pub struct ConnectionGuard {
    pub(super) _slot: Slot,
}

/// A retry slot (`max_retries` or the retry budget), given back on drop.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as the guard is dropped"]
pub struct RetryGuard {
    pub(super) _slot: Slot,
}
