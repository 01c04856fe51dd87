//! Unit tests of the xDS → config mappings: a representative Envoy resource → the exact shape,
//! then through mesh-core validation, asserting the policy a user relies on; and each refusal
//! names the resource and the xDS field.

mod cluster;
mod cluster_refusals;
mod endpoints;
mod listener;
mod route;
mod route_refusals;
mod wire;

use crate::xds::api::envoy::config::core::v3::{Address, SocketAddress, address, socket_address};
use crate::xds::api::envoy::config::endpoint::v3::{Endpoint, LbEndpoint, lb_endpoint};
use mesh_core::{config, policy};

pub(super) fn socket(ip: &str, port: u32) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: ip.to_owned(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..SocketAddress::default()
        })),
    }
}

pub(super) fn lb_endpoint(ip: &str, port: u32) -> LbEndpoint {
    LbEndpoint {
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
            address: Some(socket(ip, port)),
            ..Endpoint::default()
        })),
        ..LbEndpoint::default()
    }
}

pub(super) fn millis(ms: i32) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::from(ms / 1000),
        nanos: (ms % 1000) * 1_000_000,
    }
}

pub(super) fn assert_shape<T: PartialEq + std::fmt::Debug>(actual: &T, expected: &T) {
    assert_eq!(actual, expected);
}

/// `dynamic_resources.ads`, which EDS clusters need.
pub(super) fn ads() -> Option<config::DynamicResources> {
    Some(config::DynamicResources {
        ads: Some(config::Ads {
            address: Some("127.0.0.1:18000".to_owned()),
            initial_fetch_timeout: None,
        }),
    })
}

/// A static cluster for routes to refer to.
pub(super) fn plain_cluster(name: &str) -> config::Cluster {
    config::Cluster {
        name: Some(name.to_owned()),
        endpoints: vec![config::Endpoint {
            address: Some("127.0.0.1:8080".to_owned()),
            ..config::Endpoint::default()
        }],
        ..config::Cluster::default()
    }
}

pub(super) fn validate(b: &config::Bootstrap) -> policy::Bootstrap {
    match policy::Bootstrap::try_from(b) {
        Ok(p) => p,
        Err(errors) => panic!("mesh-core refused the mapped config: {errors:?}"),
    }
}

/// Asserts the refusal names `resource` and `field`, and returns its reason.
pub(super) fn refused<T: std::fmt::Debug>(
    r: Result<T, super::MapError>,
    resource: &str,
    field: &str,
) -> String {
    match r {
        Err(e) => {
            assert_eq!((e.resource.as_str(), e.field.as_str()), (resource, field), "{e}");
            e.reason
        }
        Ok(v) => panic!("expected a refusal of {resource}: {field}, got {v:?}"),
    }
}
