//! mesh-discovery: where endpoints come from.
//!
//! This crate will own (issue: eventually consistent discovery):
//! sources that yield `tower::discover::Change` streams (static lists, DNS, watched
//! files, the mesh registry, Envoy's xDS), and the registry service itself (an embedded
//! store by default, Redis for several replicas). Sources run as background tasks and
//! publish endpoint sets; consumers never block on them.
//!
//! It depends on `mesh-core` only. Nothing is implemented yet: clusters are static,
//! straight from the configuration file.
