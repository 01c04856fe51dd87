use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_static(k),
                http::HeaderValue::from_static(v),
            )
        })
        .collect()
}

#[test]
fn each_flag_maps_to_its_kind() {
    let cases = [
        (503, "UO", Some(ErrorKind::Overloaded)),
        (504, "UT", Some(ErrorKind::Timeout)),
        (408, "SI", Some(ErrorKind::Timeout)),
        (503, "UH", Some(ErrorKind::NoHealthyUpstream)),
        (503, "UF", Some(ErrorKind::ConnectFailure)),
        (503, "UF,URX", Some(ErrorKind::ConnectFailure)),
        (502, "UR", Some(ErrorKind::UpstreamReset)),
        (404, "NR", Some(ErrorKind::NoRoute)),
        (429, "RL", Some(ErrorKind::RateLimited)),
        (503, "FI", None),
        (503, "URX", None),
        (400, "DPE", None),
    ];
    for (status, flags, want) in cases {
        let status = StatusCode::from_u16(status).unwrap();
        let got = classify(status, &headers(&[(RESPONSE_FLAGS, flags)]));
        assert_eq!(got, want, "{status} {flags}");
    }
}

#[test]
fn upstream_answers_are_not_errors() {
    assert_eq!(classify(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new()), None);
    assert_eq!(
        classify(StatusCode::OK, &headers(&[(RESPONSE_FLAGS, "URX")])),
        None
    );
    // A flag is matched whole, not as a substring of another.
    assert_eq!(
        classify(StatusCode::BAD_GATEWAY, &headers(&[(RESPONSE_FLAGS, "URX")])),
        None
    );
}

#[test]
fn the_overload_header_alone_means_overloaded() {
    let h = headers(&[(OVERLOADED, "true")]);
    assert_eq!(
        classify(StatusCode::SERVICE_UNAVAILABLE, &h),
        Some(ErrorKind::Overloaded)
    );
}

#[test]
fn errors_carry_status_flags_and_say_what_happened() {
    let h = headers(&[(RESPONSE_FLAGS, "UF,URX")]);
    let err = from_reply(
        ErrorKind::ConnectFailure,
        "backend",
        StatusCode::SERVICE_UNAVAILABLE,
        &h,
    );
    assert_eq!(err.kind(), ErrorKind::ConnectFailure);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.flags(), Some("UF,URX"));
    assert_eq!(
        err.to_string(),
        "call to \"backend\" failed: could not connect to the upstream: proxy replied 503, flags UF,URX"
    );
    let local = Error::Timeout {
        service: "backend".into(),
        cause: TimeoutCause::LocalDeadline(Duration::from_secs(16)),
    };
    assert_eq!(local.status(), None);
    assert!(
        local
            .to_string()
            .contains("no response from the proxy within 16s"),
        "{local}"
    );
}
