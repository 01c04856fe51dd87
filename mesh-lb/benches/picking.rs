//! The request path's cost of choosing an endpoint: one `pick` among 100 endpoints, per policy.
//!
//! Run with `cargo bench -p mesh-lb --bench picking` (release profile). Target: under 100 ns per
//! pick for round robin, P2C least-request and peak-EWMA. The loads are set up as a busy cluster
//! looks: a few requests in flight on each host and a latency sample per host, so P2C and
//! peak-EWMA do their full comparison (and peak-EWMA its decay) on every pick. The weighted
//! least-request mode is here too, to show its O(n) cost (see `least_request`'s docs).

use criterion::{Criterion, criterion_group, criterion_main};
use mesh_lb::{InFlight, LeastRequest, LeastRequestConfig, Load, PeakEwma, Random, WeightedRoundRobin};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENDPOINTS: u32 = 100;

fn weight(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// 100 hosts with 0–7 requests in flight and a 1–50 ms latency sample each, observed 1 s before
/// `now`. The guards keep the requests in flight.
fn cluster(now: Instant) -> (Vec<Arc<Load>>, Vec<InFlight>) {
    let mut rng = SmallRng::seed_from_u64(1);
    let earlier = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
    let mut guards = Vec::new();
    let loads = (0..ENDPOINTS)
        .map(|_| {
            let load = Arc::new(Load::new());
            load.observe(Duration::from_millis(rng.random_range(1..=50)), earlier);
            guards.extend((0..rng.random_range(0..8)).map(|_| load.start(earlier)));
            load
        })
        .collect();
    (loads, guards)
}

fn picking(c: &mut Criterion) {
    let now = Instant::now();
    let (loads, _guards) = cluster(now);
    let equal = || {
        (0..ENDPOINTS)
            .zip(loads.iter().cloned())
            .map(|(i, load)| (i, NonZeroU32::MIN, load))
    };
    let unequal = || {
        (0..ENDPOINTS)
            .zip(loads.iter().cloned())
            .map(|(i, load)| (i, weight(1 + i % 4), load))
    };
    let mut rng = SmallRng::seed_from_u64(2);
    let mut group = c.benchmark_group("pick among 100 endpoints");

    let rr = WeightedRoundRobin::new((0..ENDPOINTS).map(|i| (i, NonZeroU32::MIN)));
    group.bench_function("round robin", |b| b.iter(|| black_box(rr.pick())));
    let wrr = WeightedRoundRobin::new((0..ENDPOINTS).map(|i| (i, weight(1 + i % 4))));
    group.bench_function("weighted round robin", |b| b.iter(|| black_box(wrr.pick())));

    let random = Random::new((0..ENDPOINTS).map(|i| (i, weight(1 + i % 4))));
    group.bench_function("weighted random", |b| b.iter(|| black_box(random.pick(&mut rng))));

    match LeastRequest::new(equal(), LeastRequestConfig::default()) {
        Ok(lb) => {
            group.bench_function("least request P2C", |b| b.iter(|| black_box(lb.pick(&mut rng))));
        }
        Err(error) => eprintln!("least request P2C: {error}"),
    }
    match LeastRequest::new(unequal(), LeastRequestConfig::default()) {
        Ok(lb) => {
            group.bench_function("least request weighted, bias 1", |b| {
                b.iter(|| black_box(lb.pick(&mut rng)))
            });
        }
        Err(error) => eprintln!("least request weighted: {error}"),
    }

    let ewma = PeakEwma::new(equal());
    group.bench_function("peak EWMA", |b| {
        b.iter(|| black_box(ewma.pick(&mut rng, black_box(now))))
    });
    group.bench_function("peak EWMA + Instant::now()", |b| {
        b.iter(|| black_box(ewma.pick(&mut rng, Instant::now())))
    });

    // The request path around a pick: count the request in and out.
    let load = Arc::clone(&loads[0]);
    group.bench_function("Load::start + InFlight::finish", |b| {
        b.iter(|| load.start(now).finish(black_box(now)))
    });
    group.finish();
}

criterion_group!(benches, picking);
criterion_main!(benches);
