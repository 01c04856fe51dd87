//! CDS `Cluster` → `config::Cluster`.

use super::{ads, assert_shape, lb_endpoint, millis, plain_cluster, validate};
use crate::xds::api::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, DnsLookupFamily, EdsClusterConfig, LbPolicy,
};
use crate::xds::api::envoy::config::cluster::v3::{
    CircuitBreakers, Cluster, OutlierDetection, circuit_breakers,
};
use crate::xds::api::envoy::config::core::v3::{
    AggregatedConfigSource, ConfigSource, HealthStatus, HttpProtocolOptions, Locality, RoutingPriority,
    config_source,
};
use crate::xds::api::envoy::config::endpoint::v3::{ClusterLoadAssignment, LocalityLbEndpoints};
use crate::xds::map::cluster;
use mesh_core::{config, policy};
use std::time::Duration;

pub(super) fn typed(name: &str, t: DiscoveryType) -> Cluster {
    Cluster {
        name: name.to_owned(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(t as i32)),
        ..Cluster::default()
    }
}

pub(super) fn assignment(endpoints: Vec<LocalityLbEndpoints>) -> Option<ClusterLoadAssignment> {
    Some(ClusterLoadAssignment {
        cluster_name: "ignored".to_owned(),
        endpoints,
        policy: None,
    })
}

fn only_cluster(c: config::Cluster) -> policy::Cluster {
    let b = config::Bootstrap {
        clusters: vec![c],
        dynamic_resources: ads(),
        ..config::Bootstrap::default()
    };
    let mut p = validate(&b);
    p.clusters.remove(0)
}

fn eds_backend() -> Cluster {
    Cluster {
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..ConfigSource::default()
            }),
            service_name: "backend-v2".to_owned(),
        }),
        connect_timeout: Some(millis(250)),
        lb_policy: LbPolicy::LeastRequest as i32,
        circuit_breakers: Some(CircuitBreakers {
            thresholds: vec![
                circuit_breakers::Thresholds {
                    priority: RoutingPriority::Default as i32,
                    max_connections: Some(10),
                    max_pending_requests: Some(20),
                    max_requests: Some(30),
                    max_retries: Some(4),
                    track_remaining: true,
                    max_connection_pools: None,
                },
                circuit_breakers::Thresholds {
                    priority: RoutingPriority::High as i32,
                    max_requests: Some(100),
                    ..circuit_breakers::Thresholds::default()
                },
            ],
            per_host_thresholds: vec![],
        }),
        outlier_detection: Some(OutlierDetection {
            consecutive_5xx: Some(7),
            interval: Some(millis(2000)),
            base_ejection_time: Some(millis(30_000)),
            max_ejection_percent: Some(50),
            enforcing_consecutive_local_origin_failure: Some(60),
            ..OutlierDetection::default()
        }),
        common_http_protocol_options: Some(HttpProtocolOptions {
            idle_timeout: Some(millis(90_000)),
            ..HttpProtocolOptions::default()
        }),
        ..typed("backend", DiscoveryType::Eds)
    }
}

