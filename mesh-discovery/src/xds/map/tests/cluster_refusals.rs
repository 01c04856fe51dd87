//! CDS `Cluster` fields mesh cannot express: each refusal names the cluster and the xDS field.

use super::cluster::{assignment, typed};
use super::{lb_endpoint, refused};
use crate::xds::api::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, DnsLookupFamily, EdsClusterConfig, LbPolicy,
};
use crate::xds::api::envoy::config::cluster::v3::{CircuitBreakers, Cluster, circuit_breakers};
use crate::xds::api::envoy::config::core::v3::{ConfigSource, HttpProtocolOptions, config_source};
use crate::xds::api::envoy::config::endpoint::v3::LocalityLbEndpoints;
use crate::xds::map::cluster;

#[test]
fn clusters_mesh_cannot_express_are_refused_with_the_field() {
    let two = assignment(vec![LocalityLbEndpoints {
        lb_endpoints: vec![lb_endpoint("a.example.com", 80), lb_endpoint("b.example.com", 80)],
        ..LocalityLbEndpoints::default()
    }]);
    let one = assignment(vec![LocalityLbEndpoints {
        lb_endpoints: vec![lb_endpoint("a.example.com", 80)],
        ..LocalityLbEndpoints::default()
    }]);
    let cases: Vec<(Cluster, &str)> = vec![
        (typed("c", DiscoveryType::LogicalDns), "type"),
        (typed("c", DiscoveryType::OriginalDst), "type"),
        (
            Cluster {
                cluster_discovery_type: Some(ClusterDiscoveryType::Type(99)),
                ..typed("c", DiscoveryType::Eds)
            },
            "type",
        ),
        (
            Cluster {
                lb_policy: LbPolicy::ClusterProvided as i32,
                ..typed("c", DiscoveryType::Eds)
            },
            "lb_policy",
        ),
        (
            Cluster {
                circuit_breakers: Some(CircuitBreakers {
                    per_host_thresholds: vec![circuit_breakers::Thresholds::default()],
                    ..CircuitBreakers::default()
                }),
                ..typed("c", DiscoveryType::Eds)
            },
            "circuit_breakers.per_host_thresholds",
        ),
        (
            Cluster {
                circuit_breakers: Some(CircuitBreakers {
                    thresholds: vec![circuit_breakers::Thresholds {
                        max_connection_pools: Some(2),
                        ..circuit_breakers::Thresholds::default()
                    }],
                    ..CircuitBreakers::default()
                }),
                ..typed("c", DiscoveryType::Eds)
            },
            "circuit_breakers.thresholds[0].max_connection_pools",
        ),
        (
            Cluster {
                load_assignment: one.clone(),
                ..typed("c", DiscoveryType::Eds)
            },
            "load_assignment",
        ),
        (
            Cluster {
                eds_cluster_config: Some(EdsClusterConfig {
                    eds_config: Some(ConfigSource {
                        config_source_specifier: Some(config_source::ConfigSourceSpecifier::Path(
                            "/x".to_owned(),
                        )),
                        ..ConfigSource::default()
                    }),
                    service_name: String::new(),
                }),
                ..typed("c", DiscoveryType::Eds)
            },
            "eds_cluster_config.eds_config.path",
        ),
        (
            Cluster {
                load_assignment: two,
                ..typed("c", DiscoveryType::StrictDns)
            },
            "load_assignment.endpoints",
        ),
        (
            Cluster {
                load_assignment: one,
                dns_lookup_family: DnsLookupFamily::V4Preferred as i32,
                ..typed("c", DiscoveryType::StrictDns)
            },
            "dns_lookup_family",
        ),
        (
            Cluster {
                common_http_protocol_options: Some(HttpProtocolOptions {
                    max_requests_per_connection: Some(1),
                    ..HttpProtocolOptions::default()
                }),
                ..typed("c", DiscoveryType::Eds)
            },
            "common_http_protocol_options.max_requests_per_connection",
        ),
        (
            Cluster {
                connect_timeout: Some(prost_types::Duration {
                    seconds: -1,
                    nanos: 0,
                }),
                ..typed("c", DiscoveryType::Eds)
            },
            "connect_timeout",
        ),
    ];
    for (c, field) in cases {
        refused(cluster(&c), "c", field);
    }
    refused(
        cluster(&typed("", DiscoveryType::Eds)),
        "<unnamed cluster>",
        "name",
    );
}
