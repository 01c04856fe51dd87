//! An instance as the Redis store keeps it: the API's JSON shape (`Instance`'s `Serialize`),
//! read back. A record that does not decode (another program writing under the prefix, or a
//! newer replica's format) is skipped with a warning, so one bad entry cannot hide a service.

use crate::registry::model::{Instance, ServiceName};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tracing::warn;

/// An instance as stored: the API's JSON shape, read back.
#[derive(Deserialize)]
struct Record {
    id: Option<String>,
    address: SocketAddr,
    zone: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    weight: Option<u32>,
    health_check: Option<String>,
}

pub(super) fn decode(service: &ServiceName, json: &str) -> Option<Instance> {
    match serde_json::from_str::<Record>(json) {
        Ok(r) => Some(Instance {
            id: r.id,
            address: r.address,
            zone: r.zone,
            tags: r.tags,
            weight: r.weight,
            health_check: r.health_check,
        }),
        Err(e) => {
            warn!(%service, "skipping an instance record that does not decode: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_round_trips_and_a_foreign_record_is_skipped() {
        let service = ServiceName::new("api").unwrap();
        let mut instance = Instance::new("[::1]:8080".parse().unwrap());
        instance.id = Some("pod-1".into());
        instance.tags.insert("v".into(), "2".into());
        instance.weight = Some(5);
        let json = serde_json::to_string(&instance).unwrap();
        assert_eq!(decode(&service, &json), Some(instance));
        assert_eq!(decode(&service, r#"{"addr": "10.0.0.1:80"}"#), None);
        assert_eq!(decode(&service, "not json"), None);
    }
}
