//! JSON formats: one object per line, numbers typed, missing values `null`.

use super::*;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

fn format(fields: &[(&str, &str)]) -> Result<Format, FormatError> {
    Format::json(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn fields() -> Format {
    format(&[
        ("start_time", "%START_TIME%"),
        ("method", "%REQ(:METHOD)%"),
        ("code", "%RESPONSE_CODE%"),
        ("received", "%BYTES_RECEIVED%"),
        ("sent", "%BYTES_SENT%"),
        ("duration", "%DURATION%"),
        ("response_duration", "%RESPONSE_DURATION%"),
        ("flags", "%RESPONSE_FLAGS%"),
        ("upstream", "%UPSTREAM_HOST%"),
        ("user_agent", "%REQ(USER-AGENT)%"),
        ("summary", "%REQ(:METHOD)% %RESPONSE_CODE% %DURATION%"),
        ("source", "mesh"),
    ])
    .unwrap()
}

#[test]
fn numbers_are_typed_and_strings_escaped() {
    let mut request_headers = HeaderMap::new();
    request_headers.insert("user-agent", HeaderValue::from_static(r#"a "quoted" \ agent"#));
    let entry = Entry {
        method: Some(http::Method::POST),
        response_code: Some(StatusCode::SERVICE_UNAVAILABLE),
        response_flags: "UH".into(),
        bytes_received: 3,
        bytes_sent: 19,
        duration: Some(Duration::from_millis(42)),
        response_duration: Some(Duration::from_millis(40)),
        upstream_host: Some("10.0.0.1:80".parse().unwrap()),
        request_headers,
        ..Entry::default()
    };
    let line = fields().render(&entry);
    assert!(
        line.ends_with('\n') && line.matches('\n').count() == 1,
        "{line:?}"
    );
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        parsed,
        json!({
            "start_time": "1970-01-01T00:00:00.000Z",
            "method": "POST",
            "code": 503,
            "received": 3,
            "sent": 19,
            "duration": 42,
            "response_duration": 40,
            "flags": "UH",
            "upstream": "10.0.0.1:80",
            "user_agent": r#"a "quoted" \ agent"#,
            "summary": "POST 503 42",
            "source": "mesh",
        })
    );
}

#[test]
fn missing_values_are_null_alone_and_dashes_inside_text() {
    let parsed: Value = serde_json::from_str(&fields().render(&Entry::default())).unwrap();
    assert_eq!(parsed["method"], Value::Null);
    assert_eq!(parsed["duration"], Value::Null);
    assert_eq!(parsed["flags"], Value::Null);
    assert_eq!(parsed["upstream"], Value::Null);
    // Envoy shows a missing response code as 0, a number, not null.
    assert_eq!(parsed["code"], json!(0));
    assert_eq!(parsed["summary"], json!("- 0 -"));
}

#[test]
fn a_bad_value_names_its_key() {
    let err = format(&[("code", "%RESPONSE_CODE%"), ("oops", "x %NOPE%")]).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("oops"));
    assert_eq!(err.position, 2);
    assert_eq!(
        err.to_string(),
        "json key \"oops\": at byte 2: unknown command operator %NOPE%"
    );
}
