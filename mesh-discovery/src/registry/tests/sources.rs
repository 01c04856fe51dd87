//! RegistrySource and Heartbeat against real (and deliberately broken) registries.

use super::*;
use crate::EndpointSet;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::timeout;

const SECOND: Duration = Duration::from_secs(1);

fn fast() -> RegistrySourceOptions {
    RegistrySourceOptions {
        wait: Duration::from_secs(5),
        timeout_margin: SECOND,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    }
}

async fn until(sets: &mut watch::Receiver<Arc<EndpointSet>>, f: impl FnMut(&Arc<EndpointSet>) -> bool) {
    timeout(Duration::from_secs(2), sets.wait_for(f))
        .await
        .unwrap()
        .unwrap();
}

/// Polls `f` every 10ms for up to 2s.
async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 2s");
}

#[tokio::test]
async fn a_registry_source_streams_registrations_and_keeps_the_set_when_the_registry_goes() {
    let (server, store) = serve(config(Duration::from_secs(3600))).await;
    let api = name("api");
    let source = RegistrySource::new(server.local_addr(), api.clone(), fast());
    let (mut sets, handle) = source.start().unwrap();
    assert_eq!(
        **sets.borrow(),
        EndpointSet::default(),
        "empty until the registry answers"
    );
    until(&mut sets, |s| s.version.as_deref() == Some("0")).await;
    assert!(handle.stats().last_contact().is_some());

    let mut host = Instance::new(addr("10.0.0.1:80"));
    host.zone = Some("a".into());
    host.weight = Some(3);
    host.tags.insert("canary".into(), "true".into());
    host.health_check = Some("/healthz".into());
    let registered = std::time::Instant::now();
    store
        .register(&api, host, Duration::from_secs(3600))
        .await
        .unwrap();
    until(&mut sets, |s| s.endpoints.len() == 1).await;
    assert!(registered.elapsed() < SECOND, "streamed, not polled");
    let set = sets.borrow_and_update().clone();
    assert_eq!(set.version.as_deref(), Some("1"));
    let e = &set.endpoints[0];
    assert_eq!(
        (e.address, e.weight.get(), e.priority, e.zone.as_deref()),
        (addr("10.0.0.1:80"), 3, 0, Some("a"))
    );
    assert_eq!(e.metadata["canary"], "true");
    assert_eq!(e.metadata[METADATA_HEALTH_CHECK], "/healthz");
    assert_eq!(handle.stats().updates(), 1);

    // The registry goes away: the set stays, the failure is counted, staleness grows.
    drop(server);
    let stats = handle.stats();
    eventually(|| stats.rejected() >= 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*sets.borrow(), set);
    assert!(stats.staleness().unwrap() >= Duration::from_millis(100));
    assert!(
        stats.last_error().unwrap().contains("registry"),
        "{:?}",
        stats.last_error()
    );
}

/// A registry stand-in answering each connection with the next of `replies` (the last one
/// repeats), then closing it.
async fn scripted(replies: Vec<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let body = replies[n.min(replies.len() - 1)];
            n += 1;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    local
}

fn http(status: &str, body: &str) -> &'static str {
    let text = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    Box::leak(text.into_boxed_str())
}

#[tokio::test]
async fn errors_and_garbage_keep_the_last_good_set() {
    let good = http(
        "200 OK",
        r#"{"version":7,"instances":[{"address":"10.0.0.1:80","tags":{}}]}"#,
    );
    let registry = scripted(vec![
        good,
        http("500 Internal Server Error", r#"{"error":"boom"}"#),
        http("200 OK", "<html>not json</html>"),
        http(
            "200 OK",
            r#"{"version":8,"instances":[{"address":"10.0.0.1:80","weight":0}]}"#,
        ),
        "garbage that is not HTTP\r\n\r\n",
    ])
    .await;
    let (mut sets, handle) = RegistrySource::new(registry, name("api"), fast())
        .start()
        .unwrap();
    until(&mut sets, |s| s.version.as_deref() == Some("7")).await;
    let set = sets.borrow_and_update().clone();
    let stats = handle.stats();
    // 500, not JSON, weight 0, not HTTP: four distinct failures, each counted once.
    eventually(|| stats.rejected() >= 4).await;
    assert_eq!(*sets.borrow(), set);
    assert_eq!(set.endpoints.len(), 1);
    assert_eq!(stats.updates(), 0);
    assert!(!sets.has_changed().unwrap());
}

#[tokio::test]
async fn a_heartbeat_registers_keeps_alive_past_the_ttl_and_deregisters_on_shutdown() {
    // TTL 600ms, sweep every 200ms, beats every 200ms: roomy enough for a loaded CI machine.
    let interval = Duration::from_millis(200);
    let (server, store) = serve(config(interval)).await;
    let api = name("api");
    let mut host = Instance::new(addr("10.0.0.1:80"));
    host.zone = Some("b".into());
    let beat = Heartbeat::new(server.local_addr(), api.clone(), host.clone(), interval)
        .start()
        .unwrap();
    let listed = |store: Arc<MemoryStore>| {
        let api = api.clone();
        async move { store.snapshot(std::slice::from_ref(&api)).await.unwrap().services[&api].clone() }
    };
    let stats = beat.stats();
    eventually(|| stats.beats() >= 1).await;
    assert_eq!(listed(Arc::clone(&store)).await, vec![host.clone()]);

    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        listed(Arc::clone(&store)).await,
        vec![host.clone()],
        "alive three TTLs later"
    );
    assert!(stats.beats() >= 4);
    let version = store.snapshot(std::slice::from_ref(&api)).await.unwrap().version;
    assert_eq!(version, 1, "beats that change nothing leave the version alone");

    timeout(SECOND, beat.shutdown()).await.unwrap().unwrap();
    assert!(
        listed(Arc::clone(&store)).await.is_empty(),
        "gone at once, not a TTL later"
    );

    // A host that just stops (crash, or the handle dropped) expires after the TTL.
    let crashed = Heartbeat::new(server.local_addr(), api.clone(), host, interval)
        .start()
        .unwrap();
    let stats = crashed.stats();
    eventually(|| stats.beats() >= 1).await;
    drop(crashed);
    assert_eq!(listed(Arc::clone(&store)).await.len(), 1);
    let dropped = std::time::Instant::now();
    timeout(Duration::from_secs(3), async {
        while !listed(Arc::clone(&store)).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert!(
        dropped.elapsed() >= Duration::from_millis(300),
        "expired by the TTL, not removed"
    );
}
