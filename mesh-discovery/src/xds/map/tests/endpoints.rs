//! EDS `ClusterLoadAssignment` → `EndpointSet`.

use super::{lb_endpoint, millis, refused, socket};
use crate::xds::api::envoy::config::core::v3::{Address, HealthStatus, Locality, Metadata, Pipe, address};
use crate::xds::api::envoy::config::endpoint::v3::lb_endpoint::HostIdentifier;
use crate::xds::api::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, LbEndpoint, LocalityLbEndpoints, cluster_load_assignment,
};
use crate::xds::map::load_assignment;
use mesh_core::policy::{Endpoint, EndpointSet};
use std::collections::BTreeMap;
use std::num::NonZeroU32;

fn cla(localities: Vec<LocalityLbEndpoints>) -> ClusterLoadAssignment {
    ClusterLoadAssignment {
        cluster_name: "backend".to_owned(),
        endpoints: localities,
        policy: None,
    }
}

fn locality(zone: &str, priority: u32, lb_endpoints: Vec<LbEndpoint>) -> LocalityLbEndpoints {
    LocalityLbEndpoints {
        locality: Some(Locality {
            region: "us-east-1".to_owned(),
            zone: zone.to_owned(),
            sub_zone: String::new(),
        }),
        lb_endpoints,
        priority,
        ..LocalityLbEndpoints::default()
    }
}

fn weighted(ip: &str, port: u32, weight: u32) -> LbEndpoint {
    LbEndpoint {
        load_balancing_weight: Some(weight),
        ..lb_endpoint(ip, port)
    }
}

fn with_status(status: HealthStatus, ip: &str) -> LbEndpoint {
    LbEndpoint {
        health_status: status as i32,
        ..lb_endpoint(ip, 80)
    }
}

fn endpoint(address: &str, weight: u32, priority: u32, zone: &str) -> Endpoint {
    Endpoint {
        address: address.parse().unwrap_or_else(|e| panic!("{address}: {e}")),
        weight: NonZeroU32::new(weight).unwrap_or(NonZeroU32::MIN),
        priority,
        zone: Some(zone.to_owned()),
        metadata: BTreeMap::new(),
    }
}

#[test]
fn localities_weights_and_priorities_become_the_endpoint_set() {
    let cla = cla(vec![
        locality(
            "zone-a",
            0,
            vec![weighted("10.0.0.1", 8080, 3), lb_endpoint("10.0.0.2", 8080)],
        ),
        locality("zone-b", 1, vec![lb_endpoint("::1", 8080)]),
    ]);
    let expected = EndpointSet {
        version: Some("v7".to_owned()),
        endpoints: vec![
            endpoint("10.0.0.1:8080", 3, 0, "zone-a"),
            endpoint("10.0.0.2:8080", 1, 0, "zone-a"),
            endpoint("[::1]:8080", 1, 1, "zone-b"),
        ],
    };
    assert_eq!(load_assignment(&cla, "v7"), Ok(expected));
}

#[test]
fn endpoints_envoy_would_not_route_to_are_dropped() {
    let cla = cla(vec![locality(
        "z",
        0,
        vec![
            with_status(HealthStatus::Healthy, "10.0.0.1"),
            with_status(HealthStatus::Unhealthy, "10.0.0.2"),
            with_status(HealthStatus::Draining, "10.0.0.3"),
            with_status(HealthStatus::Timeout, "10.0.0.4"),
            with_status(HealthStatus::Unknown, "10.0.0.5"),
            with_status(HealthStatus::Degraded, "10.0.0.6"),
        ],
    )]);
    let set = load_assignment(&cla, "1").map(|s| {
        s.endpoints
            .iter()
            .map(|e| e.address.to_string())
            .collect::<Vec<_>>()
    });
    assert_eq!(
        set,
        Ok(vec![
            "10.0.0.1:80".to_owned(),
            "10.0.0.5:80".to_owned(),
            "10.0.0.6:80".to_owned()
        ])
    );
}

#[test]
fn an_empty_assignment_empties_the_cluster() {
    assert_eq!(
        load_assignment(&cla(vec![]), "2"),
        Ok(EndpointSet {
            version: Some("2".to_owned()),
            endpoints: vec![]
        })
    );
}

