//! `RedisStore` against the store contract (the memory store's cases), expiry, and races.

use super::{T, host, name, store};
use mesh_discovery::registry::{RedisStore, Registered, ServiceName, Store};
use mesh_tests::redis::Redis;
use mesh_tests::{eventually, within};
use std::time::{Duration, Instant};
use tokio::time::sleep;

const TTL: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_secs(1);

#[tokio::test]
async fn register_shows_in_the_snapshot_and_bumps_the_version() {
    let redis = Redis::start();
    let store = store(&redis, "t:", POLL);
    let (api, web) = (name("api"), name("web"));
    within(T, async {
        let mut versions = store.versions();
        let empty = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!((empty.version, empty.services[&api].len()), (0, 0));

        let done = store.register(&api, host("10.0.0.1:80"), TTL).await.unwrap();
        assert_eq!(
            done,
            Registered {
                created: true,
                version: 1
            }
        );
        within(Duration::from_secs(1), versions.wait_for(|v| *v == 1))
            .await
            .unwrap();
        store.register(&web, host("10.0.0.9:80"), TTL).await.unwrap();

        let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!(snap.version, 1, "api's last change, not web's later one");
        assert_eq!(snap.services[&api], vec![host("10.0.0.1:80")]);
        let both = store.snapshot(&[api.clone(), web.clone()]).await.unwrap();
        assert_eq!((both.version, both.services.len()), (2, 2));
        assert_eq!(store.services().await.unwrap(), vec![api.clone(), web.clone()]);
    })
    .await;
}

#[tokio::test]
async fn a_heartbeat_that_changes_nothing_keeps_the_version() {
    let redis = Redis::start();
    let store = store(&redis, "t:", POLL);
    let api = name("api");
    within(T, async {
        let mut h = host("10.0.0.1:80");
        h.tags.insert("version".into(), "42".into());
        h.weight = Some(3);
        store.register(&api, h.clone(), TTL).await.unwrap();
        let again = store.register(&api, h.clone(), TTL).await.unwrap();
        assert_eq!(
            again,
            Registered {
                created: false,
                version: 1
            }
        );

        h.zone = Some("us-east-1a".into());
        let changed = store.register(&api, h.clone(), TTL).await.unwrap();
        assert_eq!(
            changed,
            Registered {
                created: false,
                version: 2
            }
        );
        let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!(
            snap.services[&api],
            vec![h],
            "every field survives the round trip"
        );
    })
    .await;
}

