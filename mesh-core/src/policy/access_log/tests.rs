//! Validation of `access_log` and the request-ID knobs, through the whole file as users write it.

use super::*;
use crate::load::from_yaml;
use crate::policy::{Bootstrap, HttpListener, ListenerKind, RequestIdOptions};

fn config(listener_extra: &str) -> Result<Bootstrap, Vec<String>> {
    let yaml = format!(
        r#"
listeners:
  - name: web
    address: 127.0.0.1:0
{listener_extra}
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            direct_response: {{ status: 200 }}
"#
    );
    from_yaml(&yaml, "t.yaml").map_err(|e| e.errors.iter().map(ToString::to_string).collect())
}

fn http(b: &Bootstrap) -> &HttpListener {
    match &b.listeners[0].kind {
        ListenerKind::Http(h) => h,
        ListenerKind::Tcp(_) => panic!("an http listener"),
    }
}

#[test]
fn defaults_are_envoys_and_no_access_log() {
    let b = config("").unwrap();
    let options = &http(&b).options;
    assert_eq!(options.request_id, RequestIdOptions::default());
    assert!(options.request_id.generate);
    assert!(!options.request_id.preserve_external && !options.request_id.always_set_in_response);
    assert!(options.access_log.is_empty());
}

#[test]
fn request_id_knobs_are_read() {
    let b = config(
        "    generate_request_id: false\n    preserve_external_request_id: true\n    \
         always_set_request_id_in_response: true",
    )
    .unwrap();
    let expected = RequestIdOptions {
        generate: false,
        preserve_external: true,
        always_set_in_response: true,
    };
    assert_eq!(http(&b).options.request_id, expected);
}

#[test]
fn access_logs_compile_with_their_defaults() {
    let b = config(
        r#"    access_log:
      - path: /dev/stdout
      - path: /tmp/mesh.log
        format: "%REQ(:METHOD)% %RESPONSE_CODE%"
        sampling: "12.5%"
      - path: /tmp/mesh.json
        json_format: { code: "%RESPONSE_CODE%", id: "%REQ(X-REQUEST-ID)%" }
        sampling: 3"#,
    )
    .unwrap();
    let logs = &http(&b).options.access_log;
    assert_eq!(logs.len(), 3);
    assert_eq!(logs[0].path, LogPath::Stdout);
    assert_eq!(logs[0].format, LogFormat::envoy_default());
    assert_eq!(logs[0].sampling, None);
    assert_eq!(logs[1].path, LogPath::File("/tmp/mesh.log".into()));
    assert!(matches!(logs[1].format.kind(), FormatKind::Text(s) if s.len() == 3));
    assert_eq!(logs[1].sampling, Some(Percent::new(12.5).unwrap()));
    assert!(matches!(logs[2].format.kind(), FormatKind::Json(f) if f.len() == 2));
    assert_eq!(logs[2].sampling, Some(Percent::new(3.0).unwrap()));

    // `/config_dump` shows the source the user wrote.
    let dump = serde_json::to_value(&logs[1]).unwrap();
    assert_eq!(dump["path"], "/tmp/mesh.log");
    assert_eq!(dump["format"], "%REQ(:METHOD)% %RESPONSE_CODE%");
    assert_eq!(dump["sampling"], 12.5);
}

#[test]
fn bad_access_logs_name_the_key_and_the_reason() {
    let errors = config(
        r#"    access_log:
      - path: /dev/stdout
      - path: /tmp/a.log
        format: "%REQ(:METHOD)% %NOPE%"
      - format: "%RESPONSE_CODE%"
      - path: /tmp/b.log
        json_format: { ok: "%DURATION%", bad: "%REQ()%" }
      - path: /tmp/c.log
        format: "%PROTOCOL%"
        json_format: { a: "%PROTOCOL%" }
      - path: /tmp/d.log
        sampling: "150%"
      - path: /tmp/e.log
        sampling: "half""#,
    )
    .unwrap_err();
    let expected = [
        "listeners[0].access_log[1].format: at byte 15: unknown command operator %NOPE%",
        "listeners[0].access_log[2].path: is required",
        "listeners[0].access_log[3].json_format: json key \"bad\": at byte 0: \"\" is not a supported header name",
        "listeners[0].access_log[4].json_format: cannot be set together with format",
        "listeners[0].access_log[5].sampling: 150 is not a percentage in 0..=100",
        "listeners[0].access_log[6].sampling: \"half\" is not a percentage like \"10%\"",
    ];
    assert_eq!(errors, expected);
}

#[test]
fn http_only_keys_are_refused_on_tcp_listeners() {
    let yaml = r#"
listeners:
  - name: raw
    address: 127.0.0.1:0
    protocol: tcp
    cluster: c
    generate_request_id: false
    access_log: [ { path: /dev/stdout } ]
clusters:
  - name: c
    endpoints: [ { address: "127.0.0.1:1" } ]
"#;
    let errors: Vec<String> = from_yaml(yaml, "t.yaml")
        .unwrap_err()
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "listeners[0].generate_request_id: applies to http listeners only",
            "listeners[0].access_log: applies to http listeners only",
        ]
    );
}

#[test]
fn the_documented_example_is_valid() {
    let doc = include_str!("../../../../docs/config.md");
    let section = doc.split("### Request IDs and access logs").nth(1).unwrap();
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let b = from_yaml(yaml, "config.md").unwrap_or_else(|e| panic!("{e}"));
    let options = &http(&b).options;
    assert!(options.request_id.always_set_in_response);
    assert_eq!(options.access_log.len(), 2);
    assert_eq!(options.access_log[1].sampling, Some(Percent::new(10.0).unwrap()));
}
