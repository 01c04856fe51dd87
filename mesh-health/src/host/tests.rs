use super::*;
use mesh_core::policy::Checker;
use rand::SeedableRng;
use rand::rngs::SmallRng;

const MS: Duration = Duration::from_millis(1);

fn check(unhealthy_threshold: u32, healthy_threshold: u32) -> HealthCheck {
    HealthCheck {
        timeout: 100 * MS,
        interval: 1000 * MS,
        interval_jitter: Duration::ZERO,
        interval_jitter_percent: 0,
        unhealthy_interval: 300 * MS,
        no_traffic_interval: 60_000 * MS,
        unhealthy_threshold,
        healthy_threshold,
        checker: Checker::Tcp {
            send: None,
            receive: vec![],
        },
    }
}

/// A failure that counts toward `unhealthy_threshold` (a retriable status).
fn fail() -> Outcome {
    Outcome::Unhealthy(ProbeFailure::RetriableStatus(503))
}

/// Records `outcomes` in order and returns the transitions they caused.
fn run(host: &mut HostHealth, outcomes: impl IntoIterator<Item = Outcome>) -> Vec<Transition> {
    outcomes
        .into_iter()
        .map(|o| host.record(o, Instant::now()))
        .collect()
}

use Transition::{BecameHealthy as UP, BecameUnhealthy as DOWN, Unchanged as SAME};

#[test]
fn starts_unhealthy_and_first_pass_is_enough() {
    let mut host = HostHealth::new(&check(3, 5), Instant::now());
    assert_eq!(host.state(), HealthState::Unhealthy);
    assert_eq!(host.last_failure(), None);
    assert_eq!(
        run(&mut host, [Outcome::Healthy]),
        [UP],
        "first success skips healthy_threshold"
    );
}

#[test]
fn first_failure_loses_the_shortcut() {
    let mut host = HostHealth::new(&check(3, 3), Instant::now());
    let got = run(
        &mut host,
        [fail(), Outcome::Healthy, Outcome::Healthy, Outcome::Healthy],
    );
    assert_eq!(got, [SAME, SAME, SAME, UP]);
    assert_eq!(host.consecutive_successes(), 3);
}

#[test]
fn unhealthy_threshold_failures_in_a_row() {
    let mut host = HostHealth::new(&check(3, 2), Instant::now());
    run(&mut host, [Outcome::Healthy]);
    // A pass in between resets the failure count.
    let got = run(
        &mut host,
        [fail(), fail(), Outcome::Healthy, fail(), fail(), fail(), fail()],
    );
    assert_eq!(got, [SAME, SAME, SAME, SAME, SAME, DOWN, SAME]);
    assert_eq!(host.consecutive_failures(), 4);
    assert_eq!(host.consecutive_successes(), 0);
    assert_eq!(host.last_failure(), Some(&ProbeFailure::RetriableStatus(503)));
}

#[test]
fn healthy_threshold_passes_in_a_row_to_recover() {
    let mut host = HostHealth::new(&check(1, 3), Instant::now());
    run(&mut host, [Outcome::Healthy, fail()]);
    assert!(!host.is_healthy());
    let got = run(
        &mut host,
        [Outcome::Healthy, Outcome::Healthy, fail(), Outcome::Healthy],
    );
    assert_eq!(got, [SAME, SAME, SAME, SAME], "a failure resets the pass count");
    let got = run(&mut host, [Outcome::Healthy, Outcome::Healthy, Outcome::Healthy]);
    assert_eq!(got, [SAME, UP, SAME]);
    assert_eq!(
        host.last_failure(),
        Some(&ProbeFailure::RetriableStatus(503)),
        "kept after recovery"
    );
}

#[test]
fn a_host_that_answers_unhealthy_fails_at_once_and_network_failures_count() {
    let answered = [
        ProbeFailure::UnexpectedStatus(503),
        ProbeFailure::NotServing(2),
        ProbeFailure::GrpcStatus {
            code: 12,
            message: "unimplemented".into(),
        },
    ];
    for failure in answered {
        let mut host = HostHealth::new(&check(3, 1), Instant::now());
        let got = run(&mut host, [Outcome::Healthy, Outcome::Unhealthy(failure.clone())]);
        assert_eq!(got, [UP, DOWN], "{failure}");
    }
    let mut host = HostHealth::new(&check(3, 1), Instant::now());
    let timeout = || Outcome::Unhealthy(ProbeFailure::Timeout(std::time::Duration::from_secs(1)));
    let refused = || Outcome::Unhealthy(ProbeFailure::Connect("refused".into()));
    let got = run(&mut host, [Outcome::Healthy, timeout(), refused(), fail()]);
    assert_eq!(got, [UP, SAME, SAME, DOWN]);
}

