//! The registry's JSON shapes and request parsing, shared by the server and its clients.
//!
//! Request bodies are read as `serde_json::Value` and checked field by field rather than
//! derived, so that every refusal names the field (`weight: must be a whole number from 1 to
//! 4294967295`) instead of serde's `invalid type at line 1 column 12`.

use super::model::{Instance, ServiceName};
use mesh_core::policy::{Endpoint, EndpointSet};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// A request the registry refuses, with the field (or path segment, or query parameter) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BadRequest {
    pub field: String,
    pub message: String,
}

pub(crate) fn bad(field: &str, message: impl Into<String>) -> BadRequest {
    BadRequest {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The body of `PUT /v1/services/{service}/instances/{address}`: every field is optional and an
/// empty body is an instance with only its address. Unknown fields are refused, so a typo
/// (`wieght`) is not silently a default.
pub(crate) fn instance_from_body(address: SocketAddr, body: &[u8]) -> Result<Instance, BadRequest> {
    let mut instance = Instance::new(address);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(instance);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| bad("body", format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(bad("body", "must be a JSON object"));
    };
    for (key, value) in fields {
        match key.as_str() {
            "id" => instance.id = opt_string(&key, value)?,
            "zone" => instance.zone = opt_string(&key, value)?,
            "health_check" => instance.health_check = opt_string(&key, value)?,
            "weight" => instance.weight = weight(value)?,
            "tags" => instance.tags = tags(value)?,
            // The path names the address; a second, possibly different one would be ambiguous.
            "address" => return Err(bad("address", "is taken from the URL path, not the body")),
            other => {
                return Err(bad(
                    other,
                    "unknown field (expected id, zone, tags, weight, health_check)",
                ));
            }
        }
    }
    Ok(instance)
}

fn opt_string(field: &str, value: Value) -> Result<Option<String>, BadRequest> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if !s.is_empty() && s.len() <= 256 => Ok(Some(s)),
        Value::String(_) => Err(bad(field, "must be 1 to 256 characters")),
        _ => Err(bad(field, "must be a string")),
    }
}

fn weight(value: Value) -> Result<Option<u32>, BadRequest> {
    if value.is_null() {
        return Ok(None);
    }
    match value.as_u64().and_then(|w| u32::try_from(w).ok()) {
        Some(w) if w > 0 => Ok(Some(w)),
        _ => Err(bad("weight", "must be a whole number from 1 to 4294967295")),
    }
}

fn tags(value: Value) -> Result<BTreeMap<String, String>, BadRequest> {
    let fields = match value {
        Value::Null => Map::new(),
        Value::Object(fields) => fields,
        _ => return Err(bad("tags", "must be an object of string values")),
    };
    let mut tags = BTreeMap::new();
    for (key, value) in fields {
        let Value::String(text) = value else {
            return Err(bad(&format!("tags.{key}"), "must be a string"));
        };
        if key.is_empty() {
            return Err(bad("tags", "keys must not be empty"));
        }
        tags.insert(key, text);
    }
    Ok(tags)
}

/// `{service}` in a path.
pub(crate) fn service(segment: &str) -> Result<ServiceName, BadRequest> {
    ServiceName::new(segment).map_err(|e| bad("service", e.to_string()))
}

/// `{address}` in a path: `10.0.0.1:8080` or `[::1]:8080`, brackets possibly percent-encoded.
pub(crate) fn address(segment: &str) -> Result<SocketAddr, BadRequest> {
    let text = segment
        .replace("%5B", "[")
        .replace("%5b", "[")
        .replace("%5D", "]")
        .replace("%5d", "]");
    text.parse()
        .map_err(|_| bad("address", format!("{text:?} is not a socket address (ip:port)")))
}

/// An address as a path segment: IPv6 brackets percent-encoded, since `[` is not a path character.
pub(crate) fn address_segment(address: SocketAddr) -> String {
    address.to_string().replace('[', "%5B").replace(']', "%5D")
}

/// The long-poll parameters of a read: `wait_version=N` and `wait=30s` (capped at `max_wait`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ReadQuery {
    pub services: Vec<ServiceName>,
    pub wait: Option<(u64, Duration)>,
}

pub(crate) fn read_query(
    query: Option<&str>,
    default_wait: Duration,
    max_wait: Duration,
) -> Result<ReadQuery, BadRequest> {
    let (mut version, mut wait, mut services) = (None, None, Vec::new());
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "wait_version" => {
                version = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("wait_version", format!("{value:?} is not a whole number")))?,
                );
            }
            "wait" => wait = Some(mesh_core::duration::parse(value).map_err(|e| bad("wait", e))?),
            "service" => services.push(service(value).map_err(|e| bad("service", e.message))?),
            other => {
                return Err(bad(
                    other,
                    "unknown query parameter (expected service, wait_version, wait)",
                ));
            }
        }
    }
    if wait.is_some() && version.is_none() {
        return Err(bad("wait", "needs wait_version: the version to wait past"));
    }
    Ok(ReadQuery {
        services,
        wait: version.map(|v| (v, wait.unwrap_or(default_wait).min(max_wait))),
    })
}

/// The answer to a read of one service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceReply {
    pub version: u64,
    pub instances: Vec<InstanceReply>,
}

/// An instance as a client reads it back: permissive on purpose (the server validated it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InstanceReply {
    #[serde(default)]
    pub id: Option<String>,
    pub address: SocketAddr,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub weight: Option<u32>,
    #[serde(default)]
    pub health_check: Option<String>,
}

/// Metadata keys the client adds beside an instance's tags.
pub const METADATA_ID: &str = "registry.id";
pub const METADATA_HEALTH_CHECK: &str = "registry.health_check";

/// A read reply as the endpoint set a cluster takes: weight 1 when absent, priority 0, tags as
/// string metadata. A weight of 0 or a repeated address refuses the whole reply, so a broken
/// registry can never half-update a cluster.
pub(crate) fn endpoint_set(reply: ServiceReply) -> Result<EndpointSet, BadRequest> {
    let mut seen = HashSet::new();
    let mut endpoints = Vec::with_capacity(reply.instances.len());
    for (i, inst) in reply.instances.into_iter().enumerate() {
        let field = format!("instances[{i}]");
        if !seen.insert(inst.address) {
            return Err(bad(&field, format!("address {} is listed twice", inst.address)));
        }
        let weight = NonZeroU32::new(inst.weight.unwrap_or(1))
            .ok_or_else(|| bad(&format!("{field}.weight"), "must be at least 1"))?;
        let mut metadata: BTreeMap<String, Value> = inst
            .tags
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        if let Some(id) = inst.id {
            metadata.insert(METADATA_ID.to_owned(), Value::String(id));
        }
        if let Some(hint) = inst.health_check {
            metadata.insert(METADATA_HEALTH_CHECK.to_owned(), Value::String(hint));
        }
        endpoints.push(Endpoint {
            address: inst.address,
            weight,
            priority: 0,
            zone: inst.zone,
            metadata,
        });
    }
    Ok(EndpointSet {
        version: Some(reply.version.to_string()),
        endpoints,
    })
}
