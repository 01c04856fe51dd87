//! The proxy end to end: real backends behind a real in-process `mesh-proxy`.

mod admin;
mod discovery;
mod dns;
mod errors;
mod faults;
mod grpc;
mod health;
mod lb_policies;
mod limits;
mod mirror;
mod outlier;
mod protocols;
mod rate_limits;
mod registry;
mod registry_outage;
mod reload;
mod retries;
mod routing;
mod streams;
mod tracing;
mod trust;
mod xds_client;
mod zones;
