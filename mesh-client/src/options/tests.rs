use super::*;

fn headers_for(defaults: &Defaults, call: Option<&CallOptions>, method: Method) -> HeaderMap {
    let mut h = HeaderMap::new();
    defaults.resolve(call).apply(&method, &mut h);
    h
}

fn text<'a>(h: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn defaults_are_a_15s_timeout_and_safe_retries() {
    let d = Defaults::default();
    let get = headers_for(&d, None, Method::GET);
    assert_eq!(text(&get, &RQ_TIMEOUT), Some("15000"));
    assert_eq!(
        text(&get, &RETRY_ON),
        Some("gateway-error,reset,connect-failure,refused-stream")
    );
    assert_eq!(text(&get, &MAX_RETRIES), Some("2"));
    assert_eq!(get.get(&PER_TRY_TIMEOUT), None);
    assert_eq!(d.resolve(None).deadline(), Some(Duration::from_secs(16)));

    // A POST may have been processed when a try fails after connecting: only retry the rest.
    let post = headers_for(&d, None, Method::POST);
    assert_eq!(text(&post, &RETRY_ON), Some("connect-failure,refused-stream"));
}

#[test]
fn a_call_overrides_the_client_which_overrides_the_defaults() {
    let client = Defaults {
        timeout: Some(Duration::from_millis(250)),
        ..Defaults::default()
    };
    let h = headers_for(&client, None, Method::GET);
    assert_eq!(text(&h, &RQ_TIMEOUT), Some("250"));

    let call = CallOptions::new()
        .timeout(Duration::from_secs(3))
        .per_try_timeout(Duration::from_millis(900))
        .retries(Retries::On {
            on: RetryOn::parse("5xx,unavailable").unwrap(),
            max: 4,
        });
    let h = headers_for(&client, Some(&call), Method::POST);
    assert_eq!(text(&h, &RQ_TIMEOUT), Some("3000"));
    assert_eq!(text(&h, &PER_TRY_TIMEOUT), Some("900"));
    assert_eq!(text(&h, &RETRY_ON), Some("5xx,unavailable"));
    assert_eq!(text(&h, &MAX_RETRIES), Some("4"));
    assert_eq!(
        client.resolve(Some(&call)).deadline(),
        Some(Duration::from_secs(4))
    );
}

#[test]
fn off_means_off_at_the_proxy_too() {
    let call = CallOptions::new().no_timeout().no_retries();
    let d = Defaults::default();
    let h = headers_for(&d, Some(&call), Method::GET);
    assert_eq!(text(&h, &RQ_TIMEOUT), Some("0"), "0 lifts the route's timeout");
    assert_eq!(text(&h, &MAX_RETRIES), Some("0"), "0 lifts the route's retries");
    assert_eq!(h.get(&RETRY_ON), None);
    assert_eq!(d.resolve(Some(&call)).deadline(), None);
    assert_eq!(
        CallOptions::new().timeout(Duration::ZERO),
        CallOptions::new().no_timeout()
    );
}

#[test]
fn headers_the_caller_set_win() {
    let mut h = HeaderMap::new();
    h.insert(RQ_TIMEOUT, HeaderValue::from_static("42"));
    Defaults::default().resolve(None).apply(&Method::GET, &mut h);
    assert_eq!(text(&h, &RQ_TIMEOUT), Some("42"));
    assert_eq!(text(&h, &MAX_RETRIES), Some("2"));
}
