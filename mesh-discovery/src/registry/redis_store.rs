//! [`RedisStore`]: the registry's [`Store`] on one Redis, so that any number of stateless
//! registry replicas behave as one registry.
//!
//! Policy: the version rules are the memory store's (see [`Store`]), kept across replicas by
//! doing every change in one Lua script (see `scripts.rs` for the keys): each instance is a key
//! with native expiry (`PX ttl`) listed in a per-service index; one `INCR` counter is the global
//! version and a hash holds each service's last-change version. A heartbeat that changes nothing
//! only pushes the key's expiry out. An instance whose key expired is reaped (removed from the
//! index, one version bump per instance, counted by whichever replica removes it first) by
//! [`Store::sweep`], which every replica runs every `ttl / 3`, and by any read of its service.
//! [`Store::versions`] follows changes made through every replica: pub/sub plus a poll of the
//! counter every `poll_interval` (see `follow.rs`).
//!
//! Defaults: prefix `mesh:registry:` (tests and deployments can share one Redis under different
//! prefixes), poll every 1s, 2s to connect and 2s per command.
//!
//! Failure: an unreachable or slow Redis makes each call fail with [`StoreError`] within the
//! timeout (the API answers 503), never a panic. The connection is reopened on the next call
//! after one breaks, so service resumes by itself when Redis is back; versions start again from
//! 0 if Redis lost its data, which readers handle (they wait for "not N"). Constructing the
//! store does not connect: a registry can start before its Redis. Records that do not decode
//! (another program writing under the prefix) are skipped with a warning rather than failing the
//! whole read.

mod follow;
mod record;
mod scripts;

use super::model::{Instance, ServiceName};
use super::store::{Registered, Snapshot, Store, StoreError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use scripts::Scripts;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The key prefix when none is configured.
pub const DEFAULT_REDIS_PREFIX: &str = "mesh:registry:";

/// Where the store's Redis is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisStoreConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key and the pub/sub channel.
    pub prefix: String,
    /// How often the version counter is read in case a pub/sub message was lost.
    pub poll_interval: Duration,
    /// The longest a connection attempt, and then each command, may take.
    pub timeout: Duration,
}

impl RedisStoreConfig {
    /// The defaults for the Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        RedisStoreConfig {
            url: url.into(),
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        }
    }
}

/// Why a [`RedisStore`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRedisStore {
    #[error("redis url {url:?}: {message}")]
    Url { url: String, message: String },
    #[error("redis store: {0} must be greater than 0s")]
    ZeroDuration(&'static str),
    #[error("redis store: must be created inside a tokio runtime")]
    NoRuntime,
}

