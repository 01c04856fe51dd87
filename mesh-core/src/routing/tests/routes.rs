//! Route matching: path, case, headers, methods, order.

use super::{Req, picked, vhost};

/// Whether a single route with `match: {matcher}` accepts `req`.
fn accepts(matcher: &str, req: &Req) -> bool {
    let vh = vhost(&format!(
        "- {{ name: r, match: {matcher}, route: {{ cluster: a }} }}"
    ));
    picked(&vh, req).is_some()
}

#[test]
fn prefix_is_a_plain_string_prefix() {
    let m = r#"{ prefix: "/api" }"#;
    assert!(accepts(m, &Req::get("/api")));
    assert!(accepts(m, &Req::get("/api/users")));
    assert!(accepts(m, &Req::get("/apix")), "not segment-aware, as in Envoy");
    assert!(!accepts(m, &Req::get("/ap")));
    assert!(!accepts(m, &Req::get("/v1/api")));
    assert!(!accepts(m, &Req::get("/API")), "case-sensitive by default");
}

#[test]
fn path_must_equal_the_whole_path() {
    let m = r#"{ path: "/health" }"#;
    assert!(accepts(m, &Req::get("/health")));
    assert!(!accepts(m, &Req::get("/health/")));
    assert!(!accepts(m, &Req::get("/healthz")));
    assert!(!accepts(m, &Req::get("/Health")));
}

#[test]
fn safe_regex_must_match_the_whole_path_not_a_substring() {
    let m = r#"{ safe_regex: "/users/[0-9]+" }"#;
    assert!(accepts(m, &Req::get("/users/42")));
    assert!(!accepts(m, &Req::get("/users/42/posts")));
    assert!(!accepts(m, &Req::get("/v1/users/42")));
    assert!(!accepts(m, &Req::get("/users/")));
}

#[test]
fn safe_regex_alternatives_are_anchored_as_a_whole() {
    let m = r#"{ safe_regex: "/a|/b" }"#;
    assert!(accepts(m, &Req::get("/a")));
    assert!(accepts(m, &Req::get("/b")));
    assert!(!accepts(m, &Req::get("/ab")));
    assert!(!accepts(m, &Req::get("/xb")));
}

#[test]
fn case_sensitive_false_ignores_case_of_prefix_and_path() {
    let prefix = r#"{ prefix: "/API/", case_sensitive: false }"#;
    assert!(accepts(prefix, &Req::get("/api/users")));
    assert!(accepts(prefix, &Req::get("/Api/users")));
    assert!(!accepts(prefix, &Req::get("/ap")));
    let path = r#"{ path: "/Health", case_sensitive: false }"#;
    assert!(accepts(path, &Req::get("/HEALTH")));
    assert!(!accepts(path, &Req::get("/HEALTHZ")));
}

