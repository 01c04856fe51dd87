//! mesh-health: knowing which hosts should get traffic.
//!
//! This crate will own (issue: load balancing, health checking and outlier detection):
//! - **Active health checks** as background tasks: HTTP (path, expected statuses, host),
//!   TCP (connect, optional send/expect) and gRPC (`grpc.health.v1`), with Envoy's
//!   `interval`, `timeout`, `unhealthy_threshold`, `healthy_threshold`, jitter and
//!   `no_traffic_interval`; `x-mesh-immediate-health-check-fail` fails a host at once.
//! - **Outlier detection** as a filter on a `tower::discover::Discover` stream: consecutive
//!   5xx / gateway / local-origin failures, success-rate and failure-percentage ejection,
//!   with Envoy's sweep, ejection-time and `max_ejection_percent` semantics.
//! - Health state published through `watch` channels so the request path reads it
//!   without locks; health has primacy over discovery.
//!
//! It depends on `mesh-core` only and meets the balancers through tower traits.
//! Nothing is implemented yet: the proxy currently treats every configured endpoint
//! as healthy.
