//! The loader as a user meets it: a file in, a validated config or every mistake out.

mod components;
mod discovery;
mod dns_discovery;
mod dynamic;
mod endpoints_file;
mod fault;
mod files;
mod health;
mod lb;
mod rate_limit;
mod resilience;
mod retry;
mod stats;
mod syntax;
mod tracing;
mod validation;

use super::*;
use crate::policy::{Action, ClusterSpecifier, ListenerKind, UpstreamProtocol};
use std::time::Duration;

/// The example from the issue that introduced the loader.
const EXAMPLE: &str = r#"
admin: { address: 127.0.0.1:9901 }
listeners:
  - name: web
    address: 127.0.0.1:10000
    protocol: http
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            route: { cluster: web, timeout: 15s }
  - name: db
    address: 127.0.0.1:10001
    protocol: tcp
    cluster: db
clusters:
  - name: web
    endpoints: [ { address: "127.0.0.1:8081" }, { address: "127.0.0.1:8082", weight: 2, zone: a } ]
  - name: db
    endpoints: [ { address: "127.0.0.1:27017" } ]
"#;

/// `(path, message)` of every error in `yaml`; panics if it is valid.
fn errors(yaml: &str) -> Vec<(String, String)> {
    match from_yaml(yaml, "mesh.yaml") {
        Ok(cfg) => panic!("expected errors, got {cfg:#?}"),
        Err(e) => {
            assert_eq!(e.origin, "mesh.yaml");
            assert!(!e.errors.is_empty(), "an InvalidConfig always carries errors");
            e.errors.into_iter().map(|e| (e.path, e.message)).collect()
        }
    }
}

/// The single error in `yaml`, checked to sit at `path` and to mention `needle`.
#[track_caller]
fn only_error(yaml: &str, path: &str, needle: &str) {
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let (p, m) = &errs[0];
    assert_eq!(p, path, "key path of {m:?}");
    assert!(m.contains(needle), "{m:?} should mention {needle:?}");
}

fn valid(yaml: &str) -> Bootstrap {
    from_yaml(yaml, "mesh.yaml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_issue_example_loads_with_defaults_filled_in() {
    let cfg = valid(EXAMPLE);
    assert_eq!(cfg.admin.address, "127.0.0.1:9901".parse().unwrap());
    assert_eq!(cfg.drain_timeout, Duration::from_secs(30));

    let [web, db] = &cfg.listeners[..] else {
        panic!("two listeners: {:#?}", cfg.listeners)
    };
    assert_eq!(web.name, "web");
    assert_eq!(web.address, "127.0.0.1:10000".parse().unwrap());
    assert!(web.tls.is_none());
    let ListenerKind::Http(http) = &web.kind else {
        panic!("web is http")
    };
    let o = &http.options;
    assert_eq!(o.max_request_headers_bytes, 61_440);
    assert_eq!(o.max_headers_count, 100);
    assert_eq!(o.request_headers_timeout, Some(Duration::from_secs(60)));
    assert_eq!(o.idle_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(o.max_concurrent_streams, 100);
    assert_eq!(o.initial_stream_window_size, 65_536);
    assert_eq!(o.initial_connection_window_size, 1_048_576);

    let vh = http.virtual_hosts.select("anything.example").unwrap();
    assert_eq!(
        (vh.name.as_str(), &vh.domains[..]),
        ("all", &["*".to_owned()][..])
    );
    assert!(vh.request_headers.is_empty() && vh.response_headers.is_empty());
    let Action::Route(fwd) = &vh.routes[0].action else {
        panic!("forwarding route")
    };
    assert_eq!(fwd.timeout, Some(Duration::from_secs(15)));
    let ClusterSpecifier::Cluster(target) = &fwd.clusters else {
        panic!("single cluster")
    };
    assert_eq!((target.name.as_str(), target.index), ("web", 0));
    assert!(fwd.prefix_rewrite.is_none() && fwd.regex_rewrite.is_none());

    let ListenerKind::Tcp(tcp) = &db.kind else {
        panic!("db is tcp")
    };
    assert_eq!((tcp.cluster.name.as_str(), tcp.cluster.index), ("db", 1));

    let web = &cfg.clusters[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.connect_timeout, Duration::from_secs(5));
    assert_eq!(web.protocol, UpstreamProtocol::Http1);
    assert_eq!(web.lb_policy, crate::policy::LbPolicy::RoundRobin);
    assert_eq!(web.idle_timeout, Some(Duration::from_secs(3600)));
    assert!(web.tls.is_none());
    let eps: Vec<_> = web
        .endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.weight.get(), e.zone.as_deref()))
        .collect();
    assert_eq!(
        eps,
        [
            ("127.0.0.1:8081".to_owned(), 1, None),
            ("127.0.0.1:8082".to_owned(), 2, Some("a")),
        ]
    );
}

