//! Maglev consistent hashing (Google's Maglev, NSDI 2016), Envoy's `maglev` load balancer.
//!
//! Policy: a lookup table of `table_size` slots (a prime `M`), each owned by one host; a
//! request hash (see [`hash_key`](crate::hash_key)) goes to the owner of slot `hash mod M`:
//! one division and one load, whatever the host count. The table is filled by letting hosts
//! take turns claiming the next free slot of their own pseudo-random permutation of the slots,
//! derived from two xxHash64s of the host key (the `table` module's source has the details).
//! Unlike a hash ring this spreads the slots almost evenly: with equal weights every host owns
//! `⌊M/N⌋` or `⌈M/N⌉` slots. Weighted as in Envoy: a host with weight `w` takes a turn in the
//! rounds where `round × w ≥ turns taken × w_max`, so its share of slots is in proportion to its
//! weight. When a host leaves, its slots go to the others and most other slots keep their owner:
//! the keys that move are about the leaving host's `1/N`, plus a little (the paper's "minimal
//! disruption" is approximate; the tests bound it).
//!
//! Defaults: `table_size` 65,537 ([`MaglevConfig`]); at most 5,000,011, prime, as in Envoy. Keep
//! `M ≥ 100 × N` for shares within about 1% of even. The table is 4 bytes a slot (256 KiB at the
//! default). Building it takes a few milliseconds for 1000 hosts.
//!
//! Differences from Envoy: the turn rule is computed on integers (Envoy uses doubles; the two
//! agree except where Envoy's rounding breaks an exact tie the other way); more hosts than slots
//! is an error (Envoy drops the extra hosts); two hosts with one key are an error. As in Envoy,
//! hosts take their turns in order of their keys, so the same hosts in any order build the same
//! table. Not yet here: Envoy's retry-attempt rehash and bounded load (`hash_balance_factor`).
//!
//! Failure: no hosts → [`pick`](Maglev::pick) is `None` (the proxy answers 503). More hosts than
//! slots or a duplicate key → [`MaglevBuildError`] from [`new`](Maglev::new); keep the previous
//! table. The table is immutable: on an update, build a new one off the request path and swap
//! it in (e.g. with `arc-swap`).
//!
//! Placement: the proxy's per-request endpoint choice when the route has a hash policy, below
//! routing and above the connection pool; build it from the cluster's healthy hosts.
//!
//! ```
//! use std::num::NonZeroU32;
//! use mesh_lb::{hash_key, Maglev, MaglevConfig};
//!
//! let w = |n| NonZeroU32::new(n).unwrap();
//! let hosts = [("a", "10.0.0.1:80", w(1)), ("b", "10.0.0.2:80", w(3))];
//! let lb = Maglev::new(hosts, MaglevConfig::default())?;
//! assert_eq!(lb.table_size(), 65_537);
//! // Weight 3 owns three quarters of the slots, weight 1 the rest.
//! assert_eq!((lb.min_entries_per_host(), lb.max_entries_per_host()), (16_385, 49_152));
//!
//! let host = lb.pick(hash_key(b"session-7")).unwrap();
//! assert_eq!(lb.pick(hash_key(b"session-7")), Some(host));
//!
//! assert!(MaglevConfig::new(65_536).is_err()); // not a prime
//! let empty = Maglev::<&str>::new::<&str>([], MaglevConfig::default())?;
//! assert_eq!(empty.pick(42), None);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
mod table;
#[cfg(test)]
mod tests;

pub use config::{DEFAULT_TABLE_SIZE, InvalidTableSize, MAX_TABLE_SIZE, MaglevConfig};
pub use error::{MaglevBuildError, TableTooSmall};

use crate::hash::key_order;
use std::fmt;
use std::num::NonZeroU32;

/// A Maglev lookup table over a fixed set of weighted hosts; immutable, so shared freely.
///
/// See the [module docs](self) for the policy.
pub struct Maglev<T> {
    endpoints: Box<[(T, NonZeroU32)]>,
    /// Slot → index into `endpoints`; empty when there are no hosts.
    table: Box<[u32]>,
    table_size: u64,
    min_entries_per_host: u64,
    max_entries_per_host: u64,
}

impl<T> Maglev<T> {
    /// Builds the table for `hosts`: each an endpoint, its stable hash key (usually its address)
    /// and its weight.
    ///
    /// O(M log M) for `M` slots plus O(M log N) for the turns: milliseconds at the default
    /// size, so do it off the request path.
    pub fn new<K: AsRef<[u8]>>(
        hosts: impl IntoIterator<Item = (T, K, NonZeroU32)>,
        config: MaglevConfig,
    ) -> Result<Self, MaglevBuildError> {
        let (endpoints, keys): (Vec<_>, Vec<_>) = hosts
            .into_iter()
            .map(|(endpoint, key, weight)| ((endpoint, weight), key))
            .unzip();
        let table_size = config.table_size();
        if endpoints.len() as u64 > table_size {
            return Err(TableTooSmall {
                hosts: endpoints.len(),
                table_size,
            }
            .into());
        }
        let order = key_order(&keys)?;
        let turn_order: Vec<(&[u8], u64)> = order
            .iter()
            .filter_map(|&i| Some((keys.get(i)?.as_ref(), u64::from(endpoints.get(i)?.1.get()))))
            .collect();
        // `populate` numbers hosts by turn; map them back to input positions (< M ≤ 5,000,011).
        let table: Box<[u32]> = table::populate(&turn_order, table_size)
            .into_iter()
            .map(|turn| order.get(turn as usize).map_or(0, |&i| i as u32))
            .collect();
        let mut counts = vec![0u64; endpoints.len()];
        for &host in &table {
            if let Some(count) = counts.get_mut(host as usize) {
                *count += 1;
            }
        }
        Ok(Self {
            endpoints: endpoints.into_boxed_slice(),
            table,
            table_size,
            min_entries_per_host: counts.iter().copied().min().unwrap_or(0),
            max_entries_per_host: counts.iter().copied().max().unwrap_or(0),
        })
    }

    /// The owner of slot `hash mod table_size`. `None` only when there are no hosts.
    ///
    /// One division and one table load: no locks, no allocation.
    pub fn pick(&self, hash: u64) -> Option<&T> {
        let slot = hash.checked_rem(self.table.len() as u64)?;
        let host = *self.table.get(slot as usize)?;
        self.endpoints.get(host as usize).map(|(endpoint, _)| endpoint)
    }

    /// The number of hosts.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are no hosts (then [`pick`](Self::pick) is always `None`).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The configured number of slots (the table itself is empty without hosts).
    pub fn table_size(&self) -> u64 {
        self.table_size
    }

    /// The fewest slots any host owns (Envoy's `min_entries_per_host` gauge). 0 without hosts.
    pub fn min_entries_per_host(&self) -> u64 {
        self.min_entries_per_host
    }

    /// The most slots any host owns (Envoy's `max_entries_per_host` gauge).
    pub fn max_entries_per_host(&self) -> u64 {
        self.max_entries_per_host
    }

    /// The hosts with their weights, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32)> {
        self.endpoints.iter().map(|(endpoint, w)| (endpoint, *w))
    }
}

impl<T: fmt::Debug> fmt::Debug for Maglev<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The table has tens of thousands of slots; show its size only.
        f.debug_struct("Maglev")
            .field("endpoints", &self.endpoints)
            .field("table_size", &self.table_size)
            .field("min_entries_per_host", &self.min_entries_per_host)
            .field("max_entries_per_host", &self.max_entries_per_host)
            .finish()
    }
}
