//! DnsSource against a real DNS server on 127.0.0.1 (UDP, ephemeral port), in real time: the
//! resolver's sockets do not run on paused time. Bounds are generous; every wait is bounded.

use super::test_server::{Failure, TestDnsServer};
use super::*;
use mesh_core::policy::{DnsBackoff, DnsLookupFamily};
use std::net::IpAddr;
use tokio::time::{Instant, sleep, timeout};

const NAME: &str = "backend.mesh.test";
const PATIENCE: Duration = Duration::from_secs(10);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(server: &TestDnsServer) -> DnsDiscovery {
    DnsDiscovery {
        hostname: NAME.into(),
        port: 8080,
        lookup_family: DnsLookupFamily::All,
        respect_dns_ttl: true,
        refresh_rate: Duration::from_secs(60),
        failure_refresh_rate: DnsBackoff {
            base_interval: Duration::from_millis(100),
            max_interval: Duration::from_millis(200),
        },
        resolvers: vec![server.addr()],
    }
}

fn start(config: DnsDiscovery) -> (watch::Receiver<Arc<EndpointSet>>, SourceHandle) {
    let options = DnsSourceOptions {
        // Long enough that a loaded test machine does not time out a local answer.
        timeout: Duration::from_secs(1),
        attempts: 1,
    };
    DnsSource::new(config, options).start().unwrap()
}

fn addrs(set: &EndpointSet) -> Vec<String> {
    set.endpoints.iter().map(|e| e.address.to_string()).collect()
}

/// Waits (bounded) for a published set that `pred` accepts.
async fn until(
    sets: &mut watch::Receiver<Arc<EndpointSet>>,
    pred: impl FnMut(&Arc<EndpointSet>) -> bool,
) -> Arc<EndpointSet> {
    let seen = timeout(PATIENCE, sets.wait_for(pred)).await;
    let set = seen.expect("no such set in time").expect("the source stopped");
    Arc::clone(&set)
}

async fn first(sets: &mut watch::Receiver<Arc<EndpointSet>>) -> Arc<EndpointSet> {
    until(sets, |s| s.version.is_some()).await
}

/// Polls `cond` every 20ms for at most [`PATIENCE`].
async fn eventually(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "condition not met in {PATIENCE:?}");
        sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_a_and_aaaa_record_is_an_endpoint_sorted_by_address() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(
        NAME,
        &[(ip("127.0.0.2"), 30), (ip("::1"), 30), (ip("127.0.0.1"), 30)],
    );
    let (mut sets, handle) = start(config(&server));
    let set = first(&mut sets).await;
    assert_eq!(addrs(&set), ["127.0.0.1:8080", "127.0.0.2:8080", "[::1]:8080"]);
    assert!(
        set.endpoints
            .iter()
            .all(|e| e.weight.get() == 1 && e.priority == 0 && e.zone.is_none())
    );
    assert_eq!(set.version.as_deref(), Some("1"));
    let stats = handle.stats();
    assert_eq!((stats.updates(), stats.rejected()), (0, 0));
    assert!(stats.last_update().is_some() && stats.last_contact().is_some());
}

#[tokio::test]
async fn a_record_change_is_picked_up_once_a_short_ttl_runs_out() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 1), (ip("127.0.0.2"), 1)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    server.set(NAME, &[(ip("127.0.0.2"), 1)]);
    let set = until(&mut sets, |s| s.endpoints.len() == 1).await;
    assert_eq!(addrs(&set), ["127.0.0.2:8080"]);
    assert_eq!(set.version.as_deref(), Some("2"));
    assert_eq!(handle.stats().updates(), 1);
}

#[tokio::test]
async fn a_long_ttl_defers_the_next_lookup() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 30)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    let asked = server.queries();
    server.set(NAME, &[(ip("127.0.0.2"), 30)]);
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        addrs(&sets.borrow()),
        ["127.0.0.1:8080"],
        "re-resolved before the TTL ran out"
    );
    assert_eq!(server.queries(), asked, "asked again before the TTL ran out");
    assert_eq!(handle.stats().updates(), 0);
}

#[tokio::test]
async fn refresh_rate_caps_a_long_ttl_and_is_the_interval_without_ttl() {
    for respect_dns_ttl in [true, false] {
        let server = TestDnsServer::start().await.unwrap();
        server.set(NAME, &[(ip("127.0.0.1"), 300)]);
        let (mut sets, _handle) = start(DnsDiscovery {
            respect_dns_ttl,
            refresh_rate: Duration::from_millis(300),
            ..config(&server)
        });
        first(&mut sets).await;
        server.set(NAME, &[(ip("127.0.0.3"), 300)]);
        let set = until(&mut sets, |s| s.version.as_deref() == Some("2")).await;
        assert_eq!(
            addrs(&set),
            ["127.0.0.3:8080"],
            "respect_dns_ttl: {respect_dns_ttl}"
        );
    }
}

