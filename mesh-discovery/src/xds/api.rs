//! Envoy's xDS v3 messages and the ADS gRPC service, generated from the trimmed,
//! wire-compatible protos in `mesh-discovery/proto/` (see `scripts/gen-xds.sh`) and checked in
//! under `gen/`, so building mesh-discovery needs neither `protoc` nor the generator.
//!
//! Modules follow the protobuf packages: `envoy::config::cluster::v3::Cluster`,
//! `envoy::service::discovery::v3::aggregated_discovery_service_server`, and so on;
//! `google.protobuf` well-known types are `prost_types`. Only the messages and fields mesh uses
//! are there: a field Envoy has and these protos lack is skipped as unknown when decoding.
//! The type URLs of the resources and filters mesh serves or reads are in [`type_url`].

#![allow(
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

include!("gen/_includes.rs");

/// `type.googleapis.com/` URLs of the resources and typed configs mesh serves or reads.
pub mod type_url {
    pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
    pub const ROUTE_CONFIGURATION: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    pub const CLUSTER_LOAD_ASSIGNMENT: &str =
        "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    pub const HTTP_CONNECTION_MANAGER: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
    pub const ROUTER: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
}
