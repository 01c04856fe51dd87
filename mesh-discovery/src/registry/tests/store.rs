//! The memory store and the sweep, under paused time.

use super::*;
use tokio::time::sleep;

const TTL: Duration = Duration::from_secs(3);

#[tokio::test(start_paused = true)]
async fn register_shows_in_the_snapshot_and_bumps_the_version() {
    let store = MemoryStore::new();
    let (api, web) = (name("api"), name("web"));
    let mut versions = store.versions();
    let empty = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
    assert_eq!((empty.version, empty.services[&api].len()), (0, 0));

    let done = store
        .register(&api, Instance::new(addr("10.0.0.1:80")), TTL)
        .await
        .unwrap();
    assert_eq!(
        done,
        Registered {
            created: true,
            version: 1
        }
    );
    assert!(versions.has_changed().unwrap());
    assert_eq!(*versions.borrow_and_update(), 1);
    store
        .register(&web, Instance::new(addr("10.0.0.9:80")), TTL)
        .await
        .unwrap();

    let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
    // The read's version is that of api's last change, not web's later one.
    assert_eq!(snap.version, 1);
    assert_eq!(snap.services[&api], vec![Instance::new(addr("10.0.0.1:80"))]);
    let both = store.snapshot(&[api.clone(), web.clone()]).await.unwrap();
    assert_eq!((both.version, both.services.len()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn a_heartbeat_that_changes_nothing_keeps_the_version() {
    let store = MemoryStore::new();
    let api = name("api");
    let mut host = Instance::new(addr("10.0.0.1:80"));
    store.register(&api, host.clone(), TTL).await.unwrap();
    let mut versions = store.versions();
    versions.borrow_and_update();

    let again = store.register(&api, host.clone(), TTL).await.unwrap();
    assert_eq!(
        again,
        Registered {
            created: false,
            version: 1
        }
    );
    assert!(!versions.has_changed().unwrap());

    host.zone = Some("us-east-1a".into());
    let changed = store.register(&api, host.clone(), TTL).await.unwrap();
    assert_eq!(
        changed,
        Registered {
            created: false,
            version: 2
        }
    );
    assert_eq!(
        store.snapshot(std::slice::from_ref(&api)).await.unwrap().services[&api],
        vec![host]
    );
}

#[tokio::test(start_paused = true)]
async fn the_sweep_expires_a_host_that_stops_heartbeating() {
    let registry = Registry::new(RegistryConfig {
        heartbeat_interval: Duration::from_secs(1),
        ..RegistryConfig::default()
    })
    .unwrap();
    assert_eq!(registry.ttl(), TTL);
    let store = registry.store();
    let _server = registry
        .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let api = name("api");
    let (alive, dying) = (
        Instance::new(addr("10.0.0.1:80")),
        Instance::new(addr("10.0.0.2:80")),
    );
    store.register(&api, alive.clone(), TTL).await.unwrap();
    store.register(&api, dying, TTL).await.unwrap();

    // `alive` beats every second for 6s; `dying` never again. The sweep runs every TTL/3 = 1s.
    for _ in 0..6 {
        sleep(Duration::from_secs(1)).await;
        store.register(&api, alive.clone(), TTL).await.unwrap();
    }
    let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
    assert_eq!(snap.services[&api], vec![alive]);
    assert_eq!(snap.version, 3, "one bump for the expiry, none for the beats");

    // Then `alive` stops too: gone within TTL + one sweep interval.
    sleep(TTL + Duration::from_secs(1)).await;
    let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
    assert!(snap.services[&api].is_empty());
    assert_eq!(snap.version, 4);
}

#[tokio::test(start_paused = true)]
async fn deregister_takes_effect_at_once() {
    let store = MemoryStore::new();
    let api = name("api");
    store
        .register(&api, Instance::new(addr("10.0.0.1:80")), TTL)
        .await
        .unwrap();
    assert_eq!(
        store.deregister(&api, addr("10.0.0.1:80")).await.unwrap(),
        Some(2)
    );
    assert_eq!(store.deregister(&api, addr("10.0.0.1:80")).await.unwrap(), None);
    assert_eq!(
        store
            .deregister(&name("nobody"), addr("10.0.0.1:80"))
            .await
            .unwrap(),
        None
    );
    let snap = store.snapshot(std::slice::from_ref(&api)).await.unwrap();
    assert!(snap.services[&api].is_empty());
    assert_eq!(
        snap.version, 2,
        "an empty service keeps the version of its last change"
    );
}

#[tokio::test(start_paused = true)]
async fn services_lists_only_those_with_live_instances_sorted() {
    let store = MemoryStore::new();
    assert!(store.services().await.unwrap().is_empty());
    for (service, host) in [
        ("web", "10.0.0.1:80"),
        ("api", "10.0.0.2:80"),
        ("db", "10.0.0.3:80"),
    ] {
        store
            .register(&name(service), Instance::new(addr(host)), TTL)
            .await
            .unwrap();
    }
    assert_eq!(
        store.services().await.unwrap(),
        [name("api"), name("db"), name("web")]
    );

    store.deregister(&name("db"), addr("10.0.0.3:80")).await.unwrap();
    assert_eq!(store.services().await.unwrap(), [name("api"), name("web")]);

    sleep(TTL + Duration::from_millis(1)).await;
    store.sweep().await.unwrap();
    assert!(
        store.services().await.unwrap().is_empty(),
        "expired services are not live"
    );
}

#[test]
fn names_and_config_are_validated() {
    assert!(ServiceName::new("api.v2_eu-1").is_ok());
    for bad in ["", "a b", "a/b", "é", &"x".repeat(129)] {
        assert!(ServiceName::new(bad).is_err(), "{bad:?}");
    }
    let zero = RegistryConfig {
        heartbeat_interval: Duration::ZERO,
        ..RegistryConfig::default()
    };
    assert_eq!(Registry::new(zero).unwrap_err().field, "heartbeat_interval");
    let short = RegistryConfig {
        ttl: Some(Duration::from_secs(1)),
        ..RegistryConfig::default()
    };
    assert_eq!(Registry::new(short).unwrap_err().field, "ttl");
    let registry = Registry::new(RegistryConfig::default()).unwrap();
    assert_eq!(registry.ttl(), Duration::from_secs(180));
}

#[tokio::test(start_paused = true)]
async fn services_lists_those_with_hosts_sorted_until_they_expire_or_leave() {
    let store = MemoryStore::new();
    assert!(store.services().await.unwrap().is_empty());
    for (service, host) in [
        ("web", "10.0.0.1:80"),
        ("api", "10.0.0.2:80"),
        ("db", "10.0.0.3:80"),
    ] {
        store
            .register(&name(service), Instance::new(addr(host)), TTL)
            .await
            .unwrap();
    }
    assert_eq!(
        store.services().await.unwrap(),
        vec![name("api"), name("db"), name("web")]
    );
    store.deregister(&name("db"), addr("10.0.0.3:80")).await.unwrap();
    assert_eq!(store.services().await.unwrap(), vec![name("api"), name("web")]);
    sleep(TTL + Duration::from_secs(1)).await;
    store.sweep().await.unwrap();
    assert!(
        store.services().await.unwrap().is_empty(),
        "an empty service is not listed"
    );
}