#[tokio::test]
async fn deregister_takes_effect_at_once_and_an_empty_service_keeps_its_version() {
    let redis = Redis::start();
    let store = store(&redis, "t:", POLL);
    let api = name("api");
    within(T, async {
        store.register(&api, host("10.0.0.1:80"), TTL).await.unwrap();
        let addr = "10.0.0.1:80".parse().unwrap();
        assert_eq!(store.deregister(&api, addr).await.unwrap(), Some(2));
        assert_eq!(store.deregister(&api, addr).await.unwrap(), None);
        assert_eq!(store.deregister(&name("nobody"), addr).await.unwrap(), None);
        let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert!(snap.services[&api].is_empty());
        assert_eq!(snap.version, 2);
        assert!(store.services().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_host_that_stops_heartbeating_expires_with_one_bump() {
    let redis = Redis::start();
    let store = store(&redis, "t:", POLL);
    let api = name("api");
    let ttl = Duration::from_millis(600);
    within(T, async {
        store.register(&api, host("10.0.0.1:80"), ttl).await.unwrap();
        store.register(&api, host("10.0.0.2:80"), ttl).await.unwrap();
        // .1 beats every 60 ms (ten beats per TTL, so a late beat on a loaded box cannot expire
        // it) for about 1.6 TTLs; .2 never again.
        let start = Instant::now();
        for _ in 0..16 {
            sleep(Duration::from_millis(60)).await;
            store.register(&api, host("10.0.0.1:80"), ttl).await.unwrap();
        }
        assert!(start.elapsed() >= ttl, "the loop outlasted the TTL");
        assert_eq!(store.sweep().await.unwrap(), 1);
        assert_eq!(store.sweep().await.unwrap(), 0, "an expiry is counted once");
        let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!(snap.services[&api], vec![host("10.0.0.1:80")]);
        assert_eq!(snap.version, 3, "one bump for the expiry, none for the beats");

        // A read reaps too: the list and its version agree even before a sweep.
        sleep(ttl * 2).await;
        let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert!(snap.services[&api].is_empty());
        assert_eq!(snap.version, 4);
        assert_eq!(store.sweep().await.unwrap(), 0);
        assert!(store.services().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn stores_racing_on_one_redis_never_lose_nor_double_count_a_change() {
    let redis = Redis::start();
    let (a, b) = (store(&redis, "t:", POLL), store(&redis, "t:", POLL));
    let api = name("api");
    // Long enough for 80 registrations on a loaded box, short enough to wait out.
    let ttl = Duration::from_millis(1500);
    within(T, async {
        // 20 hosts each through A and B at once, then the same hosts' heartbeats through the other.
        tokio::join!(register_20(&a, &api, 1, ttl), register_20(&b, &api, 2, ttl));
        tokio::join!(register_20(&a, &api, 2, ttl), register_20(&b, &api, 1, ttl));
        let snap = a.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!((snap.version, snap.services[&api].len()), (40, 40));

        // All 40 expire; both sweep at once: 40 removals and 40 bumps between them, no more.
        sleep(ttl + Duration::from_secs(1)).await;
        let (ra, rb) = tokio::join!(a.sweep(), b.sweep());
        assert_eq!(ra.unwrap() + rb.unwrap(), 40);
        let snap = b.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!((snap.version, snap.services[&api].len()), (80, 0));
    })
    .await;
}

async fn register_20(store: &RedisStore, service: &ServiceName, subnet: u8, ttl: Duration) {
    for i in 0..20 {
        let instance = host(&format!("10.0.{subnet}.{i}:80"));
        store.register(service, instance, ttl).await.unwrap();
    }
}

#[tokio::test]
async fn versions_follow_changes_made_through_another_store() {
    let redis = Redis::start();
    // B polls rarely: waking within a second can only come from pub/sub.
    let (a, b) = (
        store(&redis, "t:", POLL),
        store(&redis, "t:", Duration::from_secs(60)),
    );
    let api = name("api");
    within(T, async {
        let mut versions = b.versions();
        // Let B subscribe before the change (its first poll comes just after subscribing).
        eventually(Duration::from_secs(5), "B follows the counter", || async {
            a.register(&name("warmup"), host("10.9.9.9:80"), TTL)
                .await
                .unwrap();
            *b.versions().borrow() > 0
        })
        .await;
        versions.borrow_and_update();
        let started = Instant::now();
        let done = a.register(&api, host("10.0.0.1:80"), TTL).await.unwrap();
        within(Duration::from_secs(1), async {
            while *versions.borrow_and_update() != done.version {
                versions.changed().await.unwrap();
            }
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(1));
    })
    .await;
}

#[tokio::test]
async fn versions_catch_up_by_polling_when_no_message_comes() {
    let redis = Redis::start();
    let store = store(&redis, "t:", Duration::from_millis(100));
    within(T, async {
        let mut versions = store.versions();
        // A bump no script announced, as if its message had been lost.
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &redis.addr().port().to_string(), "INCRBY", "t:version", "7"])
            .output()
            .unwrap();
        assert!(out.status.success(), "redis-cli: {out:?}");
        while *versions.borrow_and_update() != 7 {
            versions.changed().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn prefixes_keep_registries_on_one_redis_apart() {
    let redis = Redis::start();
    let (one, two) = (store(&redis, "one:", POLL), store(&redis, "two:", POLL));
    let api = name("api");
    within(T, async {
        one.register(&api, host("10.0.0.1:80"), TTL).await.unwrap();
        let snap = two.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!((snap.version, snap.services[&api].len()), (0, 0));
        assert!(two.services().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_and_the_stores_recover() {
    let mut redis = Redis::start();
    // B polls rarely: following A again after the outage needs its subscription back.
    let (a, b) = (
        store(&redis, "t:", POLL),
        store(&redis, "t:", Duration::from_secs(60)),
    );
    let api = name("api");
    within(T, async {
        a.register(&api, host("10.0.0.1:80"), TTL).await.unwrap();
        redis.kill();
        // A store made while Redis is down is fine; its calls fail like the others'.
        let late = store(&redis, "t:", POLL);
        let started = Instant::now();
        let err = a.snapshot(std::slice::from_ref(&api)).await.unwrap_err();
        assert!(err.to_string().contains("redis"), "{err}");
        assert!(a.register(&api, host("10.0.0.1:80"), TTL).await.is_err());
        assert!(b.sweep().await.is_err());
        assert!(late.services().await.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "errors come within the timeout"
        );

        redis.restart();
        // Redis came back empty: the host re-registers as new, versions start again.
        eventually(Duration::from_secs(5), "the store answers again", || async {
            a.register(&api, host("10.0.0.1:80"), TTL).await.is_ok()
        })
        .await;
        let snap = a.snapshot(std::slice::from_ref(&api)).await.unwrap();
        assert_eq!((snap.version, snap.services[&api].len()), (1, 1));
        assert_eq!(late.services().await.unwrap(), vec![api.clone()]);
        let next = std::cell::Cell::new(2);
        eventually(Duration::from_secs(10), "B follows A again", || async {
            let i = next.replace(next.get() + 1);
            let done = a
                .register(&api, host(&format!("10.0.1.{i}:80")), TTL)
                .await
                .unwrap();
            sleep(Duration::from_millis(100)).await;
            *b.versions().borrow() == done.version
        })
        .await;
    })
    .await;
}