#[test]
fn eds_cluster_maps_discovery_lb_timeouts_breakers_and_outlier_detection() {
    let mapped = cluster(&eds_backend()).map_err(|e| e.to_string());
    let expected = config::Cluster {
        name: Some("backend".to_owned()),
        connect_timeout: Some("250ms".to_owned()),
        lb_policy: Some("least_request".to_owned()),
        idle_timeout: Some("1m30s".to_owned()),
        discovery: Some(config::Discovery {
            eds: Some(config::EdsDiscovery {
                service_name: Some("backend-v2".to_owned()),
            }),
            ..config::Discovery::default()
        }),
        circuit_breakers: Some(config::CircuitBreakers {
            thresholds: vec![
                config::Thresholds {
                    priority: Some(config::RoutingPriority::Default),
                    max_connections: Some(10),
                    max_pending_requests: Some(20),
                    max_requests: Some(30),
                    max_retries: Some(4),
                    retry_budget: None,
                },
                config::Thresholds {
                    priority: Some(config::RoutingPriority::High),
                    max_requests: Some(100),
                    ..config::Thresholds::default()
                },
            ],
        }),
        outlier_detection: Some(config::OutlierDetection {
            consecutive_5xx: Some(7),
            interval: Some("2s".to_owned()),
            base_ejection_time: Some("30s".to_owned()),
            max_ejection_percent: Some(50),
            enforcing_consecutive_local_origin_failure: Some(60),
            split_external_local_origin_errors: Some(false),
            ..config::OutlierDetection::default()
        }),
        ..config::Cluster::default()
    };
    assert_shape(&mapped, &Ok(expected.clone()));

    let p = only_cluster(expected);
    assert_eq!(
        p.discovery,
        policy::Discovery::Eds(policy::EdsDiscovery {
            service_name: "backend-v2".to_owned()
        })
    );
    assert_eq!(p.connect_timeout, Duration::from_millis(250));
    assert!(
        matches!(p.lb_policy, policy::LbPolicy::LeastRequest { .. }),
        "{:?}",
        p.lb_policy
    );
    assert_eq!(p.idle_timeout, Some(Duration::from_secs(90)));
    let cb = &p.circuit_breakers;
    let limits = (
        cb.default.max_connections,
        cb.default.max_pending_requests,
        cb.default.max_requests,
    );
    assert_eq!(
        (limits, cb.default.max_retries, cb.high.max_requests),
        ((10, 20, 30), 4, 100)
    );
    let od = p
        .outlier_detection
        .as_ref()
        .map(|o| (o.consecutive_5xx, o.interval, o.base_ejection_time));
    assert_eq!(od, Some((7, Duration::from_secs(2), Duration::from_secs(30))));
}

#[test]
fn eds_service_name_defaults_to_the_cluster_name() {
    let c = cluster(&typed("payments", DiscoveryType::Eds)).map(|c| only_cluster(c).discovery);
    let expected = policy::Discovery::Eds(policy::EdsDiscovery {
        service_name: "payments".to_owned(),
    });
    assert_eq!(c, Ok(expected));
}

#[test]
fn every_supported_lb_policy_reaches_the_validated_cluster() {
    let cases = [
        (LbPolicy::RoundRobin, "round_robin"),
        (LbPolicy::LeastRequest, "least_request"),
        (LbPolicy::Random, "random"),
        (LbPolicy::RingHash, "ring_hash"),
        (LbPolicy::Maglev, "maglev"),
    ];
    for (envoy, mesh) in cases {
        let c = Cluster {
            lb_policy: envoy as i32,
            ..typed("c", DiscoveryType::Eds)
        };
        let mapped = cluster(&c).map(|c| (c.lb_policy.clone(), only_cluster(c).lb_policy));
        let Ok((name, validated)) = mapped else {
            panic!("{envoy:?} refused: {mapped:?}");
        };
        assert_eq!(name.as_deref(), Some(mesh));
        let ok = match envoy {
            LbPolicy::RoundRobin => matches!(validated, policy::LbPolicy::RoundRobin),
            LbPolicy::LeastRequest => matches!(validated, policy::LbPolicy::LeastRequest { .. }),
            LbPolicy::Random => matches!(validated, policy::LbPolicy::Random),
            LbPolicy::RingHash => matches!(validated, policy::LbPolicy::RingHash { .. }),
            _ => matches!(validated, policy::LbPolicy::Maglev { .. }),
        };
        assert!(ok, "{envoy:?} became {validated:?}");
    }
}

