//! Semantic mistakes in listeners, clusters and top-level keys: each reported once,
//! at its key path.

use super::only_error;
use super::validation::CLUSTER;

#[test]
fn duplicate_cluster_names() {
    let yaml = "clusters: [ { name: web }, { name: db }, { name: web } ]";
    only_error(yaml, "clusters[2].name", r#""web" names another cluster too"#);
}

#[test]
fn duplicate_listener_names_and_addresses() {
    let yaml =
        "listeners:\n  - { name: a, address: 127.0.0.1:1000 }\n  - { name: a, address: 127.0.0.1:1001 }\n";
    only_error(yaml, "listeners[1].name", r#""a" names another listener too"#);
    let yaml =
        "listeners:\n  - { name: a, address: 127.0.0.1:1000 }\n  - { name: b, address: 127.0.0.1:1000 }\n";
    only_error(yaml, "listeners[1].address", "listeners[0]'s address");
    // Port 0 asks the OS for a fresh port each time, so it may repeat.
    let yaml = "listeners:\n  - { name: a, address: 127.0.0.1:0 }\n  - { name: b, address: 127.0.0.1:0 }\n";
    assert!(crate::load::from_yaml(yaml, "mesh.yaml").is_ok());
}

#[test]
fn listener_mistakes() {
    let tcp = "listeners: [ { name: db, address: 127.0.0.1:10001, protocol: tcp } ]";
    only_error(tcp, "listeners[0].cluster", "is required");
    let tcp_vhosts = format!(
        "listeners: [ {{ name: db, address: 127.0.0.1:10001, protocol: tcp, cluster: web, virtual_hosts: [ {{ name: a, domains: [\"*\"] }} ] }} ]\n{CLUSTER}"
    );
    only_error(
        &tcp_vhosts,
        "listeners[0].virtual_hosts",
        "applies to http listeners",
    );
    let http_cluster = format!("listeners: [ {{ name: a, address: 127.0.0.1:1, cluster: web }} ]\n{CLUSTER}");
    only_error(&http_cluster, "listeners[0].cluster", "applies to tcp listeners");
    let cases = [
        (
            "max_request_headers_kb: 4",
            "listeners[0].max_request_headers_kb",
            "outside 8..=8192",
        ),
        (
            "max_headers_count: 0",
            "listeners[0].max_headers_count",
            "at least 1",
        ),
        ("idle_timeout: 1d", "listeners[0].idle_timeout", "unknown unit"),
        (
            "http2_protocol_options: { initial_stream_window_size: 1000 }",
            "listeners[0].http2_protocol_options.initial_stream_window_size",
            "outside 65535",
        ),
        (
            "http2_protocol_options: { max_concurrent_streams: 0 }",
            "listeners[0].http2_protocol_options.max_concurrent_streams",
            "at least 1",
        ),
        (
            "trusted_cidrs: [ 127.0.0.0/8, 10.0.0.0/33 ]",
            "listeners[0].trusted_cidrs[1]",
            "not a CIDR range",
        ),
    ];
    only_error(
        "listeners: [ { name: a, address: 127.0.0.1 } ]",
        "listeners[0].address",
        "not a socket address",
    );
    for (extra, path, needle) in cases {
        let yaml = format!("listeners: [ {{ name: a, address: 127.0.0.1:1, {extra} }} ]");
        only_error(&yaml, path, needle);
    }
}

#[test]
fn tcp_listeners_take_an_idle_timeout_but_no_http_limits() {
    let tcp = |extra: &str| {
        format!(
            "listeners: [ {{ name: db, address: 127.0.0.1:10001, protocol: tcp, cluster: web{extra} }} ]\n{CLUSTER}"
        )
    };
    let idle = |extra: &str| match crate::load::from_yaml(&tcp(extra), "mesh.yaml")
        .unwrap()
        .listeners[0]
        .kind
    {
        crate::policy::ListenerKind::Tcp(ref t) => t.idle_timeout,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(idle(""), Some(std::time::Duration::from_secs(3600)));
    assert_eq!(
        idle(", idle_timeout: 5m"),
        Some(std::time::Duration::from_secs(300))
    );
    assert_eq!(idle(", idle_timeout: 0s"), None);
    for key in [
        "max_request_headers_kb: 60",
        "max_headers_count: 100",
        "request_headers_timeout: 60s",
        "http2_protocol_options: {}",
        "trusted_cidrs: [ 127.0.0.0/8 ]",
    ] {
        let name = key.split(':').next().unwrap();
        only_error(
            &tcp(&format!(", {key}")),
            &format!("listeners[0].{name}"),
            "http listeners only",
        );
    }
}

#[test]
fn cluster_and_admin_mistakes() {
    let cases = [
        (
            "{ name: c, endpoints: [ { address: \"10.0.0.1:99999\" } ] }",
            "clusters[0].endpoints[0].address",
            r#""10.0.0.1:99999" is not a socket address"#,
        ),
        (
            "{ name: c, endpoints: [ { address: \"1.2.3.4:1\", weight: 0 } ] }",
            "clusters[0].endpoints[0].weight",
            "at least 1",
        ),
        (
            "{ name: c, endpoints: [ {} ] }",
            "clusters[0].endpoints[0].address",
            "is required",
        ),
        (
            "{ name: c, connect_timeout: 0s }",
            "clusters[0].connect_timeout",
            "greater than 0s",
        ),
        (
            "{ name: c, lb_policy: fastest }",
            "clusters[0].lb_policy",
            "one of round_robin, random, least_request, ring_hash, maglev, peak_ewma",
        ),
        (
            "{ name: c, tls: { cert_file: client.pem } }",
            "clusters[0].tls.key_file",
            "required when cert_file",
        ),
        (
            "{ name: c, tls: { sni: \"a b\" } }",
            "clusters[0].tls.sni",
            "not a server name",
        ),
        ("{ endpoints: [] }", "clusters[0].name", "is required"),
    ];
    for (cluster, path, needle) in cases {
        only_error(&format!("clusters: [ {cluster} ]"), path, needle);
    }
    only_error(
        "admin: { address: localhost:9901 }",
        "admin.address",
        "not a socket address",
    );
    only_error("drain_timeout: soon", "drain_timeout", "not a duration");
}
