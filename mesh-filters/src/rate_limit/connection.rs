//! Admission of new TCP connections: Envoy's `connection_limit` and network `local_ratelimit`.

use super::bucket::TokenBucket;
use super::error::ConnectionRefused;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Caps a listener's open connections and, optionally, the rate of new ones.
///
/// The listener calls [`try_accept`](Self::try_accept) for each accepted socket and keeps the
/// [`ConnectionPermit`] for as long as the connection lives; dropping it frees the slot. A
/// refused socket is closed at once. Clones share the same counts.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    max_connections: Option<NonZeroU32>,
    rate: Option<TokenBucket>,
    active: AtomicU32,
    stats: ConnectionLimitStats,
}

/// Counters for one [`ConnectionLimit`].
#[derive(Debug, Default)]
pub struct ConnectionLimitStats {
    limited_connections: AtomicU64,
    rate_limited: AtomicU64,
}

impl ConnectionLimitStats {
    /// Connections refused because `max_connections` were open.
    pub fn limited_connections(&self) -> u64 {
        self.limited_connections.load(Ordering::Relaxed)
    }

    /// Connections refused because the rate bucket was empty.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
}

impl ConnectionLimit {
    /// `max_connections`: `None` for no cap. `rate`: a bucket of new connections, `None` for
    /// no rate limit.
    pub fn new(max_connections: Option<NonZeroU32>, rate: Option<TokenBucket>) -> Self {
        let shared = Shared {
            max_connections,
            rate,
            active: AtomicU32::new(0),
            stats: Default::default(),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Admits one connection, or says why not.
    pub fn try_accept(&self) -> Result<ConnectionPermit, ConnectionRefused> {
        let max = self.shared.max_connections.map_or(u32::MAX, NonZeroU32::get);
        let taken = self
            .shared
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then(|| n + 1));
        if taken.is_err() {
            self.shared
                .stats
                .limited_connections
                .fetch_add(1, Ordering::Relaxed);
            return Err(ConnectionRefused::TooManyConnections { max });
        }
        // From here the slot is ours and the permit gives it back on every path. The slot is
        // taken before the token because a slot can be returned and a token cannot.
        let permit = ConnectionPermit {
            shared: self.shared.clone(),
        };
        if let Some(Err(limited)) = self.shared.rate.as_ref().map(TokenBucket::try_acquire) {
            self.shared.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Err(ConnectionRefused::RateLimited {
                retry_after: limited.retry_after,
            });
        }
        Ok(permit)
    }

    /// Connections admitted and not yet dropped.
    pub fn active(&self) -> u32 {
        self.shared.active.load(Ordering::Acquire)
    }

    pub fn max_connections(&self) -> Option<NonZeroU32> {
        self.shared.max_connections
    }

    pub fn rate(&self) -> Option<&TokenBucket> {
        self.shared.rate.as_ref()
    }

    pub fn stats(&self) -> &ConnectionLimitStats {
        &self.shared.stats
    }
}

/// One admitted connection; dropping it frees its slot.
#[derive(Debug)]
#[must_use = "the connection's slot is freed when the permit is dropped"]
pub struct ConnectionPermit {
    shared: Arc<Shared>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.shared.active.fetch_sub(1, Ordering::AcqRel);
    }
}
