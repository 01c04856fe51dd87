//! The registry on a real `redis-server` (started per test on a free loopback port): the store
//! contract as the memory store keeps it, expiry, several stores racing on one Redis, and two
//! registry replicas behaving as one over HTTP, through a Redis outage.

mod replicas;
mod store;

use mesh_discovery::registry::{Instance, RedisStore, RedisStoreConfig, ServiceName};
use mesh_tests::redis::Redis;
use std::net::SocketAddr;
use std::time::Duration;

/// Bound of each whole test.
const T: Duration = Duration::from_secs(30);

/// A store on `redis` under `prefix`, polling the counter every `poll`.
fn store(redis: &Redis, prefix: &str, poll: Duration) -> RedisStore {
    RedisStore::new(RedisStoreConfig {
        prefix: prefix.to_owned(),
        poll_interval: poll,
        ..RedisStoreConfig::new(redis.url())
    })
    .unwrap()
}

fn name(s: &str) -> ServiceName {
    ServiceName::new(s).unwrap()
}

fn host(s: &str) -> Instance {
    Instance::new(s.parse::<SocketAddr>().unwrap())
}