#[tokio::test]
async fn an_unchanged_or_reordered_answer_publishes_nothing() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 0), (ip("127.0.0.2"), 0)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    server.set(NAME, &[(ip("127.0.0.2"), 0), (ip("127.0.0.1"), 0)]);
    let (asked, since) = (server.queries(), Instant::now());
    // TTL 0 re-resolves every second (the floor), not in a hot loop: two more rounds of A and
    // AAAA take two waits of 1s after the first answer.
    eventually(|| server.queries() >= asked + 4).await;
    assert!(
        since.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        since.elapsed()
    );
    assert!(
        server.queries() <= asked + 8,
        "TTL 0 must not spin: {} queries",
        server.queries() - asked
    );
    assert!(!sets.has_changed().unwrap());
    assert_eq!(handle.stats().updates(), 0);
}

#[tokio::test]
async fn servfail_keeps_the_last_good_set_and_is_counted_once() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 1)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    server.fail_with(Failure::ServFail);
    let stats = handle.stats();
    eventually(|| stats.rejected() == 1).await;
    let asked = server.queries();
    eventually(|| server.queries() >= asked + 4).await; // several retries, each failing alike
    assert_eq!(addrs(&sets.borrow()), ["127.0.0.1:8080"]);
    assert!(!sets.has_changed().unwrap());
    assert_eq!(stats.rejected(), 1, "one persistent error is counted once");
    let error = stats.last_error().unwrap();
    assert!(
        error.contains(NAME) && error.contains("Server Failure"),
        "{error}"
    );
    assert!(stats.staleness().unwrap() >= Duration::from_millis(500));

    server.set(NAME, &[(ip("127.0.0.4"), 1)]);
    server.recover();
    let set = until(&mut sets, |s| s.version.as_deref() == Some("2")).await;
    assert_eq!(addrs(&set), ["127.0.0.4:8080"]);
    assert!(stats.staleness().unwrap() < PATIENCE);
}

#[tokio::test]
async fn a_silent_nameserver_keeps_the_last_good_set() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 1)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    server.fail_with(Failure::Silent);
    let stats = handle.stats();
    eventually(|| stats.rejected() >= 1).await;
    sleep(Duration::from_millis(700)).await;
    assert_eq!(addrs(&sets.borrow()), ["127.0.0.1:8080"]);
    assert!(!sets.has_changed().unwrap());
    assert!(
        stats.last_error().unwrap().contains("timed out"),
        "{:?}",
        stats.last_error()
    );
}

#[tokio::test]
async fn a_good_empty_answer_empties_the_cluster_as_in_envoy() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 1)]);
    let (mut sets, handle) = start(config(&server));
    first(&mut sets).await;
    server.remove(NAME); // NXDOMAIN
    let set = until(&mut sets, |s| s.endpoints.is_empty()).await;
    assert_eq!(set.version.as_deref(), Some("2"));
    assert_eq!(
        handle.stats().rejected(),
        0,
        "NXDOMAIN is an answer, not a failure"
    );

    server.set(NAME, &[]); // NOERROR, no records
    let (mut sets, _handle) = start(config(&server));
    let set = first(&mut sets).await;
    assert!(set.endpoints.is_empty());
}

#[tokio::test]
async fn lookup_family_picks_the_records() {
    let server = TestDnsServer::start().await.unwrap();
    server.set(NAME, &[(ip("127.0.0.1"), 30), (ip("::1"), 30)]);
    server.set("v4.mesh.test", &[(ip("127.0.0.7"), 30)]);
    let cases = [
        (NAME, DnsLookupFamily::V4Only, vec!["127.0.0.1:8080"]),
        (NAME, DnsLookupFamily::V6Only, vec!["[::1]:8080"]),
        (NAME, DnsLookupFamily::Auto, vec!["[::1]:8080"]),
        ("v4.mesh.test", DnsLookupFamily::Auto, vec!["127.0.0.7:8080"]),
        ("v4.mesh.test", DnsLookupFamily::V6Only, Vec::<&str>::new()),
    ];
    for (name, lookup_family, want) in cases {
        let (mut sets, _handle) = start(DnsDiscovery {
            hostname: name.into(),
            lookup_family,
            ..config(&server)
        });
        assert_eq!(addrs(&*first(&mut sets).await), want, "{name} {lookup_family:?}");
    }
}

#[test]
fn failure_backoff_doubles_within_its_bounds_and_keeps_the_upper_half() {
    let bounds = DnsBackoff {
        base_interval: Duration::from_secs(1),
        max_interval: Duration::from_secs(10),
    };
    let mut rng = SmallRng::seed_from_u64(7);
    for failures in 0..40 {
        let ceiling = Duration::from_secs(1 << failures.min(4)).min(bounds.max_interval);
        for _ in 0..50 {
            let pause = backoff(bounds, failures, &mut rng);
            assert!(
                pause >= ceiling / 2 && pause <= ceiling,
                "{failures}: {pause:?} vs {ceiling:?}"
            );
        }
    }
}

#[tokio::test]
async fn start_does_not_wait_for_dns_and_stops_with_its_receivers() {
    let server = TestDnsServer::start().await.unwrap();
    server.fail_with(Failure::Silent);
    let (sets, handle) = start(config(&server));
    assert_eq!(
        **sets.borrow(),
        EndpointSet::default(),
        "starts empty, with no version"
    );
    drop(sets);
    eventually(|| handle.is_finished()).await;
}
