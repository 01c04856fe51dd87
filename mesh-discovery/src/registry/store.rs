//! Where the registry keeps its hosts: the [`Store`] trait and the in-process [`MemoryStore`].
//!
//! Policy: a store holds, per service, instances keyed by address, each with an expiry. It keeps
//! one global version that goes up by one on every change anyone can see: a new instance, an
//! instance whose fields changed, a deregistration, an expiry. A heartbeat that changes nothing
//! only pushes the expiry out and leaves the version alone, so readers waiting on a version are
//! not woken once a minute per host for nothing. Each service also remembers the global version
//! of its own last change; a [`Snapshot`] of some services carries the highest of theirs, so a
//! reader of one service is not woken by changes to another.
//!
//! The trait is async because the Redis store (for several registry replicas) does I/O;
//! it uses return-position `impl Future` (no boxing), so a registry is generic over its store
//! rather than holding a `dyn Store`. Expiry is the store's business: the memory store removes
//! expired instances when [`Store::sweep`] runs (the registry calls it every `ttl / 3`); a
//! store with native key expiry may make `sweep` a no-op.
//!
//! Failure: [`MemoryStore`] never fails. Services are never forgotten once seen (an empty
//! service keeps its last-change version, so a reader resuming from it is answered correctly);
//! that is one small map entry per service name ever registered.

use super::model::{Instance, ServiceName};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::future::{Future, ready};
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Some services' instances as of one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The global version of the latest change to any of the services asked for; 0 when none
    /// of them has ever changed.
    pub version: u64,
    /// Every service asked for, known or not (unknown ones are empty), instances by address.
    pub services: BTreeMap<ServiceName, Vec<Instance>>,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The address was not registered for the service before.
    pub created: bool,
    /// The global version after the registration (unchanged by a heartbeat that changes nothing).
    pub version: u64,
}

/// A store that could not answer (never the memory store; a remote store's I/O error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry store unavailable: {0}")]
pub struct StoreError(pub String);

/// The registry's storage. See the module doc for the version rules every store follows.
pub trait Store: Send + Sync + 'static {
    /// Adds or refreshes `instance` under `service`, to expire `ttl` from now unless refreshed.
    fn register(
        &self,
        service: &ServiceName,
        instance: Instance,
        ttl: Duration,
    ) -> impl Future<Output = Result<Registered, StoreError>> + Send;

    /// Removes the instance at `address`: the new global version, or `None` if it was not there.
    fn deregister(
        &self,
        service: &ServiceName,
        address: SocketAddr,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// The live instances of `services`, with their version.
    fn snapshot(&self, services: &[ServiceName])
    -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    /// Every service with at least one live instance, sorted by name.
    fn services(&self) -> impl Future<Output = Result<Vec<ServiceName>, StoreError>> + Send;

    /// Removes instances whose TTL has run out; returns how many went.
    fn sweep(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The global version, changing whenever it does (intermediate values may be skipped).
    fn versions(&self) -> watch::Receiver<u64>;
}

/// The embedded, in-process store: one mutex over plain maps, held for microseconds.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    versions: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    version: u64,
    services: HashMap<ServiceName, Service>,
}

#[derive(Debug, Default)]
struct Service {
    /// The global version of this service's last change.
    changed: u64,
    instances: BTreeMap<SocketAddr, (Instance, Instant)>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            inner: Mutex::default(),
            versions: watch::Sender::new(0),
        }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` under the lock and publishes the global version if `f` moved it. A panic while
    /// locked cannot leave the maps half-written (each change is one insert or remove).
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let before = inner.version;
        let out = f(&mut inner);
        let after = inner.version;
        drop(inner);
        if after != before {
            self.versions.send_replace(after);
        }
        out
    }

    fn register_now(&self, service: &ServiceName, instance: Instance, ttl: Duration) -> Registered {
        // A TTL too large for the clock means "practically never": saturate instead of failing.
        let now = Instant::now();
        let expires = now
            .checked_add(ttl)
            .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400));
        self.with(|inner| {
            let next = inner.version + 1;
            let svc = inner.services.entry(service.clone()).or_default();
            let (created, changed) = match svc.instances.get_mut(&instance.address) {
                Some((old, at)) => {
                    *at = expires;
                    let changed = *old != instance;
                    if changed {
                        *old = instance;
                    }
                    (false, changed)
                }
                None => {
                    svc.instances.insert(instance.address, (instance, expires));
                    (true, true)
                }
            };
            if changed {
                svc.changed = next;
                inner.version = next;
            }
            Registered {
                created,
                version: inner.version,
            }
        })
    }

    fn deregister_now(&self, service: &ServiceName, address: SocketAddr) -> Option<u64> {
        self.with(|inner| {
            let next = inner.version + 1;
            let svc = inner.services.get_mut(service)?;
            svc.instances.remove(&address)?;
            svc.changed = next;
            inner.version = next;
            Some(next)
        })
    }

    fn snapshot_now(&self, services: &[ServiceName]) -> Snapshot {
        self.with(|inner| {
            let mut snap = Snapshot::default();
            for name in services {
                let svc = inner.services.get(name);
                snap.version = snap.version.max(svc.map_or(0, |s| s.changed));
                // An instance past its TTL but not yet swept is still listed: expiry is the
                // sweep's decision, so that what a reader sees and the version always agree.
                let list = svc.map(|s| s.instances.values().map(|(i, _)| i.clone()).collect());
                snap.services.insert(name.clone(), list.unwrap_or_default());
            }
            snap
        })
    }

    fn services_now(&self) -> Vec<ServiceName> {
        self.with(|inner| {
            // "Live" as `snapshot` lists it: an instance past its TTL counts until swept.
            let mut names: Vec<ServiceName> = inner
                .services
                .iter()
                .filter(|(_, svc)| !svc.instances.is_empty())
                .map(|(name, _)| name.clone())
                .collect();
            names.sort();
            names
        })
    }

    fn sweep_now(&self) -> usize {
        let now = Instant::now();
        self.with(|inner| {
            let next = inner.version + 1;
            let mut removed = 0;
            for svc in inner.services.values_mut() {
                let before = svc.instances.len();
                svc.instances.retain(|_, (_, expires)| *expires > now);
                if svc.instances.len() != before {
                    removed += before - svc.instances.len();
                    svc.changed = next;
                }
            }
            if removed > 0 {
                inner.version = next;
            }
            removed
        })
    }
}

impl Store for MemoryStore {
    fn register(
        &self,
        service: &ServiceName,
        instance: Instance,
        ttl: Duration,
    ) -> impl Future<Output = Result<Registered, StoreError>> + Send {
        ready(Ok(self.register_now(service, instance, ttl)))
    }

    fn deregister(
        &self,
        service: &ServiceName,
        address: SocketAddr,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send {
        ready(Ok(self.deregister_now(service, address)))
    }

    fn snapshot(
        &self,
        services: &[ServiceName],
    ) -> impl Future<Output = Result<Snapshot, StoreError>> + Send {
        ready(Ok(self.snapshot_now(services)))
    }

    fn services(&self) -> impl Future<Output = Result<Vec<ServiceName>, StoreError>> + Send {
        ready(Ok(self.services_now()))
    }

    fn sweep(&self) -> impl Future<Output = Result<usize, StoreError>> + Send {
        ready(Ok(self.sweep_now()))
    }

    fn versions(&self) -> watch::Receiver<u64> {
        self.versions.subscribe()
    }
}
