//! Path rewrites on forwarded requests, redirect `Location`s and weighted picks.

use super::{Req, forward, redirect, route};
use crate::policy::{Action, ClusterSpecifier, WeightedClusters};

/// The upstream path-and-query for `path?query` through the route in `yaml`.
fn rewritten(yaml: &str, path: &str, query: Option<&str>) -> Option<String> {
    let r = route(yaml);
    forward(&r).rewrite_path(&r.matcher, path, query)
}

#[test]
fn prefix_rewrite_replaces_the_matched_prefix_and_keeps_the_query() {
    let r = r#"{ match: { prefix: "/api/" }, route: { cluster: a, prefix_rewrite: "/v2/" } }"#;
    assert_eq!(
        rewritten(r, "/api/users", Some("x=1")).as_deref(),
        Some("/v2/users?x=1")
    );
    assert_eq!(rewritten(r, "/api/", None).as_deref(), Some("/v2/"));
    let strip = r#"{ match: { prefix: "/api/" }, route: { cluster: a, prefix_rewrite: "/" } }"#;
    assert_eq!(rewritten(strip, "/api/users", None).as_deref(), Some("/users"));
}

#[test]
fn prefix_rewrite_after_a_case_insensitive_match_replaces_what_was_matched() {
    let r = r#"{ match: { prefix: "/API/", case_sensitive: false }, route: { cluster: a, prefix_rewrite: "/v2/" } }"#;
    assert_eq!(rewritten(r, "/api/Users", None).as_deref(), Some("/v2/Users"));
}

#[test]
fn prefix_rewrite_with_a_path_match_replaces_the_whole_path() {
    let r = r#"{ match: { path: "/old" }, route: { cluster: a, prefix_rewrite: "/new" } }"#;
    assert_eq!(rewritten(r, "/old", Some("q")).as_deref(), Some("/new?q"));
}

#[test]
fn an_empty_rewritten_path_becomes_slash() {
    let r = r#"{ match: { prefix: "/api" }, route: { cluster: a, prefix_rewrite: "" } }"#;
    assert_eq!(rewritten(r, "/api", None).as_deref(), Some("/"));
}

#[test]
fn regex_rewrite_substitutes_every_match_with_capture_groups() {
    let r = r#"{ match: { prefix: "/service/" }, route: { cluster: a, regex_rewrite: { pattern: "^/service/([^/]+)(/.*)$", substitution: "\\2/instance/\\1" } } }"#;
    assert_eq!(
        rewritten(r, "/service/foo/v1/api", Some("a=b")).as_deref(),
        Some("/v1/api/instance/foo?a=b")
    );
    let all = r#"{ match: { prefix: "/" }, route: { cluster: a, regex_rewrite: { pattern: "-", substitution: "_" } } }"#;
    assert_eq!(rewritten(all, "/a-b/c-d", None).as_deref(), Some("/a_b/c_d"));
}

#[test]
fn without_a_rewrite_the_path_is_left_alone() {
    let r = r#"{ match: { prefix: "/" }, route: { cluster: a } }"#;
    assert_eq!(rewritten(r, "/anything", Some("x=1")), None);
}

/// The `Location` of the redirect route in `yaml` for `req` with `query`.
fn location(yaml: &str, req: &Req, query: Option<&str>) -> String {
    let r = route(yaml);
    redirect(&r).location(&r.matcher, &req.head(), query)
}

fn at(authority: &str, path: &str) -> Req {
    Req::get(path).authority(authority)
}

#[test]
fn https_redirect_switches_scheme_and_drops_only_the_default_port() {
    let r = r#"{ match: { prefix: "/" }, redirect: { https_redirect: true } }"#;
    // Envoy keeps a non-default port and drops the old scheme's default one.
    assert_eq!(
        location(r, &at("a.com:8080", "/x"), Some("q=1")),
        "https://a.com:8080/x?q=1"
    );
    assert_eq!(location(r, &at("a.com:80", "/x"), None), "https://a.com/x");
    assert_eq!(location(r, &at("a.com", "/x"), None), "https://a.com/x");
    assert_eq!(location(r, &at("[::1]:80", "/"), None), "https://[::1]/");
    let with_port = r#"{ match: { prefix: "/" }, redirect: { https_redirect: true, port_redirect: 8443 } }"#;
    assert_eq!(
        location(with_port, &at("a.com:8080", "/x"), None),
        "https://a.com:8443/x"
    );
}

#[test]
fn unchanged_parts_of_the_request_are_kept() {
    let r = r#"{ match: { prefix: "/" }, redirect: { path_redirect: "/moved" } }"#;
    let req = at("a.com:8080", "/x").scheme("https");
    assert_eq!(location(r, &req, Some("q=1")), "https://a.com:8080/moved?q=1");
}