#[test]
fn omitted_sections_take_their_defaults() {
    let cfg = valid("listeners: []\n");
    assert_eq!(cfg.admin.address, "127.0.0.1:9901".parse().unwrap());
    assert!(cfg.listeners.is_empty() && cfg.clusters.is_empty());
    for empty in ["", "\n  \n", "# nothing configured yet\n"] {
        let cfg = valid(empty);
        assert_eq!(cfg.admin.address.port(), 9901, "{empty:?}");
    }
}

#[test]
fn route_timeout_defaults_to_15s_and_0s_disables_it() {
    let timeout = |t: &str| {
        let cfg = valid(&EXAMPLE.replace("timeout: 15s", t));
        let ListenerKind::Http(http) = &cfg.listeners[0].kind else {
            panic!("http")
        };
        match &http.virtual_hosts.select("x").unwrap().routes[0].action {
            Action::Route(f) => f.timeout,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(timeout("timeout: 15s"), Some(Duration::from_secs(15)));
    assert_eq!(timeout("timeout: 250ms"), Some(Duration::from_millis(250)));
    assert_eq!(timeout("timeout: 1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(timeout("timeout: 0s"), None);
    // `{ cluster: web, }` is valid flow YAML: the key is simply omitted.
    assert_eq!(timeout(""), Some(Duration::from_secs(15)));
}

#[test]
fn three_mistakes_are_three_errors_each_with_its_key_path() {
    let yaml = EXAMPLE
        .replace("127.0.0.1:8081", "10.0.0.1:99999")
        .replace("cluster: web, timeout: 15s", "cluster: wbe, timeout: 15");
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "clusters[0].endpoints[0].address",
            "listeners[0].virtual_hosts[0].routes[0].route.cluster",
            "listeners[0].virtual_hosts[0].routes[0].route.timeout",
        ],
        "{errs:#?}"
    );
    assert!(errs[0].1.contains(r#""10.0.0.1:99999" is not a socket address"#));
    assert!(
        errs[1]
            .1
            .contains(r#""wbe" is not a cluster defined under clusters"#)
    );
    assert!(errs[2].1.contains("no unit"), "{}", errs[2].1);
}

#[test]
fn display_lists_every_error_prefixed_by_the_origin() {
    let yaml = EXAMPLE
        .replace("127.0.0.1:8081", "10.0.0.1:99999")
        .replace("cluster: db\n", "cluster: nope\n");
    let err = from_yaml(&yaml, "/etc/mesh/mesh.yaml").unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "/etc/mesh/mesh.yaml: invalid configuration (2 errors)");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("  /etc/mesh/mesh.yaml: clusters[0].endpoints[0].address: \"10.0.0.1:99999\"")
    );
    assert_eq!(
        lines[2],
        "  /etc/mesh/mesh.yaml: listeners[1].cluster: \"nope\" is not a cluster defined under clusters"
    );
    let one = from_yaml("listeners: [ { name: x } ]", "a.yaml").unwrap_err();
    assert_eq!(
        one.to_string(),
        "a.yaml: invalid configuration (1 error)\n  a.yaml: listeners[0].address: is required"
    );
}
