use super::*;
use http::{Request, Response};
use std::convert::Infallible;
use tokio::time::Instant;
use tower::{ServiceExt, service_fn};
use tower_test::mock;

const SECOND: Duration = Duration::from_secs(1);

/// An upstream that answers after `delay`.
fn upstream(
    delay: Duration,
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    service_fn(move |_req: Request<()>| async move {
        tokio::time::sleep(delay).await;
        Ok(Response::new(()))
    })
}

fn with_override(route: Option<Duration>, per_try: Option<Duration>) -> Request<()> {
    let mut req = Request::new(());
    req.extensions_mut().insert(TimeoutOverride { route, per_try });
    req
}

#[tokio::test(start_paused = true)]
async fn times_out_exactly_at_the_deadline() {
    let (inner, mut handle) = mock::pair::<Request<()>, Response<()>>();
    let svc = TimeoutLayer::default().layer(inner);
    let start = Instant::now();
    let call = tokio::spawn(svc.oneshot(Request::new(())));
    // The request reached the upstream, which never answers.
    let (_req, _respond) = handle.next_request().await.unwrap();

    tokio::time::advance(DEFAULT_ROUTE_TIMEOUT - Duration::from_millis(1)).await;
    tokio::task::yield_now().await;
    assert!(!call.is_finished(), "fired early");

    let err = call.await.unwrap().unwrap_err();
    assert_eq!(start.elapsed(), DEFAULT_ROUTE_TIMEOUT);
    assert_eq!(
        err.downcast_ref(),
        Some(&RouteTimeout {
            after: DEFAULT_ROUTE_TIMEOUT
        })
    );
}

#[tokio::test(start_paused = true)]
async fn an_answer_just_before_the_deadline_wins() {
    let svc = Timeout::new(
        upstream(15 * SECOND - Duration::from_millis(1)),
        Some(15 * SECOND),
    );
    assert!(svc.oneshot(Request::new(())).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn an_override_shortens_the_route_timeout() {
    let svc = Timeout::new(upstream(10 * SECOND), Some(15 * SECOND));
    let start = Instant::now();
    let err = svc
        .oneshot(with_override(Some(2 * SECOND), None))
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), 2 * SECOND);
    assert_eq!(err.downcast_ref(), Some(&RouteTimeout { after: 2 * SECOND }));
}

#[tokio::test(start_paused = true)]
async fn an_override_lengthens_the_route_timeout() {
    let svc = Timeout::new(upstream(20 * SECOND), Some(15 * SECOND));
    assert!(
        svc.clone().oneshot(Request::new(())).await.is_err(),
        "config alone: 15 s"
    );
    let start = Instant::now();
    assert!(svc.oneshot(with_override(Some(30 * SECOND), None)).await.is_ok());
    assert_eq!(start.elapsed(), 20 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn a_zero_override_disables_the_route_timeout() {
    let svc = Timeout::new(upstream(3600 * SECOND), Some(15 * SECOND));
    assert!(
        svc.oneshot(with_override(Some(Duration::ZERO), None))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn disabled_never_times_out() {
    for timeout in [None, Some(Duration::ZERO)] {
        let svc = TimeoutLayer::route(timeout).layer(upstream(24 * 3600 * SECOND));
        assert_eq!(svc.timeout(), None);
        assert!(svc.oneshot(Request::new(())).await.is_ok());
    }
}

#[tokio::test(start_paused = true)]
async fn the_per_try_timeout_reads_its_own_override_and_error() {
    let svc = TimeoutLayer::per_try(Some(5 * SECOND)).layer(upstream(4 * SECOND));
    // The route override is not this layer's.
    assert!(
        svc.clone()
            .oneshot(with_override(Some(SECOND), None))
            .await
            .is_ok()
    );

    let start = Instant::now();
    let err = svc.oneshot(with_override(None, Some(SECOND))).await.unwrap_err();
    assert_eq!(start.elapsed(), SECOND);
    assert_eq!(err.downcast_ref(), Some(&PerTryTimeout { after: SECOND }));
    assert!(err.downcast_ref::<RouteTimeout>().is_none());
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through() {
    let failing = service_fn(|_req: Request<()>| async { Err::<Response<()>, _>("refused") });
    let err = Timeout::new(failing, Some(SECOND))
        .oneshot(Request::new(()))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "refused");
}

#[tokio::test(start_paused = true)]
async fn service_time_is_the_upstream_latency_in_whole_milliseconds() {
    let (inner, mut handle) = mock::pair::<Request<()>, Response<()>>();
    let call = tokio::spawn(ServiceTimeLayer::new().layer(inner).oneshot(Request::new(())));
    let (_req, respond) = handle.next_request().await.unwrap();
    // Not a timer (those round to whole milliseconds): the clock moves by exactly 42.9 ms.
    tokio::time::advance(Duration::from_micros(42_900)).await;
    respond.send_response(Response::new(()));
    let response = call.await.unwrap().unwrap();
    assert_eq!(
        response.headers()[&UPSTREAM_SERVICE_TIME],
        "42",
        "truncated, as Envoy"
    );
}

#[tokio::test(start_paused = true)]
async fn service_time_replaces_an_upstream_value() {
    let liar = service_fn(|_req: Request<()>| async {
        tokio::time::sleep(Duration::from_millis(7)).await;
        let mut response = Response::new(());
        response
            .headers_mut()
            .insert(&UPSTREAM_SERVICE_TIME, http::HeaderValue::from_static("1"));
        Ok::<_, Infallible>(response)
    });
    let response = ServiceTime::new(liar).oneshot(Request::new(())).await.unwrap();
    let values: Vec<_> = response
        .headers()
        .get_all(&UPSTREAM_SERVICE_TIME)
        .iter()
        .collect();
    assert_eq!(values, ["7"]);
}

#[tokio::test(start_paused = true)]
async fn service_time_inside_the_route_timeout() {
    let svc = TimeoutLayer::default()
        .layer(ServiceTimeLayer::new().layer(upstream(250 * Duration::from_millis(1))));
    let response = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(response.headers()[&UPSTREAM_SERVICE_TIME], "250");
}
