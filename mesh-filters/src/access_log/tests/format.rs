//! Text formats: every operator, the Envoy default line, and refusals with their positions.

use super::*;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use std::time::{Duration, SystemTime};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}

/// 2026-11-29T07:14:19.005Z
fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_936_459_005)
}

fn full_entry() -> Entry {
    Entry {
        start_time: start(),
        method: Some(Method::GET),
        path: Some("/api/v1?q=1".into()),
        authority: Some("example.com".into()),
        scheme: Some("https".into()),
        protocol: Some(Version::HTTP_11),
        request_headers: headers(&[
            ("x-forwarded-for", "10.0.0.9"),
            ("user-agent", "curl/8.5.0"),
            ("x-request-id", "abc-123"),
        ]),
        response_code: Some(StatusCode::OK),
        response_headers: headers(&[
            ("x-mesh-upstream-service-time", "25"),
            ("content-type", "text/plain"),
        ]),
        response_trailers: headers(&[("grpc-status", "0")]),
        response_flags: String::new(),
        bytes_received: 12,
        bytes_sent: 345,
        duration: Some(Duration::from_micros(27_900)),
        response_duration: Some(Duration::from_millis(25)),
        upstream_host: Some("10.1.2.3:8080".parse().unwrap()),
        upstream_cluster: Some("backend".into()),
        downstream_remote: Some("192.168.0.7:51000".parse().unwrap()),
    }
}

fn render(format: &str, entry: &Entry) -> String {
    Format::parse(format).unwrap().render(entry)
}

#[test]
fn envoy_default_renders_the_exact_envoy_line() {
    let line = Format::envoy_default().render(&full_entry());
    assert_eq!(
        line,
        "[2026-11-29T07:14:19.005Z] \"GET /api/v1?q=1 HTTP/1.1\" 200 - 12 345 27 25 \"10.0.0.9\" \
         \"curl/8.5.0\" \"abc-123\" \"example.com\" \"10.1.2.3:8080\"\n"
    );
    assert_eq!(Format::parse(ENVOY_DEFAULT).unwrap(), Format::default());
}

#[test]
fn envoy_default_with_nothing_known_renders_dashes() {
    let line = Format::envoy_default().render(&Entry::default());
    assert_eq!(
        line,
        "[1970-01-01T00:00:00.000Z] \"- - -\" 0 - 0 0 - - \"-\" \"-\" \"-\" \"-\" \"-\"\n"
    );
}

#[test]
fn every_operator_renders_its_field() {
    let mut entry = full_entry();
    entry.response_flags = "UF,URX".into();
    let cases = [
        ("%START_TIME%", "2026-11-29T07:14:19.005Z"),
        ("%REQ(:METHOD)%", "GET"),
        ("%REQ(:PATH)%", "/api/v1?q=1"),
        ("%REQ(:AUTHORITY)%", "example.com"),
        ("%REQ(:SCHEME)%", "https"),
        ("%REQ(USER-AGENT)%", "curl/8.5.0"),
        ("%REQ(user-agent)%", "curl/8.5.0"),
        ("%REQ(X-MISSING?USER-AGENT)%", "curl/8.5.0"),
        ("%REQ(X-MISSING)%", "-"),
        ("%REQ(USER-AGENT):4%", "curl"),
        ("%REQ(X-MISSING?:PATH):4%", "/api"),
        ("%REQUEST_ID%", "abc-123"),
        ("%RESP(CONTENT-TYPE)%", "text/plain"),
        ("%RESP(X-MISSING?X-MESH-UPSTREAM-SERVICE-TIME)%", "25"),
        ("%TRAILER(GRPC-STATUS)%", "0"),
        ("%TRAILER(GRPC-MESSAGE)%", "-"),
        ("%PROTOCOL%", "HTTP/1.1"),
        ("%RESPONSE_CODE%", "200"),
        ("%RESPONSE_FLAGS%", "UF,URX"),
        ("%BYTES_RECEIVED%", "12"),
        ("%BYTES_SENT%", "345"),
        ("%DURATION%", "27"),
        ("%RESPONSE_DURATION%", "25"),
        ("%UPSTREAM_HOST%", "10.1.2.3:8080"),
        ("%UPSTREAM_CLUSTER%", "backend"),
        ("%DOWNSTREAM_REMOTE_ADDRESS%", "192.168.0.7:51000"),
        ("100%% %RESPONSE_CODE%%%", "100% 200%"),
        ("plain text", "plain text"),
    ];
    for (format, expected) in cases {
        assert_eq!(render(format, &entry), format!("{expected}\n"), "{format}");
    }
}

#[test]
fn protocols_use_envoy_spelling() {
    for (version, name) in [
        (Version::HTTP_10, "HTTP/1.0"),
        (Version::HTTP_2, "HTTP/2"),
        (Version::HTTP_3, "HTTP/3"),
    ] {
        let entry = Entry {
            protocol: Some(version),
            ..Entry::default()
        };
        assert_eq!(render("%PROTOCOL%", &entry), format!("{name}\n"));
    }
}

#[test]
fn a_format_ending_in_newline_gets_no_second_one() {
    assert_eq!(render("%RESPONSE_CODE%\n", &full_entry()), "200\n");
}

#[test]
fn refusals_name_the_position_and_the_reason() {
    let cases: Vec<(&str, usize, Reason)> = vec![
        ("abc %FOO% x", 4, Reason::UnknownOperator("FOO".into())),
        ("%duration%", 0, Reason::UnknownOperator("duration".into())),
        ("héllo %BAD%", 7, Reason::UnknownOperator("BAD".into())),
        ("%REQ%", 0, Reason::MissingArgument("REQ")),
        ("%RESP%", 0, Reason::MissingArgument("RESP")),
        ("%TRAILER%", 0, Reason::MissingArgument("TRAILER")),
        ("x %DURATION(a)%", 2, Reason::UnexpectedArgument("DURATION")),
        ("%REQUEST_ID(X)%", 0, Reason::UnexpectedArgument("REQUEST_ID")),
        ("%REQ(A?B?C)%", 0, Reason::TooManyAlternatives),
        ("%REQ(:FOO)%", 0, Reason::BadHeader(":FOO".into())),
        ("%REQ(bad header)%", 0, Reason::BadHeader("bad header".into())),
        ("%REQ()%", 0, Reason::BadHeader("".into())),
        ("%REQ(A):x%", 0, Reason::BadMaxLength("".into())),
        ("%REQ(A):0%", 0, Reason::BadMaxLength("0".into())),
        ("ok %START_TIME(%Y)%", 3, Reason::StartTimePattern("%Y".into())),
        ("end %DURATION", 4, Reason::Unterminated),
        ("%REQ(USER-AGENT", 0, Reason::Unterminated),
        ("50%", 2, Reason::Unterminated),
    ];
    for (format, position, reason) in cases {
        let err = Format::parse(format).unwrap_err();
        assert_eq!(
            err,
            FormatError {
                key: None,
                position,
                reason
            },
            "{format}"
        );
    }
}

#[test]
fn refusals_read_well() {
    let err = Format::parse("abc %FOO% x").unwrap_err();
    assert_eq!(err.to_string(), "at byte 4: unknown command operator %FOO%");
    let err = Format::parse("%START_TIME(%s)%").unwrap_err();
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}