/// The registry's storage in Redis, shared by every replica that uses the same URL and prefix.
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    scripts: Scripts,
    versions: watch::Sender<u64>,
    follower: JoinHandle<()>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("version", &*self.versions.borrow())
            .finish_non_exhaustive()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl RedisStore {
    /// A store on the Redis at `config.url`; connects lazily, on the first call. Starts the task
    /// that follows the version, so it must run inside a tokio runtime.
    pub fn new(config: RedisStoreConfig) -> Result<Self, InvalidRedisStore> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| InvalidRedisStore::NoRuntime)?;
        if config.poll_interval.is_zero() {
            return Err(InvalidRedisStore::ZeroDuration("poll_interval"));
        }
        if config.timeout.is_zero() {
            return Err(InvalidRedisStore::ZeroDuration("timeout"));
        }
        let bad_url = |e: redis::RedisError| InvalidRedisStore::Url {
            url: config.url.clone(),
            message: e.to_string(),
        };
        let client = redis::Client::open(config.url.as_str()).map_err(bad_url)?;
        // No retries inside a call: a call fails within its timeout and the next one reconnects,
        // so a long poll or a heartbeat gets a prompt 503 rather than hanging while Redis is down.
        let manager = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager).map_err(bad_url)?;
        let versions = watch::Sender::new(0);
        let follower = follow::Follower {
            client,
            conn: conn.clone(),
            version_key: format!("{}version", config.prefix),
            channel: format!("{}changes", config.prefix),
            poll_interval: config.poll_interval,
            timeout: config.timeout,
            versions: versions.clone(),
        };
        Ok(RedisStore {
            conn,
            prefix: config.prefix,
            scripts: Scripts::new(),
            versions,
            follower: runtime.spawn(follower.run()),
        })
    }

    /// Round trip to Redis: whether it answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Sets the local watch from a version a script returned, so a long poll on this replica
    /// wakes without waiting for the pub/sub round trip.
    fn saw(&self, version: u64) {
        follow::publish(&self.versions, version);
    }

    async fn reap(&self, service: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn.clone();
        let mut call = self.scripts.reap.arg(&self.prefix);
        call.arg(service);
        call.invoke_async(&mut conn).await.map_err(unavailable)
    }

    async fn indexed_services(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("SMEMBERS")
            .arg(format!("{}services", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError(format!("redis: {e}"))
}

/// A TTL in whole milliseconds as `PX` takes it: at least 1, at most about 100 years (a larger
/// TTL means "practically never", as in the memory store).
fn ttl_millis(ttl: Duration) -> u64 {
    let max = 100 * 365 * 86_400 * 1000;
    u64::try_from(ttl.as_millis()).unwrap_or(max).clamp(1, max)
}

impl Store for RedisStore {
    async fn register(
        &self,
        service: &ServiceName,
        instance: Instance,
        ttl: Duration,
    ) -> Result<Registered, StoreError> {
        let record = serde_json::to_string(&instance).map_err(|e| StoreError(e.to_string()))?;
        let mut conn = self.conn.clone();
        let mut call = self.scripts.register.arg(&self.prefix);
        call.arg(service.as_str())
            .arg(instance.address.to_string())
            .arg(record)
            .arg(ttl_millis(ttl));
        let (created, version): (u8, u64) = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        self.saw(version);
        Ok(Registered {
            created: created == 1,
            version,
        })
    }

    async fn deregister(
        &self,
        service: &ServiceName,
        address: SocketAddr,
    ) -> Result<Option<u64>, StoreError> {
        let mut conn = self.conn.clone();
        let mut call = self.scripts.deregister.arg(&self.prefix);
        call.arg(service.as_str()).arg(address.to_string());
        let (existed, version): (u8, u64) = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        if version != 0 {
            self.saw(version);
        }
        Ok((existed == 1).then_some(version))
    }

    async fn snapshot(&self, services: &[ServiceName]) -> Result<Snapshot, StoreError> {
        let mut conn = self.conn.clone();
        let mut call = self.scripts.snapshot.arg(&self.prefix);
        for service in services {
            call.arg(service.as_str());
        }
        let read: Vec<(u64, Vec<String>)> = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        let mut snap = Snapshot::default();
        for (service, (changed, records)) in services.iter().zip(read) {
            snap.version = snap.version.max(changed);
            let mut instances: Vec<Instance> = records
                .iter()
                .filter_map(|r| record::decode(service, r))
                .collect();
            instances.sort_by_key(|i| i.address);
            snap.services.insert(service.clone(), instances);
        }
        // Services asked for twice come back once; every one asked for is present.
        for service in services {
            snap.services.entry(service.clone()).or_default();
        }
        Ok(snap)
    }

    async fn sweep(&self) -> Result<usize, StoreError> {
        // One script per service keeps each short: Redis runs nothing else during a script.
        let mut removed = 0;
        for service in self.indexed_services().await? {
            removed += self.reap(&service).await?;
        }
        Ok(removed)
    }

    async fn services(&self) -> Result<Vec<ServiceName>, StoreError> {
        // Reaped first, so a service whose every host expired is not listed.
        self.sweep().await?;
        let mut names: Vec<ServiceName> = self
            .indexed_services()
            .await?
            .into_iter()
            .filter_map(|name| ServiceName::new(name).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    fn versions(&self) -> watch::Receiver<u64> {
        self.versions.subscribe()
    }
}
