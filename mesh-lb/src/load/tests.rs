use super::*;
use proptest::prelude::{prop, prop_assert, proptest};
use std::thread;

const MS: Duration = Duration::from_millis(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `a ≈ b` to a relative 1e-9 (exp and the f64 arithmetic round).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn latency_ms(load: &Load, now: Instant) -> f64 {
    load.latency_ns(now.into()) / 1e6
}

#[test]
fn default_rtt_before_any_sample_and_it_does_not_decay() {
    let load = Arc::new(Load::new());
    let t0 = Instant::now();
    assert_eq!(load.latency(t0), EwmaConfig::DEFAULT_RTT);
    assert_eq!(load.latency(t0 + Duration::from_secs(3600)), ms(30));
    assert_eq!(load.ewma_cost(t0), 30e6);

    let custom = Load::with_config(EwmaConfig::new(ms(500), ms(7)).unwrap());
    assert_eq!(custom.latency(t0), ms(7));
    assert_eq!(custom.config().decay(), ms(500));
}

#[test]
fn zero_decay_is_refused() {
    assert_eq!(EwmaConfig::new(Duration::ZERO, ms(30)), Err(ZeroDecay));
    assert_eq!(EwmaConfig::default().decay(), Duration::from_secs(10));
    assert_eq!(ZeroDecay.to_string(), "peak-EWMA decay must be greater than zero");
}

#[test]
fn first_sample_replaces_the_default_even_when_lower() {
    let load = Load::new();
    let t0 = Instant::now();
    load.observe(ms(5), t0);
    assert_eq!(load.latency(t0), ms(5));
}

#[test]
fn peak_jumps_up_at_once_and_decays_over_decay() {
    let load = Load::new(); // decay 10 s
    let t0 = Instant::now();
    load.observe(ms(10), t0);
    load.observe(ms(500), t0 + MS);
    assert_eq!(load.latency(t0 + MS), ms(500), "a higher sample is taken whole");

    // With no samples the estimate decays toward zero: 1/e after one decay, 1/e² after two.
    let one_decay = t0 + MS + Duration::from_secs(10);
    assert!(close(latency_ms(&load, one_decay), 500.0 / std::f64::consts::E));
    let two_decays = one_decay + Duration::from_secs(10);
    assert!(close(latency_ms(&load, two_decays), 500.0 * (-2.0f64).exp()));

    // A lower sample one decay later pulls the estimate toward itself with weight 1 − 1/e.
    let w = (-1.0f64).exp();
    load.observe(ms(10), one_decay);
    assert!(close(latency_ms(&load, one_decay), 500.0 * w + 10.0 * (1.0 - w)));
}

#[test]
fn steady_samples_pull_the_estimate_down_after_a_peak() {
    let load = Load::new();
    let mut now = Instant::now();
    load.observe(ms(500), now);
    // 10 ms responses every 100 ms for 50 s (five decays): 490 ms of excess × e^−5 ≈ 3.3 ms left.
    for _ in 0..500 {
        now += ms(100);
        load.observe(ms(10), now);
    }
    let left = latency_ms(&load, now);
    assert!((10.0..14.0).contains(&left), "{left} ms");
}

#[test]
fn cost_grows_with_active_requests() {
    let load = Arc::new(Load::new());
    let t0 = Instant::now();
    load.observe(ms(20), t0);
    let idle = load.ewma_cost(t0);
    assert_eq!(idle, 20e6);
    let guards: Vec<InFlight> = (0..3).map(|_| load.start(t0)).collect();
    assert_eq!(load.active(), 3);
    assert_eq!(load.ewma_cost(t0), 4.0 * idle);
    drop(guards);
    assert_eq!(load.ewma_cost(t0), idle);
}

#[test]
fn in_flight_counts_out_on_drop_and_on_finish() {
    let load = Arc::new(Load::new());
    let t0 = Instant::now();
    let a = load.start(t0);
    let b = load.start(t0 + MS);
    assert_eq!(load.active(), 2);
    assert_eq!(b.started(), t0 + MS);
    assert!(Arc::ptr_eq(a.load(), &load));

    drop(a); // abandoned: counts out, records nothing
    assert_eq!(load.active(), 1);
    assert_eq!(load.latency(t0), ms(30), "still the default");

    b.finish(t0 + ms(41)); // 40 ms after it started
    assert_eq!(load.active(), 0);
    assert_eq!(load.latency(t0 + ms(41)), ms(40));

    // A guard dropped early (end of scope, `?` on an error path) counts out too.
    let early_exit = |fail: bool| -> Result<(), ()> {
        let _guard = load.start(t0);
        if fail {
            return Err(());
        }
        Ok(())
    };
    for i in 0..10 {
        let _ = early_exit(i % 2 == 0);
    }
    assert_eq!(load.active(), 0);
}

#[test]
fn finish_before_start_is_a_zero_sample() {
    let load = Arc::new(Load::new());
    let t0 = Instant::now();
    load.start(t0 + MS).finish(t0);
    assert_eq!(load.latency(t0), Duration::ZERO);
    assert_eq!(load.active(), 0);
}

#[test]
fn instants_before_the_epoch_and_backwards_reads() {
    let now = Instant::now();
    let _ = Stamp::from(now); // the epoch is now or earlier; no test converts anything older
    let Some(t0) = now.checked_sub(Duration::from_secs(60)) else {
        return; // the monotonic clock started under a minute ago
    };
    assert!(Stamp::from(t0).0 < 0, "negative offsets");
    let load = Load::new();
    load.observe(ms(100), t0);
    assert!(close(
        latency_ms(&load, t0 + Duration::from_secs(10)),
        100.0 / std::f64::consts::E
    ));
    // A reader whose clock is behind the sample's sees no decay rather than growth.
    assert_eq!(load.latency(t0 - Duration::from_secs(1)), ms(100));
    assert!(Stamp::from(t0) < Stamp::from(now));
}

#[test]
fn concurrent_start_and_finish_leave_nothing_in_flight() {
    let load = Arc::new(Load::new());
    let t0 = Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|thread| {
            let load = Arc::clone(&load);
            thread::spawn(move || {
                for i in 0..20_000u64 {
                    let guard = load.start(t0);
                    assert!(load.active() >= 1);
                    if i % 2 == 0 {
                        guard.finish(t0 + ms(1 + thread + i % 7));
                    }
                }
            })
        })
        .collect();
    for handle in threads {
        handle.join().unwrap();
    }
    assert_eq!(load.active(), 0);
    // Whatever samples raced, the estimate is one of theirs or between them.
    let latency = load.latency(t0);
    assert!(latency >= ms(1) && latency <= ms(10), "{latency:?}");
}

proptest! {
    /// Right after a sample `s` the estimate is in `[s, max sample so far]`, and it never
    /// rises between samples.
    #[test]
    fn estimate_is_bounded_by_the_samples(
        samples in prop::collection::vec((0u64..1_000_000, 0u64..60_000), 1..50),
    ) {
        let load = Load::new();
        let mut now = Instant::now();
        let mut max = 0.0f64;
        for (rtt_us, gap_ms) in samples {
            let before = load.latency_ns(now.into());
            now += ms(gap_ms);
            if load.estimate.load(Relaxed) != NO_SAMPLE {
                prop_assert!(load.latency_ns(now.into()) <= before * (1.0 + 1e-12));
            }
            let rtt = rtt_us as f64 * 1e3;
            load.observe(Duration::from_micros(rtt_us), now);
            max = max.max(rtt);
            let estimate = load.latency_ns(now.into());
            prop_assert!(estimate >= rtt * (1.0 - 1e-12), "{estimate} < {rtt}");
            prop_assert!(estimate <= max * (1.0 + 1e-12), "{estimate} > {max}");
        }
    }
}
