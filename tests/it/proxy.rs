//! The proxy end to end: real backends behind a real in-process `mesh-proxy`.

mod access_log;
mod admin;
mod dashboard;
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
mod request_id;
mod retries;
mod routing;
mod stats;
mod streams;
mod trust;
mod xds_client;
mod zones;
