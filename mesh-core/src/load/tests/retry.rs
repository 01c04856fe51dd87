//! `retry_policy` on routes and virtual hosts, and the other route-action resilience keys
//! (`per_request_buffer_limit_bytes`, `idle_timeout`): defaults, inheritance, key-path errors.

use super::resilience::{Doc, ROUTE, VHOST, forward, vhost};
use super::*;
use crate::policy::{Condition, RetryHostPredicate, RetryOn, RetryPolicy};

fn policy(cfg: &Bootstrap) -> &RetryPolicy {
    forward(cfg).retry_policy.as_ref().expect("a retry policy")
}

#[test]
fn a_retry_policy_takes_envoys_defaults() {
    let cfg = valid(
        &Doc {
            action: ", retry_policy: { retry_on: 5xx }",
            ..Doc::default()
        }
        .yaml(),
    );
    let p = policy(&cfg);
    assert_eq!(p.retry_on, RetryOn::from(Condition::FiveXx));
    assert_eq!(p.num_retries, 1);
    assert_eq!(p.per_try_timeout, None);
    let b = p.retry_back_off;
    assert_eq!(
        (b.base_interval(), b.max_interval()),
        (Duration::from_millis(25), Duration::from_millis(250))
    );
    assert!(p.retriable_status_codes.is_empty() && p.retry_host_predicate.is_empty());
    assert!(!p.avoids_previous_hosts());
    assert_eq!(p.host_selection_retry_max_attempts, 1);
    assert!(p.rate_limited_retry_back_off.is_none());
    assert!(!p.hedge_policy.hedge_on_per_try_timeout);
    assert_eq!(
        p,
        &RetryPolicy {
            retry_on: p.retry_on,
            ..RetryPolicy::default()
        }
    );
    // A policy without retry_on is valid and retries nothing, as in Envoy.
    let cfg = valid(
        &Doc {
            action: ", retry_policy: {}",
            ..Doc::default()
        }
        .yaml(),
    );
    assert!(policy(&cfg).retry_on.is_empty());
}

#[test]
fn every_retry_key_is_read() {
    let action = r#", retry_policy: {
        retry_on: "5xx, reset,connect-failure,retriable-status-codes,unavailable",
        num_retries: 3, per_try_timeout: 2s,
        retry_back_off: { base_interval: 100ms, max_interval: 1s },
        retriable_status_codes: [409, 503],
        retry_host_predicate: [previous_hosts], host_selection_retry_max_attempts: 5,
        rate_limited_retry_back_off: {},
        hedge_policy: { hedge_on_per_try_timeout: true } },
      per_request_buffer_limit_bytes: 4096, idle_timeout: 30s"#;
    let cfg = valid(
        &Doc {
            action,
            ..Doc::default()
        }
        .yaml(),
    );
    let p = policy(&cfg);
    assert_eq!(
        p.retry_on.to_string(),
        "5xx,reset,connect-failure,retriable-status-codes,unavailable"
    );
    assert!(p.retry_on.contains(Condition::Unavailable) && !p.retry_on.contains(Condition::GatewayError));
    assert_eq!(
        (p.num_retries, p.per_try_timeout),
        (3, Some(Duration::from_secs(2)))
    );
    let b = p.retry_back_off;
    assert_eq!(
        (b.base_interval(), b.max_interval()),
        (Duration::from_millis(100), Duration::from_secs(1))
    );
    assert_eq!(p.retriable_status_codes, [409, 503]);
    assert_eq!(p.retry_host_predicate, [RetryHostPredicate::PreviousHosts]);
    assert!(p.avoids_previous_hosts());
    assert_eq!(p.host_selection_retry_max_attempts, 5);
    assert_eq!(
        p.rate_limited_retry_back_off.map(|r| r.max_interval),
        Some(Duration::from_secs(300))
    );
    assert!(p.hedge_policy.hedge_on_per_try_timeout);
    let f = forward(&cfg);
    assert_eq!(
        (f.per_request_buffer_limit_bytes, f.idle_timeout),
        (4096, Some(Duration::from_secs(30)))
    );
}

#[test]
fn zero_durations_and_derived_defaults() {
    let action = ", retry_policy: { per_try_timeout: 0s, retry_back_off: { base_interval: 40ms }, retry_host_predicate: [envoy.retry_host_predicates.previous_hosts], rate_limited_retry_back_off: { max_interval: 10s } }, idle_timeout: 0s";
    let cfg = valid(
        &Doc {
            action,
            ..Doc::default()
        }
        .yaml(),
    );
    let p = policy(&cfg);
    assert_eq!(p.per_try_timeout, None, "0s means no per-try timeout");
    assert_eq!(
        p.retry_back_off.max_interval(),
        Duration::from_millis(400),
        "10 × base"
    );
    assert!(
        p.avoids_previous_hosts(),
        "Envoy's full extension name is accepted"
    );
    assert_eq!(
        p.rate_limited_retry_back_off.map(|r| r.max_interval),
        Some(Duration::from_secs(10))
    );
    assert_eq!(forward(&cfg).idle_timeout, None, "0s means no idle timeout");
}