#[test]
fn host_redirect_replaces_the_host() {
    let r = r#"{ match: { prefix: "/" }, redirect: { host_redirect: b.com } }"#;
    assert_eq!(location(r, &at("a.com", "/x"), Some("q")), "http://b.com/x?q");
    assert_eq!(location(r, &at("a.com:8080", "/x"), None), "http://b.com:8080/x");
    // A port written in host_redirect replaces the request's port rather than stacking.
    let with_port = r#"{ match: { prefix: "/" }, redirect: { host_redirect: "b.com:9000" } }"#;
    assert_eq!(
        location(with_port, &at("a.com:8080", "/x"), None),
        "http://b.com:9000/x"
    );
    assert_eq!(
        location(with_port, &at("a.com", "/x"), None),
        "http://b.com:9000/x"
    );
    let both = r#"{ match: { prefix: "/" }, redirect: { host_redirect: "b.com:9000", port_redirect: 443, https_redirect: true } }"#;
    assert_eq!(
        location(both, &at("a.com:8080", "/x"), None),
        "https://b.com:443/x"
    );
}

#[test]
fn port_redirect_sets_or_replaces_the_port() {
    let r = r#"{ match: { prefix: "/" }, redirect: { port_redirect: 8443 } }"#;
    assert_eq!(location(r, &at("a.com:80", "/x"), None), "http://a.com:8443/x");
    assert_eq!(location(r, &at("a.com", "/x"), None), "http://a.com:8443/x");
}

#[test]
fn path_redirect_replaces_the_path_and_keeps_the_query() {
    let r = r#"{ match: { path: "/old" }, redirect: { path_redirect: "/new" } }"#;
    assert_eq!(
        location(r, &at("a.com", "/old"), Some("q=1")),
        "http://a.com/new?q=1"
    );
}

#[test]
fn redirect_prefix_rewrite_replaces_the_matched_prefix() {
    let r = r#"{ match: { prefix: "/old/" }, redirect: { prefix_rewrite: "/new/" } }"#;
    assert_eq!(
        location(r, &at("a.com", "/old/page"), Some("q")),
        "http://a.com/new/page?q"
    );
}

#[test]
fn strip_query_drops_the_query() {
    let r = r#"{ match: { prefix: "/" }, redirect: { path_redirect: "/new", strip_query: true } }"#;
    assert_eq!(location(r, &at("a.com", "/old"), Some("q=1")), "http://a.com/new");
    let keep = r#"{ match: { prefix: "/" }, redirect: { https_redirect: true, strip_query: true } }"#;
    assert_eq!(location(keep, &at("a.com", "/p"), Some("q=1")), "https://a.com/p");
}

#[test]
fn redirect_status_defaults_to_301() {
    let r = route(r#"{ match: { prefix: "/" }, redirect: { https_redirect: true } }"#);
    assert_eq!(redirect(&r).response_code.as_u16(), 301);
    let r = route(r#"{ match: { prefix: "/" }, redirect: { https_redirect: true, response_code: 308 } }"#);
    assert_eq!(redirect(&r).response_code.as_u16(), 308);
}

fn weighted(list: &str) -> WeightedClusters {
    let r = route(&format!(
        r#"{{ match: {{ prefix: "/" }}, route: {{ weighted_clusters: {list} }} }}"#
    ));
    match &r.action {
        Action::Route(f) => match &f.clusters {
            ClusterSpecifier::WeightedClusters(w) => w.clone(),
            other => panic!("expected weighted clusters, got {other:?}"),
        },
        other => panic!("expected a forwarding route, got {other:?}"),
    }
}

fn picks(w: &WeightedClusters, slots: std::ops::Range<u64>) -> Vec<String> {
    let mut names: Vec<String> = slots.map(|r| w.pick(r).name.clone()).collect();
    names.dedup();
    names
}

#[test]
fn weighted_pick_gives_each_cluster_its_slots() {
    let w = weighted("[ { name: a, weight: 90 }, { name: b, weight: 10 } ]");
    assert_eq!(w.total(), 100);
    assert_eq!(picks(&w, 0..90), ["a"]);
    assert_eq!(picks(&w, 90..100), ["b"]);
    assert_eq!(w.pick(89).name, "a");
    assert_eq!(w.pick(90).name, "b");
    assert_eq!(w.pick(99).name, "b");
    assert_eq!(w.pick(u64::MAX).name, "b", "past the end picks the last");
    let weights: Vec<u32> = w.entries().map(|(_, weight)| weight).collect();
    assert_eq!(weights, [90, 10]);
}

#[test]
fn weighted_pick_never_picks_a_zero_weight_cluster() {
    let w = weighted("[ { name: a, weight: 0 }, { name: b, weight: 3 }, { name: c, weight: 0 } ]");
    assert_eq!(w.total(), 3);
    assert_eq!(picks(&w, 0..3), ["b"]);
    assert_eq!(picks(&w, 3..10), ["b"], "even past the end");
    let w = weighted("[ { name: a, weight: 2 }, { name: b, weight: 0 }, { name: c, weight: 2 } ]");
    assert_eq!(picks(&w, 0..2), ["a"]);
    assert_eq!(picks(&w, 2..4), ["c"]);
}
