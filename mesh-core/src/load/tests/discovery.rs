//! A cluster's `discovery` key: the file source's defaults, and the mistakes it can hold.

use super::*;
use crate::policy::{Discovery, FileDiscovery};
use std::path::PathBuf;

fn cluster(extra: &str) -> String {
    format!("clusters:\n  - name: api\n{extra}")
}

#[test]
fn a_cluster_without_discovery_is_static() {
    let cfg = valid(EXAMPLE);
    assert!(cfg.clusters.iter().all(|c| c.discovery == Discovery::Static));
}

#[test]
fn file_discovery_defaults_its_interval_and_keeps_the_path_as_written() {
    let cfg = valid(&cluster(
        "    discovery:\n      file: { path: api-endpoints.yaml }\n",
    ));
    let api = &cfg.clusters[0];
    assert!(api.endpoints.is_empty());
    assert_eq!(
        api.discovery,
        Discovery::File(FileDiscovery {
            path: PathBuf::from("api-endpoints.yaml"),
            refresh_interval: Duration::from_secs(1),
        })
    );

    let cfg = valid(&cluster(
        "    discovery: { file: { path: eds/api.yaml, refresh_interval: 250ms } }\n",
    ));
    let Discovery::File(file) = &cfg.clusters[0].discovery else {
        panic!("file discovery: {:#?}", cfg.clusters[0])
    };
    assert_eq!(file.path, PathBuf::from("eds/api.yaml"));
    assert_eq!(file.refresh_interval, Duration::from_millis(250));
}

#[test]
fn validating_the_config_does_not_read_the_endpoints_file() {
    let cfg = valid(&cluster(
        "    discovery: { file: { path: /nonexistent/dir/api.yaml } }\n",
    ));
    assert!(matches!(cfg.clusters[0].discovery, Discovery::File(_)));
}

#[test]
fn config_dump_shows_the_source_and_its_interval() {
    let cfg = valid(&cluster("    discovery: { file: { path: api.yaml } }\n"));
    let dumped = serde_json::to_value(&cfg.clusters[0]).unwrap();
    assert_eq!(
        dumped["discovery"],
        serde_json::json!({ "file": { "path": "api.yaml", "refresh_interval": "1s" } })
    );
    let cfg = valid(EXAMPLE);
    let dumped = serde_json::to_value(&cfg.clusters[0]).unwrap();
    assert_eq!(dumped["discovery"], "static");
}

#[test]
fn discovery_and_endpoints_together_is_an_error_at_endpoints() {
    only_error(
        &cluster(
            "    endpoints: [ { address: \"127.0.0.1:1\" } ]\n    discovery: { file: { path: api.yaml } }\n",
        ),
        "clusters[0].endpoints",
        "must not be listed when discovery is set",
    );
    // An explicitly empty list names no endpoints, so it does not conflict.
    valid(&cluster(
        "    endpoints: []\n    discovery: { file: { path: api.yaml } }\n",
    ));
}

#[test]
fn discovery_mistakes_name_their_keys() {
    let file = "clusters[0].discovery.file";
    only_error(
        &cluster("    discovery: { file: { path: api.yaml, refresh_interval: 0s } }\n"),
        &format!("{file}.refresh_interval"),
        "must be greater than 0s",
    );
    only_error(
        &cluster("    discovery: { file: { path: api.yaml, refresh_interval: 5 } }\n"),
        &format!("{file}.refresh_interval"),
        "has no unit",
    );
    only_error(
        &cluster("    discovery: { file: { refresh_interval: 1s } }\n"),
        &format!("{file}.path"),
        "is required",
    );
    only_error(
        &cluster("    discovery: { file: { path: \"\" } }\n"),
        &format!("{file}.path"),
        "is empty",
    );
    only_error(
        &cluster("    discovery: {}\n"),
        "clusters[0].discovery",
        "exactly one source",
    );
}

#[test]
fn every_discovery_mistake_is_reported_at_once() {
    let errs = errors(&cluster(
        "    endpoints: [ { address: nowhere } ]\n    discovery: { file: { refresh_interval: 0s } }\n",
    ));
    let paths: Vec<_> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "clusters[0].endpoints[0].address",
            "clusters[0].endpoints",
            "clusters[0].discovery.file.path",
            "clusters[0].discovery.file.refresh_interval",
        ],
        "{errs:#?}"
    );
}

#[test]
fn an_unknown_source_is_a_syntax_error_naming_the_known_ones() {
    let err = from_yaml(
        &cluster("    discovery: { dsn: { name: api.internal } }\n"),
        "mesh.yaml",
    )
    .unwrap_err();
    assert_eq!(err.errors.len(), 1);
    let m = &err.errors[0].message;
    assert!(m.contains("unknown field `dsn`") && m.contains("file"), "{m}");
}

#[test]
fn registry_discovery_names_an_address_and_a_service() {
    let cfg = valid(&cluster(
        "    discovery: { registry: { address: 127.0.0.1:8500, service: payments } }\n",
    ));
    assert_eq!(
        cfg.clusters[0].discovery,
        Discovery::Registry(crate::policy::RegistryDiscovery {
            address: "127.0.0.1:8500".parse().unwrap(),
            service: "payments".into(),
        })
    );
    let at = "clusters[0].discovery.registry";
    only_error(
        &cluster("    discovery: { registry: { address: registry.local, service: payments } }\n"),
        &format!("{at}.address"),
        "not a socket address",
    );
    only_error(
        &cluster("    discovery: { registry: { address: 127.0.0.1:8500 } }\n"),
        &format!("{at}.service"),
        "required",
    );
    only_error(
        &cluster(
            "    discovery: { file: { path: a.yaml }, registry: { address: 127.0.0.1:8500, service: s } }\n",
        ),
        "clusters[0].discovery",
        "exactly one source",
    );
}
