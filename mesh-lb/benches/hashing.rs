//! The consistent-hashing balancers: one `pick` among 1000 hosts (the request path) and one
//! build for 1000 hosts (every host-set change).
//!
//! Run with `cargo bench -p mesh-lb --bench hashing` (release profile). Targets: under 100 ns
//! per pick, under 20 ms per Maglev build. Picks cycle through 4096 precomputed request hashes,
//! so neither the branch predictor nor the cache sees one key over and over; hashing the request
//! key itself ([`mesh_lb::hash_key`], benched separately) comes on top.

use criterion::{Criterion, criterion_group, criterion_main};
use mesh_lb::{Maglev, MaglevConfig, RingHash, RingHashConfig, hash_key};
use std::hint::black_box;
use std::num::NonZeroU32;

const HOSTS: usize = 1000;

/// 1000 hosts keyed by address, weights 1–4.
fn hosts() -> Vec<(usize, String, NonZeroU32)> {
    (0..HOSTS)
        .map(|i| {
            let weight = NonZeroU32::new(i as u32 % 4 + 1).unwrap_or(NonZeroU32::MIN);
            (i, format!("10.0.{}.{}:8080", i / 256, i % 256), weight)
        })
        .collect()
}

fn request_hashes() -> Vec<u64> {
    (0..4096)
        .map(|i| hash_key(format!("session-{i}").as_bytes()))
        .collect()
}

/// Benchmarks `pick` over the precomputed hashes, one hash per iteration.
fn bench_pick<T>(c: &mut Criterion, name: &str, pick: impl Fn(u64) -> Option<T>) {
    let hashes = request_hashes();
    let mut next = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            next = (next + 1) % hashes.len();
            black_box(pick(black_box(hashes.get(next).copied().unwrap_or(0))))
        })
    });
}

fn hashing(c: &mut Criterion) {
    c.bench_function("hash_key of a 36-byte session id", |b| {
        let key = b"3f2b8c1e-9d4a-4e6f-8a1b-2c3d4e5f6a7b";
        b.iter(|| hash_key(black_box(key)))
    });

    let Ok(ring) = RingHash::new(hosts(), RingHashConfig::default()) else {
        return;
    };
    bench_pick(c, "ring_hash pick among 1000 hosts", |h| ring.pick(h).copied());

    // Envoy's docs suggest a larger minimum for an even spread over many hosts: 1M entries
    // (12 MiB) no longer fit in cache, so this is the pessimistic lookup.
    if let Ok(config) = RingHashConfig::new(1 << 20, 8 << 20)
        && let Ok(ring) = RingHash::new(hosts(), config)
    {
        bench_pick(c, "ring_hash pick among 1000 hosts, 1M-entry ring", |h| {
            ring.pick(h).copied()
        });
    }

    let Ok(maglev) = Maglev::new(hosts(), MaglevConfig::default()) else {
        return;
    };
    bench_pick(c, "maglev pick among 1000 hosts", |h| maglev.pick(h).copied());

    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    let input = hosts();
    group.bench_function("maglev build 1000 hosts", |b| {
        b.iter(|| {
            Maglev::new(
                black_box(input.iter().map(|(i, k, w)| (*i, k, *w))),
                MaglevConfig::default(),
            )
        })
    });
    group.bench_function("ring_hash build 1000 hosts", |b| {
        b.iter(|| {
            RingHash::new(
                black_box(input.iter().map(|(i, k, w)| (*i, k, *w))),
                RingHashConfig::default(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
