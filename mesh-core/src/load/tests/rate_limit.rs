//! `local_rate_limit` on routes, virtual hosts and http listeners; `max_connections` and
//! `connection_rate_limit` on listeners of both kinds.

use super::resilience::{Doc, ROUTE, VHOST, route, vhost};
use super::*;

#[test]
fn local_rate_limits_at_each_level_and_connection_limits_on_both_kinds() {
    let cfg = valid(
        &Doc {
            listener: "    local_rate_limit: { max_tokens: 1000, fill_interval: 50ms }\n    max_connections: 100\n    connection_rate_limit: { max_tokens: 10, tokens_per_fill: 5 }\n",
            vhost: "        local_rate_limit: { max_tokens: 100, tokens_per_fill: 10, fill_interval: 2s }\n",
            route: ", local_rate_limit: { max_tokens: 10 }",
            ..Doc::default()
        }
        .yaml(),
    );
    let bucket = |b: Option<&crate::policy::TokenBucket>| {
        let b = b.unwrap();
        (b.max_tokens(), b.tokens_per_fill(), b.fill_interval())
    };
    assert_eq!(
        bucket(route(&cfg).local_rate_limit.as_ref()),
        (10, 1, Duration::from_secs(1))
    );
    assert_eq!(
        bucket(vhost(&cfg).local_rate_limit.as_ref()),
        (100, 10, Duration::from_secs(2))
    );
    let l = &cfg.listeners[0];
    let ListenerKind::Http(http) = &l.kind else {
        panic!("http")
    };
    assert_eq!(
        bucket(http.options.local_rate_limit.as_ref()),
        (1000, 1, Duration::from_millis(50))
    );
    assert_eq!(l.max_connections.map(|n| n.get()), Some(100));
    assert_eq!(
        bucket(l.connection_rate_limit.as_ref()),
        (10, 5, Duration::from_secs(1))
    );

    let tcp = "listeners:\n  - { name: db, address: 127.0.0.1:1, protocol: tcp, cluster: db, max_connections: 2, connection_rate_limit: { max_tokens: 1 } }\nclusters: [ { name: db } ]\n";
    assert_eq!(valid(tcp).listeners[0].max_connections.map(|n| n.get()), Some(2));
    only_error(
        &tcp.replace("max_connections: 2", "local_rate_limit: { max_tokens: 1 }"),
        "listeners[0].local_rate_limit",
        "applies to http listeners only",
    );
}

#[test]
fn rate_limit_mistakes_name_their_keys() {
    let on_route = |b: &str| {
        Doc {
            route: &format!(", local_rate_limit: {b}"),
            ..Doc::default()
        }
        .yaml()
    };
    let at = format!("{ROUTE}.local_rate_limit");
    only_error(
        &on_route("{ tokens_per_fill: 1 }"),
        &format!("{at}.max_tokens"),
        "is required",
    );
    only_error(
        &on_route("{ max_tokens: 0 }"),
        &format!("{at}.max_tokens"),
        "at least 1",
    );
    only_error(
        &on_route("{ max_tokens: 5, tokens_per_fill: 0 }"),
        &format!("{at}.tokens_per_fill"),
        "at least 1",
    );
    only_error(
        &on_route("{ max_tokens: 5, fill_interval: 10ms }"),
        &format!("{at}.fill_interval"),
        "10ms is shorter than the 50ms minimum",
    );
    let vh = Doc {
        vhost: "        local_rate_limit: { max_tokens: 0 }\n",
        ..Doc::default()
    }
    .yaml();
    only_error(&vh, &format!("{VHOST}.local_rate_limit.max_tokens"), "at least 1");
    let listener = |l: &str| {
        Doc {
            listener: l,
            ..Doc::default()
        }
        .yaml()
    };
    only_error(
        &listener("    max_connections: 0\n"),
        "listeners[0].max_connections",
        "at least 1",
    );
    only_error(
        &listener("    connection_rate_limit: { max_tokens: 1, fill_interval: 1ms }\n"),
        "listeners[0].connection_rate_limit.fill_interval",
        "50ms minimum",
    );
}
