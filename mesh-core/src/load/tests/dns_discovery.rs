//! A cluster's `discovery.dns`: its defaults, the knobs as written, and the mistakes it can hold.

use super::*;
use crate::policy::{Discovery, DnsBackoff, DnsDiscovery, DnsLookupFamily};

fn cluster(dns: &str) -> String {
    format!("clusters:\n  - name: api\n    discovery:\n      dns: {dns}\n")
}

fn dns_of(yaml: &str) -> DnsDiscovery {
    let cfg = valid(yaml);
    match &cfg.clusters[0].discovery {
        Discovery::Dns(dns) => dns.clone(),
        other => panic!("dns discovery: {other:#?}"),
    }
}

#[test]
fn dns_discovery_defaults_follow_envoy_except_ttl_and_family() {
    let dns = dns_of(&cluster("{ hostname: backend.mesh.test, port: 8080 }"));
    assert_eq!(
        dns,
        DnsDiscovery {
            hostname: "backend.mesh.test".into(),
            port: 8080,
            lookup_family: DnsLookupFamily::All,
            respect_dns_ttl: true,
            refresh_rate: Duration::from_secs(5),
            failure_refresh_rate: DnsBackoff {
                base_interval: Duration::from_secs(1),
                max_interval: Duration::from_secs(10),
            },
            resolvers: vec![],
        }
    );
}

#[test]
fn dns_discovery_takes_every_knob_as_written() {
    let dns = dns_of(&cluster(
        "{ hostname: backend.mesh.test., port: 9, lookup_family: v6_only, respect_dns_ttl: false,\n          \
         refresh_rate: 30s, failure_refresh_rate: { base_interval: 250ms },\n          \
         resolvers: [\"127.0.0.1:5353\", \"[::1]:53\"] }",
    ));
    assert_eq!(
        dns.hostname, "backend.mesh.test.",
        "a final dot (absolute name) is kept"
    );
    assert_eq!(dns.port, 9);
    assert_eq!(dns.lookup_family, DnsLookupFamily::V6Only);
    assert!(!dns.respect_dns_ttl);
    assert_eq!(dns.refresh_rate, Duration::from_secs(30));
    assert_eq!(
        dns.failure_refresh_rate,
        DnsBackoff {
            base_interval: Duration::from_millis(250),
            max_interval: Duration::from_millis(2500),
        },
        "max_interval defaults to ten times the base, as in Envoy"
    );
    assert_eq!(
        dns.resolvers,
        ["127.0.0.1:5353".parse().unwrap(), "[::1]:53".parse().unwrap()]
    );
    for (family, want) in [
        ("all", DnsLookupFamily::All),
        ("v4_only", DnsLookupFamily::V4Only),
        ("auto", DnsLookupFamily::Auto),
    ] {
        let dns = dns_of(&cluster(&format!(
            "{{ hostname: a.test, port: 1, lookup_family: {family} }}"
        )));
        assert_eq!(dns.lookup_family, want);
    }
}

#[test]
fn config_dump_shows_the_dns_source_with_its_defaults() {
    let cfg = valid(&cluster("{ hostname: backend.mesh.test, port: 8080 }"));
    let dumped = serde_json::to_value(&cfg.clusters[0]).unwrap();
    assert_eq!(
        dumped["discovery"],
        serde_json::json!({ "dns": {
            "hostname": "backend.mesh.test", "port": 8080, "lookup_family": "all",
            "respect_dns_ttl": true, "refresh_rate": "5s",
            "failure_refresh_rate": { "base_interval": "1s", "max_interval": "10s" },
            "resolvers": [],
        } })
    );
}

#[test]
fn dns_mistakes_name_their_keys() {
    let at = "clusters[0].discovery.dns";
    let cases = [
        ("{ port: 80 }", "hostname", "is required"),
        ("{ hostname: a.test }", "port", "is required"),
        ("{ hostname: a.test, port: 0 }", "port", "not a port"),
        ("{ hostname: a.test, port: 65536 }", "port", "not a port"),
        (
            "{ hostname: \"a.test:80\", port: 80 }",
            "hostname",
            "must not include a port",
        ),
        ("{ hostname: 10.0.0.1, port: 80 }", "hostname", "is an IP address"),
        ("{ hostname: \"::1\", port: 80 }", "hostname", "is an IP address"),
        ("{ hostname: \"\", port: 80 }", "hostname", "is empty"),
        (
            "{ hostname: \"a..test\", port: 80 }",
            "hostname",
            "is not a DNS name",
        ),
        (
            "{ hostname: \"-a.test\", port: 80 }",
            "hostname",
            "is not a DNS name",
        ),
        (
            "{ hostname: \"a b.test\", port: 80 }",
            "hostname",
            "is not a DNS name",
        ),
        (
            "{ hostname: a.test, port: 80, lookup_family: v4 }",
            "lookup_family",
            "not a lookup family",
        ),
        (
            "{ hostname: a.test, port: 80, refresh_rate: 0s }",
            "refresh_rate",
            "greater than 0s",
        ),
        (
            "{ hostname: a.test, port: 80, refresh_rate: 5 }",
            "refresh_rate",
            "has no unit",
        ),
        (
            "{ hostname: a.test, port: 80, failure_refresh_rate: { base_interval: 0s } }",
            "failure_refresh_rate.base_interval",
            "greater than 0s",
        ),
        (
            "{ hostname: a.test, port: 80, failure_refresh_rate: { base_interval: 2s, max_interval: 1s } }",
            "failure_refresh_rate.max_interval",
            "below base_interval",
        ),
        (
            "{ hostname: a.test, port: 80, resolvers: [] }",
            "resolvers",
            "is empty",
        ),
        (
            "{ hostname: a.test, port: 80, resolvers: [\"127.0.0.1\"] }",
            "resolvers[0]",
            "not a socket address",
        ),
    ];
    for (dns, key, needle) in cases {
        only_error(&cluster(dns), &format!("{at}.{key}"), needle);
    }
    let long = format!("{}.test", "a".repeat(64));
    only_error(
        &cluster(&format!("{{ hostname: {long}, port: 80 }}")),
        &format!("{at}.hostname"),
        "is not a DNS name",
    );
}

#[test]
fn every_dns_mistake_is_reported_at_once() {
    let errs = errors(&cluster(
        "{ hostname: \"10.0.0.1\", port: 0, lookup_family: both, resolvers: [\"127.0.0.1:53\", nowhere] }",
    ));
    let paths: Vec<_> = errs.iter().map(|(p, _)| p.as_str()).collect();
    let at = "clusters[0].discovery.dns";
    assert_eq!(
        paths,
        [
            format!("{at}.hostname"),
            format!("{at}.port"),
            format!("{at}.lookup_family"),
            format!("{at}.resolvers[1]"),
        ],
        "{errs:#?}"
    );
}

#[test]
fn dns_is_one_source_among_four() {
    only_error(
        "clusters:\n  - name: api\n    discovery:\n      file: { path: a.yaml }\n      \
         dns: { hostname: a.test, port: 80 }\n",
        "clusters[0].discovery",
        "exactly one source: file, registry, dns or eds",
    );
    only_error(
        "clusters:\n  - name: api\n    endpoints: [ { address: \"127.0.0.1:1\" } ]\n    discovery:\n      \
         dns: { hostname: a.test, port: 80 }\n",
        "clusters[0].endpoints",
        "must not be listed when discovery is set",
    );
    let err = from_yaml(&cluster("{ hostname: a.test, port: 80, ttl: 5s }"), "mesh.yaml").unwrap_err();
    assert!(err.errors[0].message.contains("unknown field `ttl`"), "{err}");
}
