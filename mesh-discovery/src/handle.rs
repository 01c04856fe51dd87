//! What a started source leaves with its owner: a way to stop it and its counters.
//!
//! The counters are written by the source task and read by admin; they sit outside the
//! data path, so a `Mutex` for the error text and the time is fine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Owns a running source: dropping it stops the source's task (its receivers then keep the
/// last published set, and never see another change).
#[derive(Debug)]
pub struct SourceHandle {
    task: JoinHandle<()>,
    stats: Arc<SourceStats>,
}

impl SourceHandle {
    pub(crate) fn new(task: JoinHandle<()>, stats: Arc<SourceStats>) -> Self {
        SourceHandle { task, stats }
    }

    /// The source's counters, shared with the running task.
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.stats)
    }

    /// Whether the task has stopped (every receiver was dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A discovery source's counters.
#[derive(Debug, Default)]
pub struct SourceStats {
    updates: AtomicU64,
    rejected: AtomicU64,
    last_error: Mutex<Option<String>>,
    last_update: Mutex<Option<SystemTime>>,
    /// Remote sources only: the last successful exchange, by wall clock (for admin) and by
    /// tokio's clock (for staleness, which must not jump with the wall clock).
    last_contact: Mutex<Option<(SystemTime, Instant)>>,
}

impl SourceStats {
    /// Changed sets published after the first (a rewrite that parses to the same set is not one).
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }

    /// Failures to take a new set (unreadable or invalid file, unreachable or failing registry),
    /// each distinct failure once: a broken file left in place, or a registry down for an hour,
    /// is counted when first seen, not at every refresh or retry.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// The most recent failure in full (file, key paths, reasons); kept after the source recovers.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// When the set now published was taken (the first load counts).
    pub fn last_update(&self) -> Option<SystemTime> {
        *lock(&self.last_update)
    }

    /// Remote sources (the registry): when the source last heard a good answer from its server,
    /// whether or not the set changed. `None` for local sources and before the first answer.
    pub fn last_contact(&self) -> Option<SystemTime> {
        lock(&self.last_contact).map(|(at, _)| at)
    }

    /// Remote sources: how long the published set has gone unconfirmed by the server. Grows
    /// while the server is unreachable or failing; alerts belong on this, not on `rejected`.
    /// `None` for local sources and before the first answer (see [`Self::last_contact`]).
    pub fn staleness(&self) -> Option<Duration> {
        lock(&self.last_contact).map(|(_, at)| at.elapsed())
    }

    pub(crate) fn contacted(&self) {
        *lock(&self.last_contact) = Some((SystemTime::now(), Instant::now()));
    }

    pub(crate) fn loaded(&self) {
        *lock(&self.last_update) = Some(SystemTime::now());
    }

    pub(crate) fn updated(&self) {
        self.updates.fetch_add(1, Ordering::Relaxed);
        self.loaded();
    }

    pub(crate) fn rejected_with(&self, error: &str) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(error.to_owned());
    }
}

/// A panic while holding one of these locks cannot leave the plain values inside half-written.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
