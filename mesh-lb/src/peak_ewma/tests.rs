use super::*;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;

fn w(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Hosts `0..n` with equal weights, each with one latency sample (or none) at `now`.
fn hosts(latencies: &[Option<u64>], now: Instant) -> Vec<(usize, NonZeroU32, Arc<Load>)> {
    latencies
        .iter()
        .enumerate()
        .map(|(i, latency)| {
            let load = Arc::new(Load::new());
            if let Some(latency) = latency {
                load.observe(ms(*latency), now);
            }
            (i, NonZeroU32::MIN, load)
        })
        .collect()
}

fn histogram(lb: &PeakEwma<usize>, rng: &mut SmallRng, now: Instant, draws: u32) -> Vec<u32> {
    let mut counts = vec![0; lb.len()];
    for _ in 0..draws {
        counts[*lb.pick(rng, now).unwrap()] += 1;
    }
    counts
}

fn load(lb: &PeakEwma<usize>, i: usize) -> Arc<Load> {
    lb.iter().nth(i).map(|(_, _, load)| Arc::clone(load)).unwrap()
}

#[test]
fn prefers_the_lower_latency_host() {
    let now = Instant::now();
    let lb = PeakEwma::new(hosts(&[Some(5), Some(50)], now));
    let mut rng = SmallRng::seed_from_u64(1);
    assert!((0..10_000).all(|_| lb.pick(&mut rng, now) == Some(&0)));

    // Among ten, the slowest never wins a comparison; the fastest wins every one it is in.
    let lb = PeakEwma::new(hosts(&(1..=10).map(Some).collect::<Vec<_>>(), now));
    let counts = histogram(&lb, &mut rng, now, 50_000);
    assert_eq!(counts[9], 0);
    let fastest = f64::from(counts[0]) / 50_000.0;
    assert!((fastest - 0.2).abs() < 0.01, "{counts:?}"); // sampled in 2 of 10 draws
    assert!(counts.windows(2).all(|pair| pair[0] > pair[1]), "{counts:?}");
}

#[test]
fn a_peak_is_avoided_at_once_and_forgiven_over_decay() {
    let t0 = Instant::now();
    let lb = PeakEwma::new(hosts(&[Some(10), Some(10)], t0));
    let (steady, spiky) = (load(&lb, 0), load(&lb, 1));
    spiky.observe(ms(500), t0 + ms(1));
    let mut rng = SmallRng::seed_from_u64(2);
    assert!((0..1000).all(|_| lb.pick(&mut rng, t0 + ms(1)) == Some(&0)));

    // Afterwards the spiky host answers in 8 ms and the steady one in 10 ms, every 100 ms. The
    // peak's excess decays as e^(−t/10 s): 8 + 492 e^(−t/10 s) falls below 10 after ~55 s.
    let mut now = t0 + ms(1);
    let sample_until = |until: Duration, now: &mut Instant| {
        while *now < t0 + until {
            *now += ms(100);
            steady.observe(ms(10), *now);
            spiky.observe(ms(8), *now);
        }
    };
    sample_until(Duration::from_secs(30), &mut now);
    assert!(
        (0..1000).all(|_| lb.pick(&mut rng, now) == Some(&0)),
        "still paying for the peak"
    );
    sample_until(Duration::from_secs(80), &mut now);
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&1)), "forgiven");
}

#[test]
fn unsampled_hosts_cost_the_default_rtt() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(3);
    // 30 ms assumed beats 50 ms measured, loses to 10 ms measured.
    let lb = PeakEwma::new(hosts(&[None, Some(50)], now));
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&0)));
    let lb = PeakEwma::new(hosts(&[None, Some(10)], now));
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&1)));
    assert_eq!(lb.cost(0, now), 30e6);
}

#[test]
fn cost_grows_with_requests_in_flight() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(4);
    let lb = PeakEwma::new(hosts(&[Some(10), Some(10)], now));
    let _busy = load(&lb, 0).start(now);
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&1)));

    // 10 ms × (1 + 1) = 20 beats 30 ms × 1.
    let lb = PeakEwma::new(hosts(&[Some(10), Some(30)], now));
    let _one = load(&lb, 0).start(now);
    assert_eq!(lb.cost(0, now), 20e6);
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&0)));
    let _two = load(&lb, 0).start(now); // 10 ms × 3 = 30: a tie now
    let counts = histogram(&lb, &mut rng, now, 10_000);
    assert!(counts.iter().all(|&c| (4_500..5_500).contains(&c)), "{counts:?}");
}

#[test]
fn weight_divides_the_cost() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(5);
    let mut two = hosts(&[Some(10), Some(10)], now);
    two[0].1 = w(2);
    let lb = PeakEwma::new(two);
    let heavy = load(&lb, 0);
    let _first = heavy.start(now); // 20 ms / 2 = 10 ms / 1: a tie
    assert_eq!(lb.cost(0, now), lb.cost(1, now));
    let _second = heavy.start(now); // 30 ms / 2 > 10 ms
    assert!((0..1000).all(|_| lb.pick(&mut rng, now) == Some(&1)));
    assert_eq!(lb.cost(9, now), f64::INFINITY);
}

#[test]
fn picks_only_from_the_snapshot() {
    // The odd hosts are ejected and look cheapest; the snapshot holds only the even ones.
    let now = Instant::now();
    let latencies: Vec<Option<u64>> = (0..10).map(|i| Some(if i % 2 == 0 { 100 } else { 1 })).collect();
    let eligible = hosts(&latencies, now).into_iter().filter(|(i, _, _)| i % 2 == 0);
    let lb = PeakEwma::new(eligible);
    let mut rng = SmallRng::seed_from_u64(6);
    let counts = histogram(&PeakEwma::new(hosts(&[None; 3], now)), &mut rng, now, 3000);
    assert!(
        counts.iter().all(|&c| c > 800),
        "equal costs split evenly: {counts:?}"
    );
    for _ in 0..5_000 {
        assert_eq!(lb.pick(&mut rng, now).unwrap() % 2, 0);
    }
}

#[test]
fn empty_and_single() {
    let now = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);
    let empty = PeakEwma::<u8>::new([]);
    assert!(empty.is_empty());
    assert_eq!(empty.pick(&mut rng, now), None);
    let one = PeakEwma::new(hosts(&[Some(900)], now));
    assert_eq!(one.len(), 1);
    assert!((0..100).all(|_| one.pick(&mut rng, now) == Some(&0)));
}
