//! The trace-sampling decision as a function of the request ID alone.
//!
//! Every hop of a call chain sees the same ID, so every hop reaches the same decision without
//! passing one along: 1% sampling keeps 1% of call chains whole, not 1% of spans scattered
//! across chains. That only holds if the function is the same everywhere, so it is spelled out
//! here and pinned by golden tests; it must never depend on std's `DefaultHasher` (randomly
//! keyed per process) or on anything but the ID's bytes.
//!
//! The rule, on a bucket in `0..10_000` (a hundredth of a percent each):
//! - an ID whose first 8 bytes are hex digits (any UUID, either case) takes those 8 digits as a
//!   `u32`, modulo 10 000: Envoy's UUID extension (`modBy`), so a chain that crosses Envoy
//!   hops with the same `random_sampling` agrees with them;
//! - any other ID takes the 64-bit FNV-1a hash of all its bytes, modulo 10 000.
//!
//! The ID is sampled when its bucket is below `percent × 100`, rounded to a whole bucket; so
//! 0% samples nothing, 100% everything, and raising the percentage only ever adds chains.

use mesh_core::policy::Percent;

/// Buckets per 100%: Envoy's `FractionalPercent` denominator `TEN_THOUSAND`.
const BUCKETS: u64 = 10_000;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Whether the call chain with request ID `id` is traced at `percent`; see the
/// [module docs](self) for the rule, which is stable across processes, machines and releases.
///
/// ```
/// use mesh_core::policy::Percent;
/// use mesh_filters::request_id::sampled;
///
/// // 0x0000_1388 = 5000: bucket 5000 of 10 000, sampled from 50.01% up.
/// let id = b"00001388-9a6e-4b1c-8d2f-0123456789ab";
/// assert!(!sampled(id, Percent::new(50.0).unwrap()));
/// assert!(sampled(id, Percent::new(50.01).unwrap()));
/// assert!(!sampled(id, Percent::ZERO) && sampled(id, Percent::HUNDRED));
/// ```
pub fn sampled(id: &[u8], percent: Percent) -> bool {
    bucket(id) < threshold(percent)
}

/// The ID's bucket in `0..BUCKETS`.
pub(crate) fn bucket(id: &[u8]) -> u64 {
    let value = leading_hex(id).map_or_else(|| fnv1a(id), u64::from);
    value % BUCKETS
}

/// The first 8 bytes as a hex `u32`, when they all are hex digits.
fn leading_hex(id: &[u8]) -> Option<u32> {
    let head = id.get(..8)?;
    head.iter().try_fold(0u32, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(acc << 4 | digit)
    })
}

/// 64-bit FNV-1a: fixed by its spec, so every build computes the same value.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// Buckets sampled at `percent`; `Percent` is in `0..=100`, so this is in `0..=BUCKETS`.
fn threshold(percent: Percent) -> u64 {
    // In range and never NaN (Percent's invariant), so the cast neither truncates nor wraps.
    (percent.get() * 100.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (isthe.com/chongo/tech/comp/fnv), 64-bit FNV-1a.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn uuids_use_their_first_eight_hex_digits_like_envoy() {
        // 0xffffffff % 10_000 = 7295.
        assert_eq!(bucket(b"ffffffff-0000-4000-8000-000000000000"), 7295);
        assert_eq!(bucket(b"FFFFFFFF-0000-4000-8000-000000000000"), 7295);
        // Only the first 8 digits count: the rest of the UUID does not move the bucket.
        assert_eq!(bucket(b"0000270f-1111-4111-9111-111111111111"), 9999);
        assert_eq!(bucket(b"0000270f-2222-4222-a222-222222222222"), 9999);
        // Eight hex digits are enough, as in Envoy, even without the rest of a UUID.
        assert_eq!(bucket(b"00002710"), 0);
    }

    #[test]
    fn other_ids_use_fnv1a() {
        for id in [&b"req-42"[..], b"0000000g-not-hex", b"1234567", b""] {
            assert_eq!(bucket(id), fnv1a(id) % BUCKETS, "{id:?}");
        }
        // Golden value, so a change of rule cannot pass unnoticed: 0x85944171f73967e8 % 10_000.
        assert_eq!(bucket(b"foobar"), 0x8594_4171_f739_67e8 % 10_000);
        assert_eq!(bucket(b"foobar"), 6968);
    }

    #[test]
    fn threshold_rounds_to_hundredths_of_a_percent() {
        let pct = |p: f64| Percent::new(p).unwrap();
        assert_eq!(threshold(Percent::ZERO), 0);
        assert_eq!(threshold(pct(1.0)), 100);
        assert_eq!(threshold(pct(0.015)), 2);
        assert_eq!(threshold(Percent::HUNDRED), 10_000);
        // The last bucket is sampled at 100% and only then.
        let last = b"0000270f-0000-4000-8000-000000000000";
        assert!(sampled(last, Percent::HUNDRED));
        assert!(!sampled(last, pct(99.99)));
        let first = b"00000000-0000-4000-8000-000000000000";
        assert!(sampled(first, pct(0.01)));
        assert!(!sampled(first, Percent::ZERO));
    }
}
