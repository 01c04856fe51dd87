//! A Ketama consistent-hash ring, Envoy's `ring_hash` load balancer.
//!
//! Policy: each host is placed on a ring of `u64` hashes at several points, its *entries*: the
//! xxHash64 of `"{host_key}_{n}"` for `n = 0, 1, …` (Envoy's scheme; the host key is usually its
//! address). A request hash (see [`hash_key`](crate::hash_key)) goes to the host of the first
//! entry at or after it, wrapping round to the first entry (Envoy's lookup, sped up by an index).
//! When a host leaves, only the keys on its arcs move, to the next entries round the ring; when
//! it comes back they return. Hosts get entries in proportion to their weights, so weight 3 gets
//! about three times the keys of weight 1.
//!
//! Ring size (Envoy's rule): the lightest host gets `ceil(w_min / Σw × minimum_ring_size)`
//! entries and every host `w / w_min` times that, rounded to the nearest whole entry, so the ring
//! holds at least `minimum_ring_size` entries (a bigger ring spreads keys more evenly: a host's
//! share of keys deviates from its weight's by about `1/√entries`). If that would exceed
//! `maximum_ring_size`, each host gets `w / Σw × maximum_ring_size` entries instead, and at least
//! one. The ring so holds at most `maximum_ring_size` entries plus one per host, 14 bytes each with its index.
//!
//! Churn: because the ring is rescaled to keep `minimum_ring_size` entries, a host leaving (or
//! joining) can change how many entries the others get, and their new (or dropped) entries move
//! about another `1/N` of the keys between remaining hosts, so about `2/N` in all. That happens
//! for most `N` well below `minimum_ring_size` (10 → 9 hosts takes each from 103 to 114
//! entries; 18% of keys move, not 10%), but not always (50 → 49 keeps 21 each, and only the
//! leaving host's keys move). Envoy behaves the same; [`Maglev`](crate::Maglev) disrupts less.
//!
//! Differences from Envoy, each for determinism: a host's count is rounded on its own (Envoy
//! carries the fractions from host to host in input order, so counts may differ by one); every
//! host keeps at least one entry when the maximum caps the ring (Envoy may leave the lightest
//! out); equal hashes are ordered by host key; the same hosts in any order build the same ring.
//! Only xxHash64 is offered (no `MURMUR_HASH_2`), and the caller chooses the host key (address
//! or hostname).
//!
//! Defaults: `minimum_ring_size` 1024, `maximum_ring_size` 8,388,608 ([`RingHashConfig`]).
//!
//! Failure: no hosts → [`pick`](RingHash::pick) is `None` (the proxy answers 503). Two hosts
//! with one key → [`DuplicateHostKey`] from [`new`](RingHash::new). The ring is immutable: on
//! an update, build a new one off the request path and swap it in (e.g. with `arc-swap`).
//!
//! Placement: the proxy's per-request endpoint choice when the route has a hash policy, below
//! routing and above the connection pool; build it from the cluster's healthy hosts.
//!
//! ```
//! use std::num::NonZeroU32;
//! use mesh_lb::{hash_key, RingHash, RingHashConfig};
//!
//! let w = |n| NonZeroU32::new(n).unwrap();
//! let hosts = [("a", "10.0.0.1:80", w(1)), ("b", "10.0.0.2:80", w(1)), ("c", "10.0.0.3:80", w(2))];
//! let ring = RingHash::new(hosts, RingHashConfig::default())?;
//! assert_eq!(ring.len(), 3);
//! assert_eq!(ring.ring_len(), 1024); // 256 + 256 + 512 entries
//!
//! // The same key always lands on the same host...
//! let host = ring.pick(hash_key(b"session-7")).unwrap();
//! assert_eq!(ring.pick(hash_key(b"session-7")), Some(host));
//!
//! // ...and keeps it when another host leaves.
//! let leaving = if *host == "a" { "b" } else { "a" };
//! let rest = hosts.into_iter().filter(|&(name, ..)| name != leaving);
//! let smaller = RingHash::new(rest, RingHashConfig::default())?;
//! assert_eq!(smaller.pick(hash_key(b"session-7")), Some(host));
//!
//! let empty = RingHash::<&str>::new::<&str>([], RingHashConfig::default())?;
//! assert_eq!(empty.pick(42), None);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod config;
mod points;
#[cfg(test)]
mod tests;

pub use config::{DEFAULT_MINIMUM_RING_SIZE, InvalidRingSize, MAX_RING_SIZE, RingHashConfig};

use crate::hash::{DuplicateHostKey, hash_key, key_order};
use points::Points;
use std::fmt;
use std::num::NonZeroU32;

/// A consistent-hash ring over a fixed set of weighted hosts; immutable, so shared freely.
///
/// See the [module docs](self) for the policy.
pub struct RingHash<T> {
    endpoints: Box<[(T, NonZeroU32)]>,
    /// The entries, sorted, with their lookup index.
    points: Points,
    min_hashes_per_host: u64,
    max_hashes_per_host: u64,
}