#[test]
fn static_cluster_takes_its_routable_load_assignment_endpoints() {
    let mut weighted = lb_endpoint("127.0.0.2", 9000);
    weighted.load_balancing_weight = Some(3);
    let mut draining = lb_endpoint("127.0.0.3", 9000);
    draining.health_status = HealthStatus::Draining as i32;
    let c = Cluster {
        load_assignment: assignment(vec![LocalityLbEndpoints {
            locality: Some(Locality {
                zone: "zone-a".to_owned(),
                ..Locality::default()
            }),
            lb_endpoints: vec![lb_endpoint("127.0.0.1", 9000), weighted, draining],
            priority: 1,
            ..LocalityLbEndpoints::default()
        }]),
        ..typed("static", DiscoveryType::Static)
    };
    let mapped = cluster(&c).map(|c| only_cluster(c).endpoints);
    let Ok(endpoints) = mapped else {
        panic!("refused: {mapped:?}");
    };
    let got: Vec<_> = endpoints
        .iter()
        .map(|e| {
            (
                e.address.to_string(),
                e.weight.get(),
                e.priority,
                e.zone.as_deref(),
            )
        })
        .collect();
    let want = vec![
        ("127.0.0.1:9000".to_owned(), 1, 1, Some("zone-a")),
        ("127.0.0.2:9000".to_owned(), 3, 1, Some("zone-a")),
    ];
    assert_eq!(got, want);
}

#[test]
fn strict_dns_cluster_maps_hostname_port_and_dns_knobs() {
    let c = Cluster {
        load_assignment: assignment(vec![LocalityLbEndpoints {
            lb_endpoints: vec![lb_endpoint("backend.example.com", 8080)],
            ..LocalityLbEndpoints::default()
        }]),
        dns_refresh_rate: Some(millis(10_000)),
        respect_dns_ttl: true,
        dns_lookup_family: DnsLookupFamily::V4Only as i32,
        ..typed("dns", DiscoveryType::StrictDns)
    };
    let mapped = cluster(&c);
    let expected = config::Discovery {
        dns: Some(config::DnsDiscovery {
            hostname: Some("backend.example.com".to_owned()),
            port: Some(8080),
            lookup_family: Some("v4_only".to_owned()),
            respect_dns_ttl: Some(true),
            refresh_rate: Some("10s".to_owned()),
            ..config::DnsDiscovery::default()
        }),
        ..config::Discovery::default()
    };
    assert_shape(&mapped.as_ref().map(|c| c.discovery.clone()), &Ok(Some(expected)));
    let Ok(policy::Discovery::Dns(dns)) = mapped.map(|c| only_cluster(c).discovery) else {
        panic!("not a DNS cluster");
    };
    let got = (
        dns.hostname.as_str(),
        dns.port,
        dns.lookup_family,
        dns.respect_dns_ttl,
        dns.refresh_rate,
    );
    let want = (
        "backend.example.com",
        8080,
        policy::DnsLookupFamily::V4Only,
        true,
        Duration::from_secs(10),
    );
    assert_eq!(got, want);
}

#[test]
fn strict_dns_with_envoys_defaults_keeps_envoys_meaning() {
    let c = Cluster {
        load_assignment: assignment(vec![LocalityLbEndpoints {
            lb_endpoints: vec![lb_endpoint("backend.example.com", 80)],
            ..LocalityLbEndpoints::default()
        }]),
        ..typed("dns", DiscoveryType::StrictDns)
    };
    let Ok(policy::Discovery::Dns(dns)) = cluster(&c).map(|c| only_cluster(c).discovery) else {
        panic!("not a DNS cluster");
    };
    // Envoy's defaults: AUTO lookups, TTLs not respected, 5s refresh.
    let got = (dns.lookup_family, dns.respect_dns_ttl, dns.refresh_rate);
    assert_eq!(
        got,
        (policy::DnsLookupFamily::Auto, false, Duration::from_secs(5))
    );
}

#[test]
fn a_mapped_cluster_serves_routes_beside_static_ones() {
    // The xDS client merges mapped clusters into a Bootstrap with the file's own.
    let mapped = cluster(&eds_backend()).map_err(|e| e.to_string());
    let b = config::Bootstrap {
        clusters: mapped.into_iter().chain([plain_cluster("local")]).collect(),
        dynamic_resources: ads(),
        ..config::Bootstrap::default()
    };
    let names: Vec<_> = validate(&b).clusters.into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["backend", "local"]);
}
