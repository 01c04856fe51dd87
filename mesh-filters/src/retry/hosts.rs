//! The retry host predicate's contract with the balancer.
//!
//! With [`RetryPolicy::avoid_previous_hosts`](super::RetryPolicy::avoid_previous_hosts)
//! set, every attempt's request carries two extensions, both keyed by the balancer's
//! host key `K` (a `SocketAddr` by default; any small `Clone + PartialEq` id works):
//!
//! - [`AttemptHost<K>`]: the balancer calls [`record`](AttemptHost::record) with the
//!   host it picked. This works whether the attempt ends in a response, an error or
//!   is abandoned, which a response extension could not.
//! - [`PreviousHosts<K>`]: the hosts recorded by earlier attempts of the same request,
//!   oldest first. The balancer should pick another host when it can (Envoy retries the
//!   pick up to `host_selection_retry_max_attempts` times, then takes what it got).
//!
//! A balancer that ignores both still works; retries just may land on the same host.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Hosts already tried for this request, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousHosts<K = SocketAddr>(Vec<K>);

impl<K: PartialEq> PreviousHosts<K> {
    pub fn hosts(&self) -> &[K] {
        &self.0
    }

    /// Whether `host` served an earlier attempt.
    pub fn contains(&self, host: &K) -> bool {
        self.0.contains(host)
    }

    pub(super) fn new() -> Self {
        PreviousHosts(Vec::new())
    }

    pub(super) fn push(&mut self, host: K) {
        self.0.push(host);
    }
}

/// Where the balancer reports the host it picked for this attempt; the first report wins.
#[derive(Debug, Clone)]
pub struct AttemptHost<K = SocketAddr>(Arc<OnceLock<K>>);

impl<K> AttemptHost<K> {
    /// Records the host serving this attempt; later calls are ignored.
    pub fn record(&self, host: K) {
        // Ignoring the error is the contract: one attempt, one host.
        let _ = self.0.set(host);
    }

    pub(super) fn new() -> Self {
        AttemptHost(Arc::new(OnceLock::new()))
    }

    pub(super) fn get(&self) -> Option<&K> {
        self.0.get()
    }
}