#[test]
fn filter_metadata_is_carried_to_the_endpoint() {
    let mut lb = lb_endpoint("10.0.0.1", 80);
    let fields = [("canary".to_owned(), prost_types::Value::from(true))]
        .into_iter()
        .collect();
    lb.metadata = Some(Metadata {
        filter_metadata: [("envoy.lb".to_owned(), prost_types::Struct { fields })]
            .into_iter()
            .collect(),
        ..Metadata::default()
    });
    let set = load_assignment(&cla(vec![locality("z", 0, vec![lb])]), "1");
    let metadata = set.map(|s| {
        s.endpoints
            .first()
            .map(|e| serde_json::to_value(&e.metadata).ok())
    });
    assert_eq!(
        metadata,
        Ok(Some(Some(serde_json::json!({ "envoy.lb": { "canary": true } }))))
    );
}

#[test]
fn mesh_core_validation_refuses_duplicates_and_zero_weights_at_the_xds_path() {
    let duplicate = cla(vec![
        locality("a", 0, vec![lb_endpoint("10.0.0.1", 80)]),
        locality("b", 0, vec![lb_endpoint("10.0.0.1", 80)]),
    ]);
    let reason = refused(
        load_assignment(&duplicate, "1"),
        "backend",
        "endpoints[1].lb_endpoints[0].endpoint.address",
    );
    assert!(reason.contains("also endpoints[0]"), "{reason}");

    let zero = cla(vec![locality(
        "a",
        0,
        vec![lb_endpoint("10.0.0.1", 80), weighted("10.0.0.2", 80, 0)],
    )]);
    refused(
        load_assignment(&zero, "1"),
        "backend",
        "endpoints[0].lb_endpoints[1].load_balancing_weight",
    );

    let hostname = cla(vec![locality(
        "a",
        0,
        vec![lb_endpoint("backend.example.com", 80)],
    )]);
    refused(
        load_assignment(&hostname, "1"),
        "backend",
        "endpoints[0].lb_endpoints[0].endpoint.address",
    );
}

#[test]
fn endpoints_mesh_cannot_address_are_refused() {
    let named = LbEndpoint {
        host_identifier: Some(HostIdentifier::EndpointName("e1".to_owned())),
        ..LbEndpoint::default()
    };
    let field = "endpoints[0].lb_endpoints[0].endpoint";
    refused(
        load_assignment(&cla(vec![locality("a", 0, vec![named])]), "1"),
        "backend",
        field,
    );

    let mut pipe = lb_endpoint("10.0.0.1", 80);
    if let Some(HostIdentifier::Endpoint(e)) = &mut pipe.host_identifier {
        e.address = Some(Address {
            address: Some(address::Address::Pipe(Pipe::default())),
        });
    }
    let field = "endpoints[0].lb_endpoints[0].endpoint.address.pipe";
    refused(
        load_assignment(&cla(vec![locality("a", 0, vec![pipe])]), "1"),
        "backend",
        field,
    );

    let mut no_port = lb_endpoint("10.0.0.1", 80);
    if let Some(HostIdentifier::Endpoint(e)) = &mut no_port.host_identifier {
        e.address = Some(socket("10.0.0.1", 80));
        if let Some(address::Address::SocketAddress(s)) = e.address.as_mut().and_then(|a| a.address.as_mut())
        {
            s.port_specifier = None;
        }
    }
    let field = "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value";
    refused(
        load_assignment(&cla(vec![locality("a", 0, vec![no_port])]), "1"),
        "backend",
        field,
    );

    let mut stale = cla(vec![]);
    stale.policy = Some(cluster_load_assignment::Policy {
        overprovisioning_factor: None,
        endpoint_stale_after: Some(millis(1000)),
    });
    refused(
        load_assignment(&stale, "1"),
        "backend",
        "policy.endpoint_stale_after",
    );
    stale.policy = Some(cluster_load_assignment::Policy {
        overprovisioning_factor: Some(200),
        endpoint_stale_after: None,
    });
    refused(
        load_assignment(&stale, "1"),
        "backend",
        "policy.overprovisioning_factor",
    );
}