#[test]
fn routes_without_a_policy_inherit_the_virtual_hosts_whole() {
    let yaml = r#"
listeners:
  - name: web
    address: 127.0.0.1:10000
    virtual_hosts:
      - name: all
        domains: ["*"]
        retry_policy: { retry_on: "reset,gateway-error", num_retries: 2, per_try_timeout: 1s }
        routes:
          - { match: { prefix: "/own" }, route: { cluster: web, retry_policy: { retry_on: 5xx } } }
          - { match: { prefix: "/" }, route: { cluster: web } }
clusters: [ { name: web } ]
"#;
    let cfg = valid(yaml);
    let policies: Vec<_> = vhost(&cfg)
        .routes
        .iter()
        .map(|r| match &r.action {
            Action::Route(f) => f.retry_policy.clone().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    // The route's own policy replaces the virtual host's as a whole (Envoy does not merge).
    assert_eq!(policies[0].retry_on.to_string(), "5xx");
    assert_eq!((policies[0].num_retries, policies[0].per_try_timeout), (1, None));
    assert_eq!(policies[1].retry_on.to_string(), "gateway-error,reset");
    assert_eq!(
        (policies[1].num_retries, policies[1].per_try_timeout),
        (2, Some(Duration::from_secs(1)))
    );
}

#[test]
fn retry_mistakes_name_their_keys() {
    let cases = [
        (
            r#"{ retry_on: "5xx,bogus" }"#,
            "retry_on",
            r#""bogus" is not a retry_on condition (known: 5xx, gateway-error,"#,
        ),
        ("{ per_try_timeout: 2 }", "per_try_timeout", "no unit"),
        (
            "{ retry_back_off: { base_interval: 0s } }",
            "retry_back_off.base_interval",
            "greater than 0s",
        ),
        (
            "{ retry_back_off: { base_interval: 1s, max_interval: 500ms } }",
            "retry_back_off.max_interval",
            "must not be shorter than base_interval",
        ),
        (
            "{ retry_back_off: { max_interval: 1ms } }",
            "retry_back_off.max_interval",
            "base_interval",
        ),
        (
            "{ retriable_status_codes: [409, 600] }",
            "retriable_status_codes[1]",
            "600 is not a status in 100..=599",
        ),
        (
            "{ retry_host_predicate: [previous_hosts, canary_hosts] }",
            "retry_host_predicate[1]",
            r#""canary_hosts" is not a retry host predicate (known: previous_hosts)"#,
        ),
        (
            "{ rate_limited_retry_back_off: { max_interval: 0s } }",
            "rate_limited_retry_back_off.max_interval",
            "greater than 0s",
        ),
    ];
    for (policy, key, needle) in cases {
        let yaml = Doc {
            action: &format!(", retry_policy: {policy}"),
            ..Doc::default()
        }
        .yaml();
        only_error(&yaml, &format!("{ROUTE}.route.retry_policy.{key}"), needle);
    }
    let on_vhost = Doc {
        vhost: "        retry_policy: { retry_on: \"5xx, 4xx\" }\n",
        ..Doc::default()
    }
    .yaml();
    only_error(&on_vhost, &format!("{VHOST}.retry_policy.retry_on"), r#""4xx""#);
    let idle = Doc {
        action: ", idle_timeout: 5",
        ..Doc::default()
    }
    .yaml();
    only_error(&idle, &format!("{ROUTE}.route.idle_timeout"), "no unit");
    // A misspelt key is a shape error naming the right ones.
    let typo = errors(
        &Doc {
            action: ", retry_policy: { retry_onn: 5xx }",
            ..Doc::default()
        }
        .yaml(),
    );
    assert_eq!(typo.len(), 1, "{typo:#?}");
    assert!(typo[0].1.contains("unknown field `retry_onn`"), "{typo:#?}");
}

#[test]
fn config_dump_shows_the_new_keys_in_file_notation() {
    let action = r#", retry_policy: { retry_on: "reset,5xx", per_try_timeout: 1500ms }, priority: high, request_mirror_policies: [ { cluster: shadow } ]"#;
    let yaml = Doc {
        action,
        route: ", fault: { abort: { http_status: 503 } }, local_rate_limit: { max_tokens: 5 }",
        cluster: "    circuit_breakers: { thresholds: [ { retry_budget: {} } ] }\n",
        ..Doc::default()
    }
    .yaml();
    let dump = serde_json::to_value(valid(&yaml)).unwrap();
    let route = &dump["listeners"][0]["virtual_hosts"][0]["routes"][0];
    let fwd = &route["action"]["route"];
    assert_eq!(fwd["retry_policy"]["retry_on"], "5xx,reset");
    assert_eq!(fwd["retry_policy"]["per_try_timeout"], "1s500ms");
    assert_eq!(fwd["retry_policy"]["retry_back_off"]["max_interval"], "250ms");
    assert_eq!(fwd["priority"], "high");
    assert_eq!(fwd["per_request_buffer_limit_bytes"], 1_048_576);
    assert_eq!(fwd["request_mirror_policies"][0]["cluster"]["name"], "shadow");
    assert_eq!(fwd["request_mirror_policies"][0]["percentage"], 100.0);
    assert_eq!(
        route["fault"]["abort"],
        serde_json::json!({ "source": { "http_status": 503 }, "percentage": 100.0 })
    );
    assert_eq!(route["local_rate_limit"]["fill_interval"], "1s");
    let cb = &dump["clusters"][0]["circuit_breakers"];
    assert_eq!(cb["default"]["retry_budget"]["budget_percent"], 20.0);
    assert_eq!(cb["high"]["max_requests"], 1024);
}
