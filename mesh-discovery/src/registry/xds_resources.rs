//! The registry's services as Envoy resources: per service name one CDS `Cluster`, one EDS
//! `ClusterLoadAssignment` and one LDS `Listener`, all named after the service.
//!
//! - Cluster: type EDS, endpoints from ADS (`eds_config.ads`, resource API v3), ROUND_ROBIN,
//!   connect timeout 5s (Envoy's default; gRPC ignores it).
//! - ClusterLoadAssignment: one locality per zone (instances without a zone share the empty
//!   locality), each with `load_balancing_weight` 1 (gRPC drops localities without a weight),
//!   priority 0; each instance an `LbEndpoint` with its weight (1 when unset) and health
//!   `HEALTHY` (the registry lists only hosts that heartbeat).
//! - Listener: an `api_listener` (what gRPC's `xds:///name` resolves) holding an
//!   HttpConnectionManager whose inline route config sends everything (`prefix: ""`, domain
//!   `*`) to the cluster, with the router as the last (only) HTTP filter: gRPC rejects a
//!   listener without it.

use super::model::{Instance, ServiceName};
use crate::xds::api::envoy::config::cluster::v3::Cluster;
use crate::xds::api::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, EdsClusterConfig, LbPolicy,
};
use crate::xds::api::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ApiVersion, ConfigSource, HealthStatus, Locality, SocketAddress,
    address, config_source, socket_address,
};
use crate::xds::api::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use crate::xds::api::envoy::config::listener::v3::{ApiListener, Listener};
use crate::xds::api::envoy::config::route::v3::{
    Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route, route_action, route_match,
};
use crate::xds::api::envoy::extensions::filters::http::router::v3::Router;
use crate::xds::api::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, http_connection_manager, http_filter,
};
use crate::xds::api::type_url;
use prost::Message;
use prost_types::Any;
use std::collections::BTreeMap;

/// Envoy's default connect timeout.
const CONNECT_TIMEOUT_S: i64 = 5;

/// `message` packed as a `google.protobuf.Any` of type `type_url`.
pub(crate) fn any(type_url: &str, message: &impl Message) -> Any {
    Any {
        type_url: type_url.to_owned(),
        value: message.encode_to_vec(),
    }
}

pub(crate) fn cluster(service: &ServiceName) -> Cluster {
    Cluster {
        name: service.to_string(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Eds.into())),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                resource_api_version: ApiVersion::V3.into(),
                ..ConfigSource::default()
            }),
            service_name: service.to_string(),
        }),
        connect_timeout: Some(prost_types::Duration {
            seconds: CONNECT_TIMEOUT_S,
            nanos: 0,
        }),
        lb_policy: LbPolicy::RoundRobin.into(),
        ..Cluster::default()
    }
}

pub(crate) fn load_assignment(service: &ServiceName, instances: &[Instance]) -> ClusterLoadAssignment {
    let mut zones: BTreeMap<&str, Vec<LbEndpoint>> = BTreeMap::new();
    for instance in instances {
        let zone = instance.zone.as_deref().unwrap_or_default();
        zones.entry(zone).or_default().push(lb_endpoint(instance));
    }
    let endpoints = zones
        .into_iter()
        .map(|(zone, lb_endpoints)| LocalityLbEndpoints {
            locality: Some(Locality {
                zone: zone.to_owned(),
                ..Locality::default()
            }),
            lb_endpoints,
            load_balancing_weight: Some(1),
            priority: 0,
            ..LocalityLbEndpoints::default()
        })
        .collect();
    ClusterLoadAssignment {
        cluster_name: service.to_string(),
        endpoints,
        ..ClusterLoadAssignment::default()
    }
}

fn lb_endpoint(instance: &Instance) -> LbEndpoint {
    let address = Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: instance.address.ip().to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(
                instance.address.port(),
            ))),
            ..SocketAddress::default()
        })),
    };
    LbEndpoint {
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
            address: Some(address),
            hostname: instance.id.clone().unwrap_or_default(),
        })),
        health_status: HealthStatus::Healthy.into(),
        load_balancing_weight: Some(instance.weight.unwrap_or(1).max(1)),
        ..LbEndpoint::default()
    }
}

pub(crate) fn listener(service: &ServiceName) -> Listener {
    let name = service.to_string();
    let route = Route {
        r#match: Some(RouteMatch {
            path_specifier: Some(route_match::PathSpecifier::Prefix(String::new())),
            ..RouteMatch::default()
        }),
        action: Some(route::Action::Route(RouteAction {
            cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(name.clone())),
            ..RouteAction::default()
        })),
        ..Route::default()
    };
    let router = HttpFilter {
        name: "envoy.filters.http.router".to_owned(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(
            type_url::ROUTER,
            &Router::default(),
        ))),
        ..HttpFilter::default()
    };
    let manager = HttpConnectionManager {
        stat_prefix: name.clone(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::RouteConfig(
            RouteConfiguration {
                name: name.clone(),
                virtual_hosts: vec![VirtualHost {
                    name: name.clone(),
                    domains: vec!["*".to_owned()],
                    routes: vec![route],
                    ..VirtualHost::default()
                }],
            },
        )),
        http_filters: vec![router],
        ..HttpConnectionManager::default()
    };
    Listener {
        name,
        api_listener: Some(ApiListener {
            api_listener: Some(any(type_url::HTTP_CONNECTION_MANAGER, &manager)),
        }),
        ..Listener::default()
    }
}
