//! The resources an ADS server serves: a [`Snapshot`] per publish, versioned per type URL.
//!
//! Policy: the owner of the data (the registry) builds every resource of every type it serves
//! and calls [`SnapshotCache::publish`]; the cache compares each type with the last publish and
//! moves that type's version only when one of its resources changed, so a client following
//! clusters is not sent anything when only endpoints moved. Versions are decimal strings of a
//! publish counter that starts at 1 when the cache is made; they are opaque to clients.
//! Readers (one per ADS stream) follow the cache through a `watch` channel: they always see the
//! latest snapshot and may skip intermediate ones, which state-of-the-world xDS allows.
//!
//! Failure: publishing never fails; a type left out of a publish is served as empty (every
//! resource of it removed) until it comes back.

use prost_types::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// One type's resources by name, with the version of their last change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub version: String,
    pub resources: BTreeMap<String, Any>,
}

/// Every type's resources as of one publish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    types: BTreeMap<String, Resources>,
}

impl Snapshot {
    /// The resources of `type_url`, or `None` if it was never published.
    pub fn get(&self, type_url: &str) -> Option<&Resources> {
        self.types.get(type_url)
    }
}

/// Publishes [`Snapshot`]s to the ADS streams.
#[derive(Debug)]
pub struct SnapshotCache {
    sender: watch::Sender<Arc<Snapshot>>,
    publishes: Mutex<u64>,
}

impl Default for SnapshotCache {
    fn default() -> Self {
        SnapshotCache {
            sender: watch::Sender::new(Arc::default()),
            publishes: Mutex::new(0),
        }
    }
}

impl SnapshotCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes every resource, by type URL then name. Types published before and missing
    /// here are kept, empty. Returns whether any type's version moved.
    pub fn publish(&self, mut by_type: BTreeMap<String, BTreeMap<String, Any>>) -> bool {
        let mut publishes = self.publishes.lock().unwrap_or_else(PoisonError::into_inner);
        *publishes += 1;
        let version = publishes.to_string();
        let current = self.sender.borrow().clone();
        for type_url in current.types.keys() {
            by_type.entry(type_url.clone()).or_default();
        }
        let mut changed = false;
        let types = by_type
            .into_iter()
            .map(|(type_url, resources)| {
                let version = match current.types.get(&type_url) {
                    Some(old) if old.resources == resources => old.version.clone(),
                    _ => {
                        changed = true;
                        version.clone()
                    }
                };
                (type_url, Resources { version, resources })
            })
            .collect();
        if changed {
            self.sender.send_replace(Arc::new(Snapshot { types }));
        }
        changed
    }

    /// The latest snapshot, changing whenever a publish changes something.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.sender.subscribe()
    }

    /// The latest snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.sender.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(value: &[u8]) -> Any {
        Any {
            type_url: "t".into(),
            value: value.to_vec(),
        }
    }

    fn one(type_url: &str, name: &str, value: &[u8]) -> BTreeMap<String, BTreeMap<String, Any>> {
        BTreeMap::from([(type_url.into(), BTreeMap::from([(name.into(), any(value))]))])
    }

    #[test]
    fn a_type_version_moves_only_when_its_resources_change() {
        let cache = SnapshotCache::new();
        let mut both = one("a", "x", b"1");
        both.extend(one("b", "y", b"1"));
        assert!(cache.publish(both.clone()));
        let first = cache.current();
        assert_eq!(first.get("a").unwrap().version, "1");

        assert!(
            !cache.publish(both.clone()),
            "the same resources again change nothing"
        );
        both.extend(one("b", "y", b"2"));
        assert!(cache.publish(both));
        let second = cache.current();
        assert_eq!(second.get("a").unwrap().version, "1", "a did not change");
        assert_eq!(second.get("b").unwrap().version, "3");

        assert!(cache.publish(one("a", "x", b"1")), "b left out: served empty");
        let third = cache.current();
        assert!(third.get("b").unwrap().resources.is_empty());
        assert_eq!(third.get("a").unwrap().version, "1");
    }
}
