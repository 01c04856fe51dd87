//! The ring's entries, sorted, and the lookup of the entry owning a hash.
//!
//! A plain binary search over millions of entries takes a cache miss at most of its ~23 steps.
//! So the hash space is also cut into `2^bits` equal buckets (about one per four entries) and
//! `starts` records where each bucket's entries begin: a lookup reads its bucket's bounds and
//! searches the few entries between them, two or three cache misses whatever the ring size. The
//! index costs 2 bytes per entry on top of the entries' 12.

/// Entries in a bucket on average, for a full-sized index.
const ENTRIES_PER_BUCKET_LOG2: u32 = 2;

/// At most 2^24 buckets (128 MiB of index would need a ring of 64M entries; the largest is
/// about 8M plus one per host).
const MAX_BITS: u32 = 24;

/// Ring entries sorted by hash, with a bucket index over the top bits of the hash.
pub(super) struct Points {
    /// Entry hashes, ascending.
    pub hashes: Box<[u64]>,
    /// `hosts[i]`: the endpoint index of entry `i`.
    pub hosts: Box<[u32]>,
    /// `starts[b]`: the first entry in bucket `b` or later; `starts[2^bits]` is the entry count.
    starts: Box<[usize]>,
    /// `64 − bits`: a hash shifted right by this is its bucket.
    shift: u32,
}

impl Points {
    /// Indexes `entries`, `(hash, endpoint index)` sorted by hash.
    pub fn new(entries: &[(u64, u32)]) -> Self {
        let hashes: Box<[u64]> = entries.iter().map(|&(h, _)| h).collect();
        let hosts = entries.iter().map(|&(_, host)| host).collect();
        let bits = hashes
            .len()
            .checked_ilog2()
            .unwrap_or(0)
            .saturating_sub(ENTRIES_PER_BUCKET_LOG2)
            .clamp(1, MAX_BITS);
        let shift = 64 - bits;
        let mut starts = Vec::with_capacity((1 << bits) + 1);
        let mut i = 0;
        for bucket in 0..=(1u64 << bits) {
            i += hashes.get(i..).map_or(0, |rest| {
                rest.iter().take_while(|&&h| h >> shift < bucket).count()
            });
            starts.push(i);
        }
        Self {
            hashes,
            hosts,
            starts: starts.into_boxed_slice(),
            shift,
        }
    }

    /// The endpoint of the first entry at or after `hash`, wrapping round to the first entry;
    /// `None` when there are no entries.
    ///
    /// Every entry before `hash`'s bucket is below `hash` and every entry after it above, so
    /// the answer is in the bucket or is the first entry after it.
    pub fn find(&self, hash: u64) -> Option<u32> {
        let bucket = (hash >> self.shift) as usize;
        let (start, end) = (*self.starts.get(bucket)?, *self.starts.get(bucket + 1)?);
        let i = start + self.hashes.get(start..end)?.partition_point(|&h| h < hash);
        let i = if i == self.hashes.len() { 0 } else { i };
        self.hosts.get(i).copied()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: a binary search over the whole ring, as Envoy does.
    fn find_by_binary_search(entries: &[(u64, u32)], hash: u64) -> Option<u32> {
        let i = entries.partition_point(|&(h, _)| h < hash);
        entries
            .get(if i == entries.len() { 0 } else { i })
            .map(|&(_, host)| host)
    }

    #[test]
    fn empty_finds_nothing() {
        let points = Points::new(&[]);
        assert_eq!(
            (points.find(0), points.find(u64::MAX), points.len()),
            (None, None, 0)
        );
    }

    #[test]
    fn edges_of_the_hash_space() {
        let entries = [(0, 0), (1 << 63, 1), (u64::MAX, 2)];
        let points = Points::new(&entries);
        for hash in [
            0,
            1,
            (1 << 63) - 1,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(
                points.find(hash),
                find_by_binary_search(&entries, hash),
                "{hash:#x}"
            );
        }
    }

    proptest! {
        #[test]
        fn same_answer_as_a_binary_search(
            mut hashes in prop::collection::vec(any::<u64>(), 0..=300),
            probes in prop::collection::vec(any::<u64>(), 1..=100),
        ) {
            hashes.sort_unstable();
            let entries: Vec<(u64, u32)> = hashes.iter().zip(0..).map(|(&h, i)| (h, i)).collect();
            let points = Points::new(&entries);
            for probe in probes.into_iter().chain(hashes.iter().flat_map(|&h| [h, h.wrapping_add(1)])) {
                prop_assert_eq!(points.find(probe), find_by_binary_search(&entries, probe));
            }
        }
    }
}
