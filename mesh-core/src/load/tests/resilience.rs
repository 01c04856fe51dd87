//! The resilience keys: a document template shared by their tests, the defaults, circuit
//! breakers, and several mistakes at once. Retries are in `retry.rs`, faults and mirrors in
//! `fault.rs`, rate and connection limits in `rate_limit.rs`.

use super::*;
use crate::policy::{Forward, Route, RoutingPriority, Thresholds, VirtualHost};

/// One http listener (`web`) with one `*` virtual host and one `prefix: /` route to
/// cluster `web`; a second cluster `shadow` for mirrors. Each slot is spliced in as is.
#[derive(Default)]
pub(super) struct Doc<'a> {
    /// Whole lines under the listener, indented 4.
    pub listener: &'a str,
    /// Whole lines under the virtual host, indented 8.
    pub vhost: &'a str,
    /// Flow-mapping entries after the route's `route:`, starting with `, `.
    pub route: &'a str,
    /// Flow-mapping entries after `cluster: web` in the route action, starting with `, `.
    pub action: &'a str,
    /// Whole lines under cluster `web`, indented 4.
    pub cluster: &'a str,
}

impl Doc<'_> {
    pub fn yaml(&self) -> String {
        let Doc {
            listener,
            vhost,
            route,
            action,
            cluster,
        } = self;
        format!(
            r#"listeners:
  - name: web
    address: 127.0.0.1:10000
{listener}    virtual_hosts:
      - name: all
        domains: ["*"]
{vhost}        routes:
          - {{ match: {{ prefix: "/" }}, route: {{ cluster: web{action} }}{route} }}
clusters:
  - name: web
    endpoints: [ {{ address: "127.0.0.1:8081" }} ]
{cluster}  - name: shadow
    endpoints: []
"#
        )
    }
}

pub(super) const VHOST: &str = "listeners[0].virtual_hosts[0]";
pub(super) const ROUTE: &str = "listeners[0].virtual_hosts[0].routes[0]";

pub(super) fn vhost(cfg: &Bootstrap) -> &VirtualHost {
    let ListenerKind::Http(http) = &cfg.listeners[0].kind else {
        panic!("http listener")
    };
    http.virtual_hosts.iter().next().unwrap()
}

pub(super) fn route(cfg: &Bootstrap) -> &Route {
    &vhost(cfg).routes[0]
}

pub(super) fn forward(cfg: &Bootstrap) -> &Forward {
    let Action::Route(f) = &route(cfg).action else {
        panic!("forwarding route")
    };
    f
}

#[test]
fn defaults_when_no_resilience_key_is_set() {
    let cfg = valid(&Doc::default().yaml());
    let cb = &cfg.clusters[0].circuit_breakers;
    for t in [&cb.default, &cb.high] {
        assert_eq!(
            (
                t.max_connections,
                t.max_pending_requests,
                t.max_requests,
                t.max_retries
            ),
            (1024, 1024, 1024, 3)
        );
        assert!(t.retry_budget.is_none());
    }
    let f = forward(&cfg);
    assert!(f.retry_policy.is_none() && f.idle_timeout.is_none());
    assert_eq!(f.per_request_buffer_limit_bytes, 1_048_576);
    assert_eq!(f.priority, RoutingPriority::Default);
    assert!(f.request_mirror_policies.is_empty());
    assert!(route(&cfg).fault.is_none() && route(&cfg).local_rate_limit.is_none());
    assert!(vhost(&cfg).local_rate_limit.is_none());
    let l = &cfg.listeners[0];
    assert!(l.max_connections.is_none() && l.connection_rate_limit.is_none());
    let ListenerKind::Http(http) = &l.kind else {
        panic!("http")
    };
    assert!(http.options.local_rate_limit.is_none());
}

#[test]
fn circuit_breaker_thresholds_per_priority() {
    let cfg = valid(
        &Doc {
            cluster: "    circuit_breakers:\n      thresholds:\n        - { max_requests: 10, retry_budget: {} }\n        - { priority: HIGH, max_connections: 5, max_retries: 0, retry_budget: { budget_percent: 12.5, min_retry_concurrency: 1 } }\n",
            action: ", priority: high",
            ..Doc::default()
        }
        .yaml(),
    );
    let cb = &cfg.clusters[0].circuit_breakers;
    assert_eq!((cb.default.max_requests, cb.default.max_connections), (10, 1024));
    let budget = cb.default.retry_budget.unwrap();
    assert_eq!(
        (budget.budget_percent.get(), budget.min_retry_concurrency),
        (20.0, 3)
    );
    assert_eq!(
        (cb.high.max_connections, cb.high.max_retries, cb.high.max_requests),
        (5, 0, 1024)
    );
    let high = cb.high.retry_budget.unwrap();
    assert_eq!((high.budget_percent.get(), high.min_retry_concurrency), (12.5, 1));
    assert_eq!(forward(&cfg).priority, RoutingPriority::High);
    assert_eq!(cb.for_priority(forward(&cfg).priority), &cb.high);
    assert_eq!(cb.for_priority(RoutingPriority::Default).max_requests, 10);
    assert_eq!(Thresholds::default().max_retries, 3);
}

#[test]
fn circuit_breaker_mistakes_name_their_keys() {
    let cb = |t: &str| {
        Doc {
            cluster: &format!("    circuit_breakers: {{ thresholds: [ {t} ] }}\n"),
            ..Doc::default()
        }
        .yaml()
    };
    let at = "clusters[0].circuit_breakers.thresholds";
    // An omitted priority is `default`, so these two collide.
    only_error(
        &cb("{ max_requests: 1 }, { priority: default }"),
        &format!("{at}[1].priority"),
        "priority default already has thresholds[0]",
    );
    only_error(
        &cb("{ priority: high }, { priority: default }, { priority: high }"),
        &format!("{at}[2].priority"),
        "priority high already has thresholds[0]",
    );
    only_error(
        &cb("{ retry_budget: { budget_percent: 150.0 } }"),
        &format!("{at}[0].retry_budget.budget_percent"),
        "150 is not a percentage in 0..=100",
    );
    // A repeated priority's own mistakes are reported with the repetition.
    let both: Vec<String> = errors(&cb("{}, { retry_budget: { budget_percent: 101 } }"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        both,
        [
            format!("{at}[1].retry_budget.budget_percent"),
            format!("{at}[1].priority")
        ]
    );
    // Counts are u32: a negative one is a shape error, found before any semantic check.
    let errs = errors(&cb("{ max_requests: -1 }"));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let urgent = errors(
        &Doc {
            action: ", priority: urgent",
            ..Doc::default()
        }
        .yaml(),
    );
    assert!(urgent[0].1.contains("urgent"), "{urgent:#?}");
}

#[test]
fn mistakes_in_several_resilience_keys_are_reported_together() {
    let yaml = Doc {
        listener: "    max_connections: 0\n",
        route: ", fault: { abort: { grpc_status: 99 } }",
        action: ", request_mirror_policies: [ { cluster: nope } ], retry_policy: { retry_on: \"5xx,nope\" }",
        cluster: "    circuit_breakers: { thresholds: [ {}, {} ] }\n",
        ..Doc::default()
    }
    .yaml();
    let mut paths: Vec<String> = errors(&yaml).into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "clusters[0].circuit_breakers.thresholds[1].priority".to_owned(),
            "listeners[0].max_connections".to_owned(),
            format!("{ROUTE}.fault.abort.grpc_status"),
            format!("{ROUTE}.route.request_mirror_policies[0].cluster"),
            format!("{ROUTE}.route.retry_policy.retry_on"),
        ]
    );
}
