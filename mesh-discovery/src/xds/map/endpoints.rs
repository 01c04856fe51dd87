//! EDS: a `ClusterLoadAssignment` → mesh's validated [`EndpointSet`] (and, for STATIC clusters,
//! its endpoints as config shapes).
//!
//! Each `lb_endpoints` entry becomes one endpoint: its socket address, `load_balancing_weight`
//! (default 1), its locality's `zone` and `priority`, and its `metadata.filter_metadata` (carried
//! to `/config_dump` as `{ filter: struct }`). Endpoints whose `health_status` is UNHEALTHY,
//! DRAINING or TIMEOUT are left out, as Envoy does not route to them; DEGRADED ones are kept (mesh
//! has no degraded tier). The set goes through mesh-core's endpoints-file validation, so weight 0
//! and duplicate addresses are refused exactly as in an endpoints file, with the xDS path of the
//! offending entry. Locality weights and proximity (used by Envoy only with locality-weighted
//! balancing, which mesh does not offer), region and sub-zone, and an endpoint's `hostname` are
//! ignored; an `overprovisioning_factor` other than Envoy's 140 and `endpoint_stale_after` are
//! refused.

use super::{EndpointSet, MapError, address};
use crate::xds::api::envoy::config::core::v3::HealthStatus;
use crate::xds::api::envoy::config::endpoint::v3::{ClusterLoadAssignment, LbEndpoint, lb_endpoint};
use mesh_core::config;
use mesh_core::policy::ConfigError;
use std::collections::BTreeMap;

/// Envoy's default, and the only factor mesh's priority spill-over uses.
const OVERPROVISIONING_FACTOR: u32 = 140;

/// An EDS `ClusterLoadAssignment` → the validated endpoint set, labelled `version_info`.
pub fn load_assignment(cla: &ClusterLoadAssignment, version_info: &str) -> Result<EndpointSet, MapError> {
    let resource = cla.cluster_name.as_str();
    let (endpoints, origins) = flatten(cla, resource, "")?;
    let file = config::EndpointsFile {
        version: Some(version_info.to_owned()),
        endpoints: Some(endpoints),
    };
    EndpointSet::try_from(&file).map_err(|errors| invalid(resource, &origins, &errors))
}

/// The routable endpoints of `cla` as config shapes, with the xDS path of each (`{prefix}endpoints[i]
/// .lb_endpoints[j]`), for error messages.
pub(crate) fn flatten(
    cla: &ClusterLoadAssignment,
    resource: &str,
    prefix: &str,
) -> Result<(Vec<config::Endpoint>, Vec<String>), MapError> {
    if let Some(policy) = &cla.policy {
        if policy
            .overprovisioning_factor
            .is_some_and(|f| f != OVERPROVISIONING_FACTOR)
        {
            let reason = format!("only Envoy's default {OVERPROVISIONING_FACTOR} is supported");
            return Err(MapError::new(
                resource,
                format!("{prefix}policy.overprovisioning_factor"),
                reason,
            ));
        }
        if policy.endpoint_stale_after.is_some() {
            let reason = "is not supported: mesh keeps endpoints until the next assignment";
            return Err(MapError::new(
                resource,
                format!("{prefix}policy.endpoint_stale_after"),
                reason,
            ));
        }
    }
    let mut endpoints = Vec::new();
    let mut origins = Vec::new();
    for (i, locality) in cla.endpoints.iter().enumerate() {
        let zone = locality.locality.as_ref().and_then(|l| super::non_empty(&l.zone));
        for (j, lb) in locality.lb_endpoints.iter().enumerate() {
            let field = format!("{prefix}endpoints[{i}].lb_endpoints[{j}]");
            if !routable(lb) {
                continue;
            }
            let Some(lb_endpoint::HostIdentifier::Endpoint(e)) = &lb.host_identifier else {
                let reason = "needs an endpoint with an address (named endpoints are not supported)";
                return Err(MapError::new(resource, format!("{field}.endpoint"), reason));
            };
            let address =
                address::ip_port(e.address.as_ref(), resource, &format!("{field}.endpoint.address"))?;
            endpoints.push(config::Endpoint {
                address: Some(address),
                weight: Some(lb.load_balancing_weight.unwrap_or(1)),
                priority: Some(locality.priority),
                zone: zone.clone(),
                metadata: metadata(lb),
            });
            origins.push(field);
        }
    }
    Ok((endpoints, origins))
}

/// Envoy sends no traffic to endpoints the control plane marks unhealthy, draining or timed out.
fn routable(lb: &LbEndpoint) -> bool {
    let status = HealthStatus::try_from(lb.health_status).unwrap_or(HealthStatus::Unknown);
    !matches!(
        status,
        HealthStatus::Unhealthy | HealthStatus::Draining | HealthStatus::Timeout
    )
}

fn metadata(lb: &LbEndpoint) -> BTreeMap<String, serde_json::Value> {
    let Some(m) = &lb.metadata else {
        return BTreeMap::new();
    };
    m.filter_metadata
        .iter()
        .map(|(filter, s)| (filter.clone(), json_struct(s)))
        .collect()
}

fn json_struct(s: &prost_types::Struct) -> serde_json::Value {
    serde_json::Value::Object(s.fields.iter().map(|(k, v)| (k.clone(), json(v))).collect())
}

fn json(v: &prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into)
        }
        Some(Kind::StringValue(s)) => s.clone().into(),
        Some(Kind::BoolValue(b)) => (*b).into(),
        Some(Kind::StructValue(s)) => json_struct(s),
        Some(Kind::ListValue(l)) => l.values.iter().map(json).collect(),
    }
}

/// mesh-core's first complaint, re-pathed from the flattened list onto the xDS entry it came from.
fn invalid(resource: &str, origins: &[String], errors: &[ConfigError]) -> MapError {
    let Some(first) = errors.first() else {
        return MapError::new(resource, "endpoints", "was refused by mesh-core without a reason");
    };
    let field = repath(&first.path, origins).unwrap_or_else(|| first.path.clone());
    let more = match errors.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    MapError::new(resource, field, format!("{}{more}", first.message))
}

/// `endpoints[k].address` → `endpoints[i].lb_endpoints[j].endpoint.address`.
fn repath(path: &str, origins: &[String]) -> Option<String> {
    let rest = path.strip_prefix("endpoints[")?;
    let (index, key) = rest.split_once(']')?;
    let origin = origins.get(index.parse::<usize>().ok()?)?;
    let key = match key {
        ".address" => ".endpoint.address",
        ".weight" => ".load_balancing_weight",
        other => other,
    };
    Some(format!("{origin}{key}"))
}
