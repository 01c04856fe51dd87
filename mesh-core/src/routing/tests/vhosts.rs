//! Virtual host selection by Host/`:authority`.

use super::{selected, vhosts};

fn four_kinds() -> crate::policy::VirtualHosts {
    vhosts(
        r#"
        - { name: exact, domains: ["www.example.com"] }
        - { name: suffix, domains: ["*.example.com"] }
        - { name: prefix, domains: ["api.*"] }
        - { name: any, domains: ["*"] }
        "#,
    )
}

#[test]
fn exact_beats_suffix_beats_prefix_beats_any() {
    let hosts = four_kinds();
    // Matched by exact, suffix and (for "www.") nothing else: exact wins.
    assert_eq!(selected(&hosts, "www.example.com"), Some("exact"));
    // Matched by both `*.example.com` and `api.*`: the suffix wildcard wins.
    assert_eq!(selected(&hosts, "api.example.com"), Some("suffix"));
    assert_eq!(selected(&hosts, "api.example.org"), Some("prefix"));
    assert_eq!(selected(&hosts, "elsewhere.org"), Some("any"));
}

#[test]
fn exact_beats_wildcards_that_also_match() {
    let hosts = vhosts(
        r#"
        - { name: suffix, domains: ["*.example.com"] }
        - { name: prefix, domains: ["api.*"] }
        - { name: exact, domains: ["api.example.com"] }
        "#,
    );
    assert_eq!(selected(&hosts, "api.example.com"), Some("exact"));
}

#[test]
fn longest_wildcard_wins_whatever_the_order() {
    let hosts = vhosts(
        r#"
        - { name: short-suffix, domains: ["*.example.com"] }
        - { name: long-suffix, domains: ["*.api.example.com"] }
        - { name: long-prefix, domains: ["api.v1.*"] }
        - { name: short-prefix, domains: ["api.*"] }
        "#,
    );
    assert_eq!(selected(&hosts, "x.api.example.com"), Some("long-suffix"));
    assert_eq!(selected(&hosts, "www.example.com"), Some("short-suffix"));
    assert_eq!(selected(&hosts, "api.v1.internal"), Some("long-prefix"));
    assert_eq!(selected(&hosts, "api.v2.internal"), Some("short-prefix"));
}

#[test]
fn suffix_wildcards_may_end_mid_label() {
    let hosts = vhosts(r#"- { name: bar, domains: ["*-bar.example.com"] }"#);
    assert_eq!(selected(&hosts, "foo-bar.example.com"), Some("bar"));
    assert_eq!(selected(&hosts, "foo.example.com"), None);
}

#[test]
fn matching_ignores_case_of_host_and_domain() {
    let hosts = vhosts(
        r#"
        - { name: exact, domains: ["API.Example.com"] }
        - { name: suffix, domains: ["*.EXAMPLE.org"] }
        "#,
    );
    assert_eq!(selected(&hosts, "api.example.com"), Some("exact"));
    assert_eq!(selected(&hosts, "API.EXAMPLE.COM"), Some("exact"));
    assert_eq!(selected(&hosts, "Www.Example.Org"), Some("suffix"));
}

#[test]
fn host_with_port_falls_back_to_domain_without_port() {
    let hosts = vhosts(
        r#"
        - { name: plain, domains: ["example.com", "[::1]", "*.example.org"] }
        - { name: tls-port, domains: ["example.com:8443"] }
        "#,
    );
    assert_eq!(selected(&hosts, "example.com:8443"), Some("tls-port"));
    assert_eq!(selected(&hosts, "example.com:8080"), Some("plain"));
    assert_eq!(selected(&hosts, "example.com"), Some("plain"));
    assert_eq!(selected(&hosts, "www.example.org:80"), Some("plain"));
    assert_eq!(selected(&hosts, "[::1]:8080"), Some("plain"));
    assert_eq!(selected(&hosts, "[::1]"), Some("plain"));
}

#[test]
fn a_domain_with_port_does_not_match_other_ports_or_no_port() {
    let hosts = vhosts(r#"- { name: tls-port, domains: ["example.com:8443"] }"#);
    assert_eq!(selected(&hosts, "example.com:8443"), Some("tls-port"));
    assert_eq!(selected(&hosts, "example.com"), None);
    assert_eq!(selected(&hosts, "example.com:80"), None);
}

#[test]
fn wildcards_must_match_at_least_one_character() {
    let hosts = vhosts(
        r#"
        - { name: suffix, domains: ["*.a.com"] }
        - { name: prefix, domains: ["api.*"] }
        "#,
    );
    assert_eq!(selected(&hosts, "a.com"), None, "*.a.com is not a.com");
    assert_eq!(selected(&hosts, ".a.com"), None);
    assert_eq!(selected(&hosts, "b.a.com"), Some("suffix"));
    assert_eq!(selected(&hosts, "api."), None);
    assert_eq!(selected(&hosts, "api"), None);
}

#[test]
fn without_star_an_unknown_host_selects_nothing() {
    let hosts = vhosts(
        r#"
        - { name: one, domains: ["one.example.com", "*.one.example.com"] }
        "#,
    );
    assert_eq!(selected(&hosts, "two.example.com"), None);
    assert_eq!(selected(&hosts, ""), None);
}

#[test]
fn star_catches_everything_else_including_empty_hosts() {
    let hosts = four_kinds();
    assert_eq!(selected(&hosts, ""), Some("any"));
    assert_eq!(selected(&hosts, "127.0.0.1:10000"), Some("any"));
}