/// Whether a route whose only extra condition is header matcher `h` accepts `req`.
fn header_accepts(h: &str, req: &Req) -> bool {
    accepts(&format!(r#"{{ prefix: "/", headers: [ {h} ] }}"#), req)
}

#[test]
fn header_matchers_compare_values() {
    let req = Req::get("/").header("x-env", "staging-eu");
    let cases = [
        (r#"{ name: x-env, exact: staging-eu }"#, true),
        (r#"{ name: x-env, exact: staging }"#, false),
        (r#"{ name: x-env, prefix: staging }"#, true),
        (r#"{ name: x-env, prefix: eu }"#, false),
        (r#"{ name: x-env, suffix: "-eu" }"#, true),
        (r#"{ name: x-env, suffix: staging }"#, false),
        (r#"{ name: x-env, contains: "ing-e" }"#, true),
        (r#"{ name: x-env, contains: prod }"#, false),
        (r#"{ name: x-env, safe_regex: "staging-(eu|us)" }"#, true),
        (r#"{ name: x-env, safe_regex: "staging" }"#, false),
        (r#"{ name: X-Env, exact: staging-eu }"#, true),
        (r#"{ name: x-env, exact: STAGING-EU }"#, false),
    ];
    for (h, want) in cases {
        assert_eq!(header_accepts(h, &req), want, "{h}");
    }
}

#[test]
fn value_matchers_never_match_an_absent_header() {
    let req = Req::get("/");
    for h in [
        r#"{ name: x-env, exact: "" }"#,
        r#"{ name: x-env, prefix: "" }"#,
        r#"{ name: x-env, contains: "" }"#,
        r#"{ name: x-env, safe_regex: ".*" }"#,
    ] {
        assert!(!header_accepts(h, &req), "{h}");
    }
}

#[test]
fn present_matches_on_existence_and_is_the_default() {
    let with = Req::get("/").header("x-debug", "");
    let without = Req::get("/");
    for (h, on_with, on_without) in [
        ("{ name: x-debug }", true, false),
        ("{ name: x-debug, present: true }", true, false),
        ("{ name: x-debug, present: false }", false, true),
    ] {
        assert_eq!(header_accepts(h, &with), on_with, "{h} with header");
        assert_eq!(header_accepts(h, &without), on_without, "{h} without");
    }
}

#[test]
fn invert_match_negates_the_result() {
    let prod = Req::get("/").header("x-env", "prod");
    let dev = Req::get("/").header("x-env", "dev");
    let h = "{ name: x-env, exact: prod, invert_match: true }";
    assert!(!header_accepts(h, &prod));
    assert!(header_accepts(h, &dev));
    // Envoy's rule: an absent header fails a value matcher, inverted or not.
    assert!(!header_accepts(h, &Req::get("/")));
    let absent = "{ name: x-env, present: true, invert_match: true }";
    assert!(header_accepts(absent, &Req::get("/")));
    assert!(!header_accepts(absent, &dev));
}

#[test]
fn pseudo_headers_match_request_line_parts() {
    let post = Req::get("/upload")
        .method("POST")
        .authority("api.example.com:8443");
    assert!(header_accepts(r#"{ name: ":method", exact: POST }"#, &post));
    assert!(!header_accepts(r#"{ name: ":method", exact: GET }"#, &post));
    assert!(header_accepts(r#"{ name: ":path", prefix: "/up" }"#, &post));
    assert!(header_accepts(
        r#"{ name: ":authority", exact: "api.example.com:8443" }"#,
        &post
    ));
    assert!(header_accepts(r#"{ name: host, prefix: "api." }"#, &post));
    assert!(header_accepts(r#"{ name: ":scheme", exact: http }"#, &post));
    assert!(!header_accepts(
        r#"{ name: ":scheme", exact: https }"#,
        &post.scheme("http")
    ));
}

#[test]
fn repeated_headers_are_matched_joined_with_commas() {
    let req = Req::get("/")
        .header("x-tag", "a")
        .header("x-tag", "b")
        .header("x-tag", "c");
    assert!(header_accepts(r#"{ name: x-tag, exact: "a,b,c" }"#, &req));
    assert!(!header_accepts(r#"{ name: x-tag, exact: a }"#, &req));
    assert!(!header_accepts(r#"{ name: x-tag, exact: "a, b, c" }"#, &req));
    assert!(header_accepts(r#"{ name: x-tag, suffix: ",c" }"#, &req));
    let two = Req::get("/").header("x-tag", "a").header("x-tag", "b");
    assert!(header_accepts(r#"{ name: x-tag, exact: "a,b" }"#, &two));
}

#[test]
fn all_header_matchers_must_match() {
    let m = r#"{ prefix: "/", headers: [ { name: x-a, exact: "1" }, { name: x-b, exact: "2" } ] }"#;
    assert!(accepts(m, &Req::get("/").header("x-a", "1").header("x-b", "2")));
    assert!(!accepts(m, &Req::get("/").header("x-a", "1")));
    assert!(!accepts(m, &Req::get("/").header("x-a", "1").header("x-b", "3")));
}

#[test]
fn methods_list_restricts_methods_and_empty_allows_any() {
    let m = r#"{ prefix: "/", methods: [GET, head] }"#;
    assert!(accepts(m, &Req::get("/")));
    assert!(accepts(m, &Req::get("/").method("HEAD")));
    assert!(!accepts(m, &Req::get("/").method("POST")));
    let any = r#"{ prefix: "/" }"#;
    assert!(accepts(any, &Req::get("/").method("DELETE")));
}

#[test]
fn first_matching_route_wins_in_configuration_order() {
    let vh = vhost(
        r#"
        - { name: api, match: { prefix: "/api" }, route: { cluster: a } }
        - { name: api-v2, match: { prefix: "/api/v2" }, route: { cluster: b } }
        - { name: posts, match: { prefix: "/", methods: [POST] }, route: { cluster: b } }
        - { name: rest, match: { prefix: "/" }, route: { cluster: c } }
        "#,
    );
    assert_eq!(
        picked(&vh, &Req::get("/api/v2/x")),
        Some("api"),
        "earlier route shadows"
    );
    assert_eq!(picked(&vh, &Req::get("/api")), Some("api"));
    assert_eq!(picked(&vh, &Req::get("/other").method("POST")), Some("posts"));
    assert_eq!(picked(&vh, &Req::get("/api").method("POST")), Some("api"));
    assert_eq!(picked(&vh, &Req::get("/other")), Some("rest"));
}

#[test]
fn no_matching_route_gives_none() {
    let vh = vhost(r#"- { name: api, match: { prefix: "/api" }, route: { cluster: a } }"#);
    assert_eq!(picked(&vh, &Req::get("/web")), None);
}
