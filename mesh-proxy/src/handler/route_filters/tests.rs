use super::*;
use crate::stats::Stats;
use mesh_core::policy::{HttpListener, ListenerKind};
use mesh_filters::fault::{AbortSource, DelaySource, FaultPercentage};
use std::time::Duration;

const YAML: &str = r#"
listeners:
  - name: web
    address: 127.0.0.1:0
    local_rate_limit: { max_tokens: 10, fill_interval: 60s }
    virtual_hosts:
      - name: limited
        domains: ["limited.test"]
        local_rate_limit: { max_tokens: 2, fill_interval: 60s }
        routes:
          - { match: { prefix: "/own" }, local_rate_limit: { max_tokens: 3, fill_interval: 60s }, direct_response: { status: 200 } }
          - { match: { prefix: "/a" }, direct_response: { status: 200 } }
          - { match: { prefix: "/b" }, direct_response: { status: 200 } }
      - name: rest
        domains: ["*"]
        routes:
          - { match: { prefix: "/abort" }, fault: { abort: { http_status: 503, percentage: 50 }, max_active_faults: 7 }, direct_response: { status: 200 } }
          - { match: { prefix: "/grpc" }, fault: { abort: { grpc_status: 14 } }, direct_response: { status: 200 } }
          - { match: { prefix: "/delay" }, fault: { delay: { fixed_delay: 2s } }, direct_response: { status: 200 } }
          - { match: { prefix: "/header" }, fault: { header_control: true }, direct_response: { status: 200 } }
          - { match: { prefix: "/" }, route: { cluster: b } }
clusters:
  - { name: b, endpoints: [ { address: "127.0.0.1:1" } ] }
"#;

fn policy() -> HttpListener {
    let config = mesh_core::load::from_yaml(YAML, "t.yaml").unwrap();
    match &config.listeners[0].kind {
        ListenerKind::Http(h) => h.clone(),
        ListenerKind::Tcp(_) => unreachable!(),
    }
}

fn filters(policy: &HttpListener) -> RouteFilters {
    RouteFilters::build("web", policy, &Stats::new()).unwrap()
}

/// The filters of route `r` of virtual host `h`, found the way the request path finds them.
fn of<'a>(f: &'a RouteFilters, policy: &HttpListener, h: usize, r: usize) -> &'a Filters {
    let vhost = policy.virtual_hosts.iter().nth(h).unwrap();
    f.lookup(&policy.virtual_hosts, vhost, &vhost.routes[r]).unwrap()
}

#[test]
fn every_route_finds_its_own_slot_and_foreign_references_find_none() {
    let policy = policy();
    let f = filters(&policy);
    for (h, vhost) in policy.virtual_hosts.iter().enumerate() {
        for (r, route) in vhost.routes.iter().enumerate() {
            let found = f.lookup(&policy.virtual_hosts, vhost, route).unwrap();
            assert!(std::ptr::eq(found, &f.hosts[h][r]), "vhost {h} route {r}");
        }
    }
    // Equal values elsewhere in memory are not the policy's routes.
    let vhost = policy.virtual_hosts.iter().next().unwrap();
    let copy = vhost.routes[1].clone();
    assert!(f.lookup(&policy.virtual_hosts, vhost, &copy).is_none());
    assert!(
        f.lookup(&policy.virtual_hosts, &vhost.clone(), &vhost.routes[0])
            .is_none()
    );
    assert_eq!(index_of([1u8, 2, 3].iter(), &3), None);
}

#[test]
fn the_most_specific_bucket_applies_and_fallbacks_are_shared() {
    let policy = policy();
    let f = filters(&policy);
    let bucket = |h, r| of(&f, &policy, h, r).bucket.clone().unwrap();
    assert_eq!(bucket(0, 0).max_tokens(), 3, "the route's own");
    assert_eq!(bucket(0, 1).max_tokens(), 2, "the virtual host's");
    assert!(
        Arc::ptr_eq(&bucket(0, 1), &bucket(0, 2)),
        "one vhost bucket for its routes"
    );
    assert_eq!(bucket(1, 0).max_tokens(), 10, "the listener's");
    assert!(Arc::ptr_eq(&bucket(1, 0), &bucket(1, 4)));
}

#[test]
fn faults_map_onto_the_filter_policy() {
    let policy = policy();
    let f = filters(&policy);
    let fault = |r| of(&f, &policy, 1, r).fault.as_ref().unwrap().policy().clone();
    let abort = fault(0);
    let a = abort.abort().unwrap();
    assert_eq!(a.source(), AbortSource::Http(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(a.percentage().get(), 500_000);
    assert_eq!(abort.max_active_faults(), Some(7));
    assert_eq!(fault(1).abort().unwrap().source(), AbortSource::Grpc(14));
    let delay = fault(2);
    assert_eq!(
        delay.delay().unwrap().source(),
        DelaySource::Fixed(Duration::from_secs(2))
    );
    assert_eq!(delay.delay().unwrap().percentage(), FaultPercentage::HUNDRED);
    let header = fault(3);
    assert_eq!(header.delay().unwrap().source(), DelaySource::Header);
    assert_eq!(header.abort().unwrap().source(), AbortSource::Header);
    assert!(of(&f, &policy, 1, 4).fault.is_none());
}

#[tokio::test(start_paused = true)]
async fn apply_limits_then_delays_then_aborts() {
    let policy = policy();
    let f = filters(&policy);
    let hosts = &policy.virtual_hosts;
    let limited = hosts.iter().next().unwrap();
    let rest = hosts.iter().nth(1).unwrap();
    let req = || Request::new(());

    for _ in 0..3 {
        assert!(f.apply(hosts, limited, &limited.routes[0], req()).await.is_ok());
    }
    match f.apply(hosts, limited, &limited.routes[0], req()).await {
        Err(ProxyError::RateLimited(l)) => assert_eq!(l.retry_after_secs(), 60),
        other => panic!("{:?}", other.err()),
    }

    let started = tokio::time::Instant::now();
    let admitted = f.apply(hosts, rest, &rest.routes[2], req()).await.unwrap();
    assert_eq!(admitted.delayed, Some(InjectedDelay(Duration::from_secs(2))));
    assert!(started.elapsed() >= Duration::from_secs(2));

    match f.apply(hosts, rest, &rest.routes[1], req()).await {
        Err(ProxyError::FaultAbort(a)) => assert_eq!((a.status, a.grpc_status), (None, Some(14))),
        other => panic!("{:?}", other.err()),
    }
    // Header control: nothing without the headers, the asked-for status with them.
    assert!(f.apply(hosts, rest, &rest.routes[3], req()).await.is_ok());
    let mut asking = req();
    asking
        .headers_mut()
        .insert(&mesh_filters::fault::FAULT_ABORT_REQUEST, "418".parse().unwrap());
    match f.apply(hosts, rest, &rest.routes[3], asking).await {
        Err(ProxyError::FaultAbort(a)) => assert_eq!(a.status, Some(StatusCode::IM_A_TEAPOT)),
        other => panic!("{:?}", other.err()),
    }
}
