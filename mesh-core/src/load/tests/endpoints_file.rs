//! Endpoints files (the target of `discovery.file.path`): the same endpoint rules as a
//! cluster's `endpoints`, unique addresses, and every mistake at once with its key path.

use super::files::Scratch;
use crate::load::{endpoints_file, endpoints_from_yaml};
use crate::policy::{EndpointSet, InvalidConfig};
use std::num::NonZeroU32;

const ORIGIN: &str = "api-endpoints.yaml";

fn set(yaml: &str) -> EndpointSet {
    endpoints_from_yaml(yaml, ORIGIN).unwrap_or_else(|e| panic!("{e}"))
}

fn invalid(yaml: &str) -> InvalidConfig {
    let err = endpoints_from_yaml(yaml, ORIGIN).unwrap_err();
    assert_eq!(err.origin, ORIGIN);
    assert!(!err.errors.is_empty());
    err
}

/// The single error of `yaml`, checked to sit at `path` and to mention `needle`.
#[track_caller]
fn only_error(yaml: &str, path: &str, needle: &str) {
    let err = invalid(yaml);
    assert_eq!(err.errors.len(), 1, "{err}");
    assert_eq!(err.errors[0].path, path, "{err}");
    assert!(
        err.errors[0].message.contains(needle),
        "{err} should mention {needle:?}"
    );
}

#[test]
fn a_valid_file_fills_the_endpoint_defaults() {
    let s = set(r#"
version: "42"
endpoints:
  - { address: 127.0.0.1:8081 }
  - { address: "10.0.0.2:80", weight: 2, priority: 1, zone: a, metadata: { rack: r7, canary: true } }
"#);
    assert_eq!(s.version.as_deref(), Some("42"));
    let [first, second] = &s.endpoints[..] else {
        panic!("two endpoints: {s:#?}")
    };
    assert_eq!(first.address, "127.0.0.1:8081".parse().unwrap());
    assert_eq!(
        (first.weight, first.priority, first.zone.as_deref()),
        (NonZeroU32::MIN, 0, None)
    );
    assert!(first.metadata.is_empty());
    assert_eq!(second.weight.get(), 2);
    assert_eq!((second.priority, second.zone.as_deref()), (1, Some("a")));
    assert_eq!(second.metadata["rack"], "r7");
    assert_eq!(second.metadata["canary"], true);
}

#[test]
fn json_is_yaml_too_and_the_version_is_optional() {
    let s = set(r#"{ "endpoints": [ { "address": "[::1]:9000", "weight": 3 } ] }"#);
    assert_eq!(s.version, None);
    assert_eq!(s.endpoints[0].address, "[::1]:9000".parse().unwrap());
    // Free text: an unquoted number is read as its text.
    assert_eq!(set("version: 42\nendpoints: []\n").version.as_deref(), Some("42"));
}

#[test]
fn an_empty_list_is_a_valid_empty_cluster() {
    assert_eq!(set("endpoints: []\n"), EndpointSet::default());
}

#[test]
fn an_empty_or_listless_file_is_refused_rather_than_emptying_the_cluster() {
    let err = invalid("  \n");
    assert!(err.errors[0].message.contains("endpoints: []"), "{err}");
    only_error("version: \"7\"\n", "endpoints", "is required");
}

#[test]
fn a_bad_address_names_the_file_and_the_key_path() {
    let err = invalid("endpoints:\n  - { address: 127.0.0.1:8081 }\n  - { address: \"10.0.0.1:99999\" }\n");
    assert_eq!(err.errors.len(), 1, "{err}");
    assert_eq!(err.errors[0].path, "endpoints[1].address");
    let text = err.to_string();
    assert!(
        text.contains("api-endpoints.yaml: endpoints[1].address: \"10.0.0.1:99999\" is not a socket address"),
        "{text}"
    );
}

#[test]
fn the_per_endpoint_rules_are_the_clusters() {
    only_error(
        "endpoints: [ { weight: 2 } ]",
        "endpoints[0].address",
        "is required",
    );
    only_error(
        "endpoints: [ { address: \"1.2.3.4:5\", weight: 0 } ]",
        "endpoints[0].weight",
        "at least 1",
    );
    only_error(
        "endpoints: [ { address: api.internal:80 } ]",
        "endpoints[0].address",
        "not a socket address",
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_position() {
    for yaml in [
        "endpoints: [ { adress: \"1.2.3.4:5\" } ]\n",
        "verison: \"1\"\nendpoints: []\n",
    ] {
        let err = invalid(yaml);
        assert_eq!(err.errors.len(), 1, "{err}");
        let m = &err.errors[0].message;
        assert!(
            err.errors[0].path.is_empty() && m.contains("unknown field") && m.contains("line"),
            "{m}"
        );
    }
}

#[test]
fn duplicate_addresses_are_an_error_at_each_repeat() {
    let err = invalid(
        "endpoints:\n  - { address: \"1.2.3.4:5\" }\n  - { address: \"1.2.3.4:6\" }\n  - { address: \"1.2.3.4:5\", weight: 2 }\n  - { address: \"1.2.3.4:5\" }\n",
    );
    let got: Vec<_> = err
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("endpoints[2].address", "1.2.3.4:5 is also endpoints[0]'s address"),
            ("endpoints[3].address", "1.2.3.4:5 is also endpoints[0]'s address"),
        ]
    );
}

#[test]
fn every_mistake_is_reported_at_once() {
    let err =
        invalid("endpoints:\n  - { address: nowhere }\n  - { address: \"1.2.3.4:5\", weight: 0 }\n  - { }\n");
    let paths: Vec<_> = err.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "endpoints[0].address",
            "endpoints[1].weight",
            "endpoints[2].address"
        ],
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("api-endpoints.yaml: invalid configuration (3 errors)")
    );
}

#[test]
fn endpoints_file_reads_from_disk_and_names_the_file() {
    let dir = Scratch::new("endpoints-file");
    let good = dir.file(
        "good.yaml",
        "version: v1\nendpoints: [ { address: \"127.0.0.1:8081\" } ]\n",
    );
    let s = endpoints_file(&good).unwrap();
    assert_eq!((s.version.as_deref(), s.endpoints.len()), (Some("v1"), 1));

    let bad = dir.file("bad.yaml", "endpoints: [ { address: nowhere } ]\n");
    let err = endpoints_file(&bad).unwrap_err();
    assert_eq!(err.origin, bad);
    assert!(
        err.to_string().contains(&format!("{bad}: endpoints[0].address")),
        "{err}"
    );

    let err = endpoints_file("/nonexistent/api-endpoints.yaml").unwrap_err();
    assert_eq!(err.origin, "/nonexistent/api-endpoints.yaml");
    assert!(err.errors[0].message.starts_with("cannot read file"), "{err}");
}
