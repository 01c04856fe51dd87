//! Envoy's xDS v3 resources mapped onto mesh-core's configuration shapes: one model, two front doors.
//!
//! Pure functions, one per resource kind: [`cluster`] (CDS), [`load_assignment`] (EDS),
//! [`listener`] (LDS) and [`route_configuration`] (RDS, or a listener's inline route table). The
//! proxy's xDS client turns each received resource into a [`mesh_core::config`] shape with them,
//! merges the shapes into a `config::Bootstrap` and validates that with mesh-core, so values
//! (durations, `retry_on` names, domains, weights) are judged by the same rules as the YAML file.
//! [`load_assignment`] is the exception: it goes through mesh-core's endpoints-file validation
//! itself and returns the validated [`EndpointSet`].
//!
//! Policy: a field Envoy would honour and mesh cannot express is **refused** with a [`MapError`]
//! naming the resource, the xDS field path and why, rather than silently ignored: a control plane
//! that sets it expects a behaviour mesh would not deliver. Refused, among others: cluster types
//! other than STATIC, STRICT_DNS and EDS; `CLUSTER_PROVIDED` and extension load balancers;
//! per-host circuit breakers; listeners without exactly one filter chain holding exactly one
//! HttpConnectionManager; HTTP filters other than the router (which must be last); gRPC's
//! `api_listener`; routes forwarding by `cluster_header`; `typed_per_filter_config`; case-insensitive
//! string matchers; EDS endpoints named rather than addressed. Fields that only change statistics
//! or names (`alt_stat_name`, `stat_prefix`, `track_remaining`, a router's `dynamic_stats`) are
//! ignored. A field that mesh's proto subset (`mesh-discovery/proto/`) lacks is skipped by the
//! decoder before it reaches these functions; the subset grows as mesh learns a field.
//!
//! Defaults: proto3 cannot tell an unset enum or bool from its zero value, so those map to their
//! explicit meaning (`lb_policy: ROUND_ROBIN` → `round_robin`, `respect_dns_ttl: false` → `false`);
//! unset messages and wrappers map to `None`, leaving mesh-core's defaults (Envoy's) in force.
//!
//! Failure: every function returns the first refusal; nothing is partially mapped.

mod address;
mod cluster;
mod endpoints;
mod listener;
mod route;
mod route_action;
mod route_match;

#[cfg(test)]
mod tests;

use mesh_core::policy::EndpointSet;

pub use cluster::cluster;
pub use endpoints::load_assignment;
pub use listener::{ListenerRoutes, listener};
pub use route::route_configuration;

/// A resource mesh cannot take, with the resource's name, the xDS field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{resource}: {field}: {reason}")]
pub struct MapError {
    pub resource: String,
    pub field: String,
    pub reason: String,
}

impl MapError {
    pub(crate) fn new(resource: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        MapError {
            resource: resource.to_owned(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Refuses the first of `keys` that is set: options under `field` mesh cannot honour.
pub(crate) fn refuse_set(
    resource: &str,
    field: &str,
    keys: &[(&str, bool)],
    why: &str,
) -> Result<(), MapError> {
    match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(MapError::new(resource, format!("{field}.{key}"), why)),
        None => Ok(()),
    }
}

/// A protobuf `Duration` in mesh's notation (`250ms`, `1m30s`); negative or malformed ones are refused.
pub(crate) fn duration(d: &prost_types::Duration, resource: &str, field: &str) -> Result<String, MapError> {
    std::time::Duration::try_from(*d)
        .map(mesh_core::duration::format)
        .map_err(|e| MapError::new(resource, field, format!("is not a usable duration: {e}")))
}

/// [`duration`] for an optional field.
pub(crate) fn opt_duration(
    d: Option<&prost_types::Duration>,
    resource: &str,
    field: &str,
) -> Result<Option<String>, MapError> {
    d.map(|d| duration(d, resource, field)).transpose()
}

/// `Some(s)` unless the proto3 string is empty (unset).
pub(crate) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}
