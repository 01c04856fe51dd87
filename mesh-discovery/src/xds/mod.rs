//! xDS: Envoy's discovery protocol. TODO doc
pub mod api;
