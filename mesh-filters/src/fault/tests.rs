use super::*;
use http::StatusCode;
use std::convert::Infallible;
use std::sync::atomic::AtomicUsize;
use tokio::time::Instant;
use tower::{ServiceExt, service_fn};
use tower_test::mock;

const MS: Duration = Duration::from_millis(1);

fn percent(p: f64) -> FaultPercentage {
    FaultPercentage::from_percent(p).unwrap()
}

/// An upstream that answers at once and counts its calls.
fn upstream(
    calls: &Arc<AtomicUsize>,
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible, Future: Send> + Clone + use<> {
    let calls = calls.clone();
    service_fn(move |_req: Request<()>| {
        calls.fetch_add(1, Ordering::Relaxed);
        async { Ok(Response::new(())) }
    })
}

fn layer(policy: FaultPolicy, seed: u64) -> FaultInjectionLayer {
    FaultInjectionLayer::new(policy).with_rng(SmallRng::seed_from_u64(seed))
}

type Headers<'a> = &'a [(&'a HeaderName, &'a str)];

fn request(headers: Headers<'_>) -> Request<()> {
    let mut req = Request::new(());
    for (name, value) in headers {
        req.headers_mut().insert(*name, value.parse().unwrap());
    }
    req
}

/// Sends `n` requests; returns how many were aborted.
async fn aborted_of(
    svc: &mut FaultInjection<impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone>,
    n: u32,
) -> u32 {
    let mut aborted = 0;
    for _ in 0..n {
        let result = svc.ready().await.unwrap().call(Request::new(())).await;
        aborted += u32::from(result.is_err_and(|e| e.is::<FaultAbort>()));
    }
    aborted
}

#[test]
fn percentages_and_statuses_are_validated() {
    assert!(FaultPercentage::per_million(1_000_001).is_err());
    assert_eq!(
        FaultPercentage::per_million(1_000_000),
        Ok(FaultPercentage::HUNDRED)
    );
    for bad in [-0.1, 100.01, f64::NAN, f64::INFINITY] {
        assert!(FaultPercentage::from_percent(bad).is_err(), "{bad}");
    }
    assert_eq!(percent(12.5).get(), 125_000);
    assert_eq!(percent(0.0001).get(), 1);
    for bad in [0, 199, 600, 999] {
        assert_eq!(
            AbortFault::http(bad, percent(1.0)),
            Err(InvalidFault::AbortStatusOutOfRange(bad))
        );
    }
    assert!(AbortFault::http(200, percent(1.0)).is_ok() && AbortFault::http(599, percent(1.0)).is_ok());
    assert_eq!(
        DelayFault::fixed(Duration::ZERO, percent(1.0)),
        Err(InvalidFault::ZeroDelay)
    );
}

#[tokio::test]
async fn the_share_of_faults_follows_the_percentage() {
    const DRAWS: u32 = 10_000;
    for (seed, pct) in [(1, 1.0), (2, 30.0), (3, 75.5)] {
        let policy = FaultPolicy::new().with_abort(AbortFault::http(503, percent(pct)).unwrap());
        let mut svc = layer(policy, seed).layer(upstream(&Arc::default()));
        let aborted = f64::from(aborted_of(&mut svc, DRAWS).await);
        // Within 5 standard deviations of the binomial mean: deterministic with the seed,
        // and a draw biased by even a percent of the share fails.
        let (n, p) = (f64::from(DRAWS), pct / 100.0);
        let sigma = (n * p * (1.0 - p)).sqrt();
        assert!(
            (aborted - n * p).abs() <= 5.0 * sigma,
            "{pct}%: {aborted} of {DRAWS}"
        );
        assert_eq!(svc.stats().aborts_injected(), aborted as u64);
    }
}

#[tokio::test]
async fn zero_percent_never_and_a_hundred_always() {
    let calls = Arc::default();
    let never = FaultPolicy::new().with_abort(AbortFault::http(500, FaultPercentage::ZERO).unwrap());
    assert_eq!(
        aborted_of(&mut layer(never, 4).layer(upstream(&calls)), 10_000).await,
        0
    );
    assert_eq!(calls.load(Ordering::Relaxed), 10_000);

    let always = FaultPolicy::new().with_abort(AbortFault::grpc(14, FaultPercentage::HUNDRED));
    assert_eq!(
        aborted_of(&mut layer(always, 5).layer(upstream(&calls)), 10_000).await,
        10_000
    );
    assert_eq!(
        calls.load(Ordering::Relaxed),
        10_000,
        "an aborted request never goes upstream"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fixed_delay_is_exact_and_counted_only_while_it_lasts() {
    let policy =
        FaultPolicy::new().with_delay(DelayFault::fixed(1500 * MS, FaultPercentage::HUNDRED).unwrap());
    let (inner, mut handle) = mock::pair::<Request<()>, Response<()>>();
    let svc = layer(policy, 6).layer(inner);
    let stats = svc.stats().clone();
    let start = Instant::now();
    let call = tokio::spawn(svc.oneshot(Request::new(())));

    tokio::time::sleep(1499 * MS).await;
    assert_eq!(stats.active_faults(), 1);
    let (_req, respond) = handle.next_request().await.unwrap();
    assert_eq!(
        start.elapsed(),
        1500 * MS,
        "forwarded exactly when the delay ends"
    );
    assert_eq!(stats.active_faults(), 0, "the upstream's time is not the fault's");

    respond.send_response(Response::new(()));
    let response = call.await.unwrap().unwrap();
    assert_eq!(response.extensions().get(), Some(&InjectedDelay(1500 * MS)));
    assert_eq!((stats.delays_injected(), stats.aborts_injected()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_delay_then_an_abort() {
    let policy = FaultPolicy::new()
        .with_delay(DelayFault::fixed(200 * MS, FaultPercentage::HUNDRED).unwrap())
        .with_abort(AbortFault::http(429, FaultPercentage::HUNDRED).unwrap());
    let calls = Arc::default();
    let svc = layer(policy, 7).layer(upstream(&calls));
    let start = Instant::now();
    let err = svc.clone().oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(start.elapsed(), 200 * MS);
    let abort = FaultAbort {
        status: Some(StatusCode::TOO_MANY_REQUESTS),
        grpc_status: None,
        delayed: Some(200 * MS),
    };
    assert_eq!(err.downcast_ref(), Some(&abort));
    assert_eq!(calls.load(Ordering::Relaxed), 0);
    let stats = svc.stats();
    assert_eq!(
        (
            stats.delays_injected(),
            stats.aborts_injected(),
            stats.active_faults()
        ),
        (1, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn header_controlled_delay_applies_only_when_asked() {
    let policy = FaultPolicy::new().with_delay(DelayFault::header(FaultPercentage::HUNDRED));
    let svc = layer(policy, 8).layer(upstream(&Arc::default()));
    let cases: [(Headers<'_>, Duration); 5] = [
        (&[], Duration::ZERO),
        (&[(&FAULT_DELAY_REQUEST, "250")], 250 * MS),
        (&[(&FAULT_DELAY_REQUEST, "0")], Duration::ZERO),
        (&[(&FAULT_DELAY_REQUEST, "-5")], Duration::ZERO),
        (&[(&FAULT_DELAY_REQUEST, "soon")], Duration::ZERO),
    ];
    for (headers, expected) in cases {
        let start = Instant::now();
        let response = svc.clone().oneshot(request(headers)).await.unwrap();
        assert_eq!(start.elapsed(), expected, "{headers:?}");
        assert_eq!(
            response.extensions().get::<InjectedDelay>().is_some(),
            !expected.is_zero()
        );
    }
    assert_eq!(svc.stats().delays_injected(), 1);
}

#[tokio::test]
async fn header_controlled_abort_applies_only_when_asked() {
    let policy = FaultPolicy::new().with_abort(AbortFault::header(FaultPercentage::HUNDRED));
    let svc = layer(policy, 9).layer(upstream(&Arc::default()));
    let http = |code| (Some(StatusCode::from_u16(code).unwrap()), None);
    type Status = (Option<StatusCode>, Option<u32>);
    let cases: [(Headers<'_>, Option<Status>); 6] = [
        (&[], None),
        (&[(&FAULT_ABORT_REQUEST, "418")], Some(http(418))),
        (&[(&FAULT_ABORT_REQUEST, "700")], None),
        (&[(&FAULT_ABORT_GRPC_REQUEST, "14")], Some((None, Some(14)))),
        (
            &[(&FAULT_ABORT_REQUEST, "503"), (&FAULT_ABORT_GRPC_REQUEST, "14")],
            Some(http(503)),
        ),
        (
            &[(&FAULT_ABORT_REQUEST, "99"), (&FAULT_ABORT_GRPC_REQUEST, "8")],
            Some((None, Some(8))),
        ),
    ];
    for (headers, expected) in cases {
        let result = svc.clone().oneshot(request(headers)).await;
        let got = result.err().map(|e| {
            let abort = e.downcast_ref::<FaultAbort>().unwrap();
            (abort.status, abort.grpc_status)
        });
        assert_eq!(got, expected, "{headers:?}");
    }
}

#[tokio::test]
async fn a_configured_abort_ignores_the_headers() {
    let policy = FaultPolicy::new().with_abort(AbortFault::http(500, FaultPercentage::ZERO).unwrap());
    let svc = layer(policy, 10).layer(upstream(&Arc::default()));
    assert!(
        svc.oneshot(request(&[(&FAULT_ABORT_REQUEST, "503")]))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn max_active_faults_caps_concurrent_faults() {
    let policy = FaultPolicy::new()
        .with_delay(DelayFault::fixed(1000 * MS, FaultPercentage::HUNDRED).unwrap())
        .with_max_active_faults(2);
    let svc = layer(policy, 11).layer(upstream(&Arc::default()));
    let stats = svc.stats().clone();
    let start = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| tokio::spawn(svc.clone().oneshot(Request::new(()))))
        .collect();
    tokio::time::sleep(MS).await;
    assert_eq!((stats.active_faults(), stats.faults_overflow()), (2, 1));

    let mut delayed = 0;
    for call in calls {
        delayed += usize::from(
            call.await
                .unwrap()
                .unwrap()
                .extensions()
                .get::<InjectedDelay>()
                .is_some(),
        );
    }
    assert_eq!((delayed, start.elapsed()), (2, 1000 * MS));
    assert_eq!(stats.active_faults(), 0);
    // The slots are free again.
    assert!(
        svc.oneshot(Request::new(()))
            .await
            .unwrap()
            .extensions()
            .get::<InjectedDelay>()
            .is_some()
    );
}

#[tokio::test]
async fn zero_max_active_faults_disables_faults() {
    let policy = FaultPolicy::new()
        .with_abort(AbortFault::http(503, FaultPercentage::HUNDRED).unwrap())
        .with_max_active_faults(0);
    let mut svc = layer(policy, 12).layer(upstream(&Arc::default()));
    assert_eq!(aborted_of(&mut svc, 100).await, 0);
    assert_eq!(svc.stats().faults_overflow(), 100);
}