impl<T> RingHash<T> {
    /// Builds the ring for `hosts`: each an endpoint, its stable hash key (usually its address)
    /// and its weight.
    ///
    /// Costs one xxHash64 per entry and a sort: with the defaults a ring of 1024 to a few
    /// thousand entries, well under a millisecond for 1000 hosts; about a second for 8M with
    /// the minimum raised, so do it off the request path. Hosts past the `u32::MAX`-th are
    /// ignored.
    pub fn new<K: AsRef<[u8]>>(
        hosts: impl IntoIterator<Item = (T, K, NonZeroU32)>,
        config: RingHashConfig,
    ) -> Result<Self, DuplicateHostKey> {
        let (endpoints, keys): (Vec<_>, Vec<_>) = hosts
            .into_iter()
            .take(u32::MAX as usize)
            .map(|(endpoint, key, weight)| ((endpoint, weight), key))
            .unzip();
        let order = key_order(&keys)?;
        let weights: Vec<u64> = endpoints.iter().map(|(_, w)| u64::from(w.get())).collect();
        let counts = entry_counts(&weights, &config);

        // Entries as (hash, rank of the host's key): sorting them orders equal hashes by key,
        // so the ring does not depend on the order the hosts came in.
        let mut rank = vec![0u32; keys.len()];
        for (r, &i) in (0u32..).zip(&order) {
            if let Some(slot) = rank.get_mut(i) {
                *slot = r;
            }
        }
        let total: u64 = counts.iter().sum();
        let mut ring: Vec<(u64, u32)> = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut buf = Vec::new();
        for ((key, &count), &r) in keys.iter().zip(&counts).zip(&rank) {
            buf.clear();
            buf.extend_from_slice(key.as_ref());
            buf.push(b'_');
            let prefix = buf.len();
            for n in 0..count {
                buf.truncate(prefix);
                push_decimal(&mut buf, n);
                ring.push((hash_key(&buf), r));
            }
        }
        ring.sort_unstable();

        // Entries now name their host's endpoint index.
        let index_of_rank = |r: u32| order.get(r as usize).map_or(0, |&i| i as u32);
        ring.iter_mut().for_each(|(_, r)| *r = index_of_rank(*r));
        Ok(Self {
            endpoints: endpoints.into_boxed_slice(),
            points: Points::new(&ring),
            min_hashes_per_host: counts.iter().copied().min().unwrap_or(0),
            max_hashes_per_host: counts.iter().copied().max().unwrap_or(0),
        })
    }

    /// The host owning `hash`: that of the first entry at or after it, wrapping round to the
    /// first entry. `None` only when there are no hosts.
    ///
    /// A bucket index over the hash space narrows the search to a handful of entries (the
    /// `points` module), so the cost barely grows with the ring: no locks, no allocation.
    pub fn pick(&self, hash: u64) -> Option<&T> {
        let host = self.points.find(hash)?;
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

    /// The number of entries on the ring.
    pub fn ring_len(&self) -> usize {
        self.points.len()
    }

    /// The fewest entries any host has (Envoy's `min_hashes_per_host` gauge); a low value means
    /// an uneven spread: raise `minimum_ring_size`. 0 without hosts.
    pub fn min_hashes_per_host(&self) -> u64 {
        self.min_hashes_per_host
    }

    /// The most entries any host has (Envoy's `max_hashes_per_host` gauge).
    pub fn max_hashes_per_host(&self) -> u64 {
        self.max_hashes_per_host
    }

    /// The hosts with their weights, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&T, NonZeroU32)> {
        self.endpoints.iter().map(|(endpoint, w)| (endpoint, *w))
    }
}

/// Entries per host for `weights` (each ≥ 1): see the module docs.
fn entry_counts(weights: &[u64], config: &RingHashConfig) -> Vec<u64> {
    let Some(&lightest_weight) = weights.iter().min() else {
        return Vec::new();
    };
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let w_min = u128::from(lightest_weight.max(1));
    let minimum = u128::from(config.minimum_ring_size());
    let maximum = u128::from(config.maximum_ring_size());
    // Nearest whole number to num / den (den > 0); all values fit easily in u128.
    let round = |num: u128, den: u128| u64::try_from((2 * num + den) / (2 * den)).unwrap_or(u64::MAX);
    let lightest = (w_min * minimum).div_ceil(sum.max(1));
    // Unscaled, the ring would hold lightest × Σw / w_min entries.
    if lightest * sum <= maximum * w_min {
        weights
            .iter()
            .map(|&w| round(lightest * u128::from(w), w_min))
            .collect()
    } else {
        weights
            .iter()
            .map(|&w| round(maximum * u128::from(w), sum).max(1))
            .collect()
    }
}

/// Appends `n` in decimal, as Envoy writes the entry number after the host key.
fn push_decimal(buf: &mut Vec<u8>, n: u64) {
    let start = buf.len();
    let mut n = n;
    loop {
        buf.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if let Some(digits) = buf.get_mut(start..) {
        digits.reverse();
    }
}

impl<T: fmt::Debug> fmt::Debug for RingHash<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ring can hold millions of entries; show its length only.
        f.debug_struct("RingHash")
            .field("endpoints", &self.endpoints)
            .field("ring_len", &self.points.len())
            .field("min_hashes_per_host", &self.min_hashes_per_host)
            .field("max_hashes_per_host", &self.max_hashes_per_host)
            .finish()
    }
}
