//! mesh-client: talking to the mesh from a Rust service.
//!
//! This crate will own (issue: mesh-client and proxyless embedding): the thin client
//! that reaches the local sidecar (request-ID propagation, default timeouts), and the
//! in-process ("proxyless") outbound stack composed from `mesh-lb`, `mesh-health`,
//! `mesh-discovery` and `mesh-filters`, with tonic and hyper integrations.
//!
//! Nothing is implemented yet.