#[test]
fn immediate_failure_ignores_the_threshold() {
    let mut host = HostHealth::new(&check(10, 1), Instant::now());
    let got = run(
        &mut host,
        [
            Outcome::Healthy,
            Outcome::ImmediateFailure,
            Outcome::ImmediateFailure,
        ],
    );
    assert_eq!(got, [UP, DOWN, SAME]);
    assert_eq!(host.last_failure(), Some(&ProbeFailure::ImmediateFailRequested));
    assert_eq!(run(&mut host, [Outcome::Healthy]), [UP], "healthy_threshold 1");
}

#[test]
fn zero_thresholds_act_as_one() {
    let mut host = HostHealth::new(&check(0, 0), Instant::now());
    assert_eq!(
        run(&mut host, [fail(), Outcome::Healthy, fail()]),
        [SAME, UP, DOWN]
    );
}

#[tokio::test(start_paused = true)]
async fn since_is_the_time_of_the_last_transition() {
    let added = Instant::now();
    let mut host = HostHealth::new(&check(2, 1), added);
    tokio::time::advance(MS * 10).await;
    host.record(fail(), Instant::now());
    assert_eq!(host.since(), added, "no transition: still unhealthy since added");
    tokio::time::advance(MS * 10).await;
    host.record(Outcome::Healthy, Instant::now());
    assert_eq!(host.since(), added + MS * 20);
    tokio::time::advance(MS * 10).await;
    host.record(fail(), Instant::now());
    assert_eq!(host.since(), added + MS * 20);
}

#[test]
fn interval_follows_state_and_traffic() {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut host = HostHealth::new(&check(1, 1), Instant::now());
    assert_eq!(
        host.next_delay(true, &mut rng),
        300 * MS,
        "unhealthy_interval before any pass"
    );
    host.record(Outcome::Healthy, Instant::now());
    assert_eq!(
        host.next_delay(true, &mut rng),
        1000 * MS,
        "interval while healthy"
    );
    assert_eq!(host.next_delay(false, &mut rng), 60_000 * MS, "no traffic");
    host.record(fail(), Instant::now());
    assert_eq!(host.next_delay(true, &mut rng), 300 * MS, "unhealthy_interval");
    assert_eq!(
        host.next_delay(false, &mut rng),
        60_000 * MS,
        "no traffic wins while unhealthy too"
    );
}

#[test]
fn jitter_stays_within_bounds_and_spreads() {
    let schedule = Schedule {
        interval_jitter: 50 * MS,
        interval_jitter_percent: 10,
        ..Schedule::from(&check(1, 1))
    };
    let mut rng = SmallRng::seed_from_u64(7);
    let (base, span) = (1000 * MS, 100 * MS + 50 * MS);
    let delays: Vec<_> = (0..2000)
        .map(|_| schedule.delay(HealthState::Healthy, true, &mut rng))
        .collect();
    assert!(
        delays.iter().all(|d| (base..base + span).contains(d)),
        "within [base, base+span)"
    );
    let (min, max) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
    assert!(
        *min < base + 20 * MS && *max > base + span - 20 * MS,
        "{min:?}..{max:?} spreads"
    );
    // The percentage applies to the interval actually chosen.
    let slow = (0..500).map(|_| schedule.delay(HealthState::Healthy, false, &mut rng));
    assert!(slow.into_iter().all(|d| (60_000 * MS..66_050 * MS).contains(&d)));
}

#[test]
fn same_seed_same_delays() {
    let schedule = Schedule {
        interval_jitter: 50 * MS,
        ..Schedule::from(&check(1, 1))
    };
    let draw = |seed| {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..10)
            .map(|_| schedule.delay(HealthState::Unhealthy, true, &mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}
