//! Hashing shared by the consistent-hashing balancers, [`RingHash`](crate::RingHash) and
//! [`Maglev`](crate::Maglev).
//!
//! Policy: every hash is xxHash64, Envoy's default `hash_function` (`XX_HASH`). Request keys
//! (a header value, a cookie, the source address: whatever the route's hash policy selects) are
//! hashed with [`hash_key`], seed 0, exactly as Envoy's `HashUtil::xxHash64` does; host keys
//! are hashed the same way when the ring or table is built. So with the same host keys, weights
//! and sizes, a request key picks the host Envoy would pick (up to the rounding differences each
//! balancer's docs list), which keeps affinity when a fleet mixes Envoy and mesh proxies.
//!
//! Combining several hash policies into one hash (Envoy rotates the running hash left by one
//! bit and XORs the next) is the proxy's job, not this module's.
//!
//! Failure: hashing cannot fail. Two hosts with the same key would land on the same ring points
//! and permutation, so building a balancer over them fails with [`DuplicateHostKey`]; the
//! caller keeps its previous balancer and reports the update.
//!
//! Placement: called on the request path by the proxy's hash policy, once per request, before
//! `pick`.
//!
//! ```
//! use mesh_lb::hash_key;
//!
//! // xxHash64 of the empty input with seed 0, the reference test vector.
//! assert_eq!(hash_key(b""), 0xEF46_DB37_51D8_E999);
//! // Same bytes, same hash: on every proxy, in every process.
//! assert_eq!(hash_key(b"user-42"), hash_key("user-42".as_bytes()));
//! ```

use xxhash_rust::xxh64::xxh64;

/// Hashes a request key (a header value, cookie, address …) for
/// [`RingHash::pick`](crate::RingHash::pick) or [`Maglev::pick`](crate::Maglev::pick).
///
/// xxHash64 with seed 0, which is what Envoy's hash policies compute for a single key. The
/// result is stable across processes, platforms and releases: it may be persisted or compared
/// between proxies.
pub fn hash_key(bytes: &[u8]) -> u64 {
    xxh64(bytes, 0)
}

/// xxHash64 with an explicit seed; Maglev derives its skip from seed 1.
pub(crate) fn hash_seeded(bytes: &[u8], seed: u64) -> u64 {
    xxh64(bytes, seed)
}

/// Two hosts given to a consistent-hashing balancer share one hash key, so they would share
/// every ring point (or Maglev permutation) and the balancer could not tell them apart.
///
/// `first` and `second` are their positions in the input (`first < second`). Discovery should
/// merge or drop duplicates before building the balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("hosts {first} and {second} have the same hash key")]
pub struct DuplicateHostKey {
    /// The position of the earlier host in the input.
    pub first: usize,
    /// The position of the later host in the input.
    pub second: usize,
}

/// The positions of `keys` in ascending byte order of the keys, or the first duplicate found.
///
/// Both balancers order their work by key rather than by input position, so the same host set
/// given in any order builds the same ring or table (an update that lists hosts in a new order
/// must not remap keys).
pub(crate) fn key_order<K: AsRef<[u8]>>(keys: &[K]) -> Result<Vec<usize>, DuplicateHostKey> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let key = |i: usize| keys.get(i).map_or(&[][..], AsRef::as_ref);
    order.sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
    for pair in order.windows(2) {
        if let [a, b] = *pair
            && key(a) == key(b)
        {
            return Err(DuplicateHostKey {
                first: a.min(b),
                second: a.max(b),
            });
        }
    }
    Ok(order)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Fixtures shared by the ring hash and Maglev tests.

    use super::hash_key;

    /// A host key shaped like the addresses discovery hands over.
    pub fn address(i: usize) -> String {
        format!("10.0.{}.{}:8080", i / 256, i % 256)
    }

    /// `n` request hashes from fixed keys (`key-0`, `key-1`, …): deterministic, and spread over
    /// the whole `u64` range as real request keys are.
    pub fn request_hashes(n: usize) -> Vec<u64> {
        (0..n).map(|i| hash_key(format!("key-{i}").as_bytes())).collect()
    }

    /// The fraction of `before` and `after` (host per request hash) that differ.
    pub fn moved<T: PartialEq>(before: &[T], after: &[T]) -> f64 {
        let moved = before.iter().zip(after).filter(|(b, a)| b != a).count();
        moved as f64 / before.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_key_is_xxh64_seed_0() {
        // Reference vectors of xxHash64 (seed 0): the empty input and "abc".
        assert_eq!(hash_key(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(hash_key(b"abc"), 0x44BC_2CF5_AD77_0999);
        assert_ne!(hash_seeded(b"abc", 1), hash_key(b"abc"));
    }

    #[test]
    fn key_order_sorts_and_finds_duplicates() {
        assert_eq!(key_order(&["b", "c", "a"]), Ok(vec![2, 0, 1]));
        assert_eq!(key_order::<&str>(&[]), Ok(vec![]));
        assert_eq!(
            key_order(&["x", "a", "y", "a"]),
            Err(DuplicateHostKey { first: 1, second: 3 })
        );
    }
}
