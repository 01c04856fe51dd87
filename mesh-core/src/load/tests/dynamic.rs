//! `dynamic_resources.ads` and EDS clusters: defaults, and the mistakes they can hold.

use super::*;
use crate::policy::{Discovery, EdsDiscovery};

#[test]
fn ads_defaults_its_initial_fetch_timeout_and_eds_names_the_cluster() {
    let cfg = valid(
        "dynamic_resources: { ads: { address: 127.0.0.1:18000 } }\nclusters:\n  - { name: api, discovery: { eds: {} } }\n  - { name: db, discovery: { eds: { service_name: db-v2 } } }\n",
    );
    let ads = &cfg.dynamic_resources.as_ref().unwrap().ads;
    assert_eq!(ads.address, "127.0.0.1:18000".parse().unwrap());
    assert_eq!(ads.initial_fetch_timeout, Duration::from_secs(15));
    let eds = |name: &str| {
        Discovery::Eds(EdsDiscovery {
            service_name: name.into(),
        })
    };
    assert_eq!(cfg.clusters[0].discovery, eds("api"));
    assert_eq!(cfg.clusters[1].discovery, eds("db-v2"));
}

#[test]
fn an_eds_cluster_needs_a_management_server() {
    only_error(
        "clusters:\n  - { name: api, discovery: { eds: {} } }\n",
        "clusters[0].discovery.eds",
        "needs dynamic_resources.ads",
    );
}

#[test]
fn ads_mistakes_name_their_keys() {
    only_error(
        "dynamic_resources: { ads: { address: nowhere } }\n",
        "dynamic_resources.ads.address",
        "not a socket address",
    );
    only_error(
        "dynamic_resources: { ads: { address: 127.0.0.1:1, initial_fetch_timeout: 0s } }\n",
        "dynamic_resources.ads.initial_fetch_timeout",
        "greater than 0s",
    );
    only_error("dynamic_resources: {}\n", "dynamic_resources.ads", "is required");
    only_error(
        "dynamic_resources: { ads: { address: 127.0.0.1:1 } }\nclusters:\n  - { name: api, discovery: { eds: {}, dns: { hostname: a.test, port: 80 } } }\n",
        "clusters[0].discovery",
        "exactly one source",
    );
}
