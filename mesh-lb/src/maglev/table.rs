//! Populating a Maglev lookup table (Eisenbud et al., NSDI 2016, pseudocode listing 1, with
//! Envoy's weights).
//!
//! Each host has a preference list, a permutation of the slots: `offset, offset + skip, offset +
//! 2·skip, …` modulo the table size `M`, where `offset = xxh64(key, 0) mod M` and `skip =
//! xxh64(key, 1) mod (M − 1) + 1`. Since `M` is prime and `1 ≤ skip < M`, every list visits
//! every slot. Hosts then take turns: on its turn a host claims the first slot of its list not
//! yet taken, until the table is full.
//!
//! Weights (Envoy's weighted Maglev): turns come in rounds `t = 1, 2, …`, hosts in key order
//! within a round, and a host with weight `w` takes a turn in round `t` when `t × w ≥ k × w_max`,
//! `k` being the turns it has had. The heaviest hosts take one every round, weight `w_max / 3`
//! one every third round, so slots are shared in proportion to weight. Envoy evaluates the rule
//! on doubles (normalized weights); here it is exact integer arithmetic, which agrees except
//! where Envoy's rounding breaks an exact tie the other way.
//!
//! Cost: Envoy scans every host in every round, O(rounds × hosts), which for one heavy host
//! among many light ones is O(M × hosts). Here a heap yields the turns in the same order, so
//! a turn costs O(log hosts) and light hosts cost nothing in the rounds they sit out. Walking
//! the lists costs O(M log M) probes in all (the last free slots take the longest to find), as
//! in the paper; they read a bitmap of taken slots that fits in L1 cache. For `M = 65,537` and
//! 1000 hosts the whole build takes about 4 ms (`benches/hashing.rs`).

use crate::hash::hash_seeded;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A slot no host has claimed yet.
const FREE: u32 = u32::MAX;

/// One host's state while the table fills.
struct Preferences {
    /// The next slot of its preference list.
    next: u64,
    skip: u64,
    weight: u64,
    /// Turns taken so far (each claims exactly one slot).
    turns: u64,
}

/// The table for hosts given as `(key, weight)` in turn order, `size` slots (a prime).
///
/// Slot `s` holds the position in `hosts` of its owner. Every host gets at least one slot when
/// `hosts.len() ≤ size` (all take a turn in round 1). Empty when `hosts` is.
pub fn populate(hosts: &[(&[u8], u64)], size: u64) -> Vec<u32> {
    let len = usize::try_from(size).unwrap_or(0);
    if hosts.is_empty() || len == 0 {
        return Vec::new();
    }
    let w_max = hosts.iter().map(|&(_, w)| w.max(1)).max().unwrap_or(1);
    let mut prefs: Vec<Preferences> = hosts
        .iter()
        .map(|&(key, weight)| Preferences {
            next: hash_seeded(key, 0) % size,
            skip: hash_seeded(key, 1) % (size - 1).max(1) + 1,
            weight: weight.max(1),
            turns: 0,
        })
        .collect();
    // Every host's next turn as `round << 32 | host`, earliest first, then in host order. The
    // table is full by round `size` (the heaviest hosts take a turn every round), so rounds
    // past `size + 1` need not be told apart and every key fits: size ≤ 5,000,011 < 2^32.
    let mut due: BinaryHeap<Reverse<u64>> =
        (0u64..).take(prefs.len()).map(|i| Reverse(1 << 32 | i)).collect();
    let mut table = vec![FREE; len];
    let mut taken = vec![0u64; len.div_ceil(64)];
    let mut filled = 0;
    while filled < len {
        // Reschedule the host in place: one sift instead of a pop and a push.
        let Some(mut next_turn) = due.peek_mut() else {
            break;
        };
        let Reverse(turn) = *next_turn;
        let (round, host) = (turn >> 32, turn as u32);
        let Some(p) = prefs.get_mut(host as usize) else {
            break;
        };
        // Within `size` steps the walk meets every slot, so it finds a free one: the table is
        // not full. The walk reads a bitmap of taken slots (8 KiB at the default size, so it
        // stays in L1 cache) and writes the table only for the slot it claims.
        for _ in 0..size {
            let slot = p.next as usize;
            p.next += p.skip;
            if p.next >= size {
                p.next -= size;
            }
            let (word, bit) = (slot / 64, 1u64 << (slot % 64));
            if let Some(taken) = taken.get_mut(word)
                && *taken & bit == 0
            {
                *taken |= bit;
                if let Some(owner) = table.get_mut(slot) {
                    *owner = host;
                }
                filled += 1;
                break;
            }
        }
        p.turns += 1;
        // The first later round with round × w ≥ turns × w_max. All fit in u64: turns ≤ size
        // ≤ 5,000,011 and weights are u32.
        let next_round = (p.turns * w_max).div_ceil(p.weight).max(round + 1).min(size + 1);
        *next_turn = Reverse(next_round << 32 | u64::from(host));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Envoy's loop, transcribed with integer weights: the reference for the heap's order.
    fn envoy_rounds(hosts: &[(&[u8], u64)], size: u64) -> Vec<u32> {
        let len = size as usize;
        let w_max = hosts.iter().map(|h| h.1).max().unwrap();
        let mut state: Vec<(u64, u64, u64)> = hosts
            .iter()
            .map(|&(k, _)| (hash_seeded(k, 0) % size, hash_seeded(k, 1) % (size - 1) + 1, 0))
            .collect();
        let mut table = vec![FREE; len];
        let mut filled = 0;
        let mut round = 1;
        while filled < len {
            for (i, &(_, w)) in hosts.iter().enumerate() {
                let (offset, skip, turns) = &mut state[i];
                if filled == len || round * w < *turns * w_max {
                    continue;
                }
                let mut next = 0;
                let mut slot = ((*offset + *skip * next) % size) as usize;
                while table[slot] != FREE {
                    next += 1;
                    slot = ((*offset + *skip * next) % size) as usize;
                }
                table[slot] = i as u32;
                *offset = (*offset + *skip * (next + 1)) % size;
                *turns += 1;
                filled += 1;
            }
            round += 1;
        }
        table
    }

    #[test]
    fn same_table_as_envoys_rounds() {
        let keys: Vec<String> = (0..7).map(|i| format!("host-{i}")).collect();
        for weights in [
            [1, 1, 1, 1, 1, 1, 1],
            [1, 2, 3, 4, 5, 6, 7],
            [100, 1, 1, 33, 50, 7, 99],
        ] {
            let hosts: Vec<(&[u8], u64)> = keys.iter().map(|k| k.as_bytes()).zip(weights).collect();
            assert_eq!(populate(&hosts, 251), envoy_rounds(&hosts, 251), "{weights:?}");
        }
    }

    #[test]
    fn every_host_gets_a_slot_when_they_fit() {
        let keys: Vec<String> = (0..13).map(|i| format!("h{i}")).collect();
        let hosts: Vec<(&[u8], u64)> = keys.iter().map(|k| (k.as_bytes(), 1)).collect();
        let table = populate(&hosts, 13);
        let mut seen = table.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..13).collect::<Vec<u32>>());
    }
}
