//! Semantic mistakes in virtual hosts and routes: each reported once, at its key path.

use super::only_error;

pub(super) const CLUSTER: &str =
    "clusters:\n  - { name: web, endpoints: [ { address: \"127.0.0.1:8081\" } ] }\n";

/// One HTTP listener whose `virtual_hosts` list holds the flow mappings `vhosts`.
fn listener(vhosts: &str) -> String {
    format!(
        "listeners:\n  - name: web\n    address: 127.0.0.1:10000\n    virtual_hosts: [ {vhosts} ]\n{CLUSTER}"
    )
}

/// A listener with one `*` virtual host whose routes are the flow mappings `routes`.
fn routes(routes: &str) -> String {
    listener(&format!(
        r#"{{ name: all, domains: ["*"], routes: [ {routes} ] }}"#
    ))
}

const ROUTE: &str = "listeners[0].virtual_hosts[0].routes[0]";

#[test]
fn duplicate_domains_in_a_listener_ignoring_case() {
    let yaml = listener(
        r#"{ name: a, domains: ["example.com", "*.example.com"] }, { name: b, domains: ["api.com", "Example.COM"] }"#,
    );
    only_error(
        &yaml,
        "listeners[0].virtual_hosts[1].domains[1]",
        "claimed by another virtual host",
    );
    let two_stars = listener(r#"{ name: a, domains: ["*"] }, { name: b, domains: ["*"] }"#);
    only_error(&two_stars, "listeners[0].virtual_hosts[1].domains[0]", r#""*""#);
}

#[test]
fn malformed_domains_and_vhost_names() {
    let yaml = listener(r#"{ name: a, domains: ["a*b.com"] }"#);
    only_error(
        &yaml,
        "listeners[0].virtual_hosts[0].domains[0]",
        "is not a domain",
    );
    let yaml = listener(r#"{ name: a, domains: [] }"#);
    only_error(
        &yaml,
        "listeners[0].virtual_hosts[0].domains",
        "at least one domain",
    );
    let yaml = listener(r#"{ name: a, domains: [a.com] }, { name: a, domains: [b.com] }"#);
    only_error(
        &yaml,
        "listeners[0].virtual_hosts[1].name",
        "another virtual host",
    );
}

#[test]
fn a_route_takes_exactly_one_action() {
    let both =
        routes(r#"{ match: { prefix: "/" }, route: { cluster: web }, redirect: { https_redirect: true } }"#);
    only_error(&both, ROUTE, "exactly one of route, redirect, direct_response");
    let none = routes(r#"{ match: { prefix: "/" } }"#);
    only_error(&none, ROUTE, "exactly one of route, redirect, direct_response");
    let no_match = routes("{ route: { cluster: web } }");
    only_error(&no_match, &format!("{ROUTE}.match"), "is required");
}

#[test]
fn match_and_action_mistakes() {
    let cases = [
        (
            r#"{ match: { prefix: "/", path: "/x" }, route: { cluster: web } }"#,
            "match",
            "exactly one of prefix, path, safe_regex",
        ),
        (
            r#"{ match: { prefix: "api" }, route: { cluster: web } }"#,
            "match.prefix",
            "must start with '/'",
        ),
        (
            r#"{ match: { safe_regex: "(" }, route: { cluster: web } }"#,
            "match.safe_regex",
            "not a valid regex",
        ),
        (
            r#"{ match: { prefix: "/", methods: ["GE T"] }, route: { cluster: web } }"#,
            "match.methods[0]",
            "not an HTTP method",
        ),
        (
            r#"{ match: { prefix: "/", headers: [ { name: x, exact: a, prefix: b } ] }, route: { cluster: web } }"#,
            "match.headers[0]",
            "at most one of",
        ),
        (
            r#"{ match: { prefix: "/" }, route: { cluster: nope } }"#,
            "route.cluster",
            r#""nope" is not a cluster"#,
        ),
        (
            r#"{ match: { prefix: "/" }, route: { cluster: web, timeout: 15 } }"#,
            "route.timeout",
            r#""15" has no unit"#,
        ),
        (
            r#"{ match: { safe_regex: "/.*" }, route: { cluster: web, prefix_rewrite: "/" } }"#,
            "route.prefix_rewrite",
            "regex_rewrite",
        ),
        (
            r#"{ match: { prefix: "/" }, route: { weighted_clusters: [ { name: web, weight: 0 } ] } }"#,
            "route.weighted_clusters",
            "add up to 0",
        ),
        (
            r#"{ match: { prefix: "/" }, route: { weighted_clusters: [ { name: web } ] } }"#,
            "route.weighted_clusters[0].weight",
            "is required",
        ),
        (
            r#"{ match: { prefix: "/" }, route: { cluster: web, host_rewrite_literal: "a b" } }"#,
            "route.host_rewrite_literal",
            "not a host[:port]",
        ),
        (
            r#"{ match: { prefix: "/" }, route: { cluster: web, host_rewrite_literal: "user@a.com" } }"#,
            "route.host_rewrite_literal",
            "not a host[:port]",
        ),
        (
            r#"{ match: { prefix: "/" }, redirect: { response_code: 200 } }"#,
            "redirect.response_code",
            "200 is not one of 301, 302, 303, 307, 308",
        ),
        (
            r#"{ match: { prefix: "/" }, redirect: { path_redirect: "x" } }"#,
            "redirect.path_redirect",
            "must start with '/'",
        ),
        (
            r#"{ match: { prefix: "/" }, redirect: { https_redirect: true, scheme_redirect: ftp } }"#,
            "redirect",
            "at most one of https_redirect, scheme_redirect",
        ),
        (
            r#"{ match: { prefix: "/" }, direct_response: { status: 99 } }"#,
            "direct_response.status",
            "200..=599",
        ),
    ];
    for (route, key, needle) in cases {
        only_error(&routes(route), &format!("{ROUTE}.{key}"), needle);
    }
}

#[test]
fn header_rule_mistakes() {
    let vh = |rules: &str| listener(&format!(r#"{{ name: all, domains: ["*"], {rules} }}"#));
    let vhost = "listeners[0].virtual_hosts[0]";
    let bad_name = vh(r#"request_headers_to_add: [ { key: "bad header", value: v } ]"#);
    only_error(
        &bad_name,
        &format!("{vhost}.request_headers_to_add[0].key"),
        "not a valid header name",
    );
    let pseudo = vh(r#"request_headers_to_remove: [ x-ok, ":path" ]"#);
    only_error(
        &pseudo,
        &format!("{vhost}.request_headers_to_remove[1]"),
        "cannot be modified",
    );
    let host = vh(r#"response_headers_to_add: [ { key: Host, value: v } ]"#);
    only_error(
        &host,
        &format!("{vhost}.response_headers_to_add[0].key"),
        "cannot be modified",
    );
    let no_value = vh(r#"response_headers_to_add: [ { key: x-a } ]"#);
    only_error(
        &no_value,
        &format!("{vhost}.response_headers_to_add[0].value"),
        "is required",
    );
    let on_route = routes(
        r#"{ match: { prefix: "/" }, route: { cluster: web }, request_headers_to_add: [ { key: "x:y", value: v } ] }"#,
    );
    only_error(
        &on_route,
        &format!("{ROUTE}.request_headers_to_add[0].key"),
        "not a valid header name",
    );
}
