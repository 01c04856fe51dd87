//! `tracing` (the OTLP exporter) and a listener's `tracing` (its sampling share).

use super::*;
use crate::policy::Percent;

fn listener(tracing: &str) -> String {
    format!(
        r#"
listeners:
  - name: web
    address: 127.0.0.1:0
    {tracing}
    virtual_hosts: [ {{ name: all, domains: ["*"], routes: [ {{ match: {{ prefix: "/" }}, direct_response: {{ status: 200 }} }} ] }} ]
"#
    )
}

fn sampling(cfg: &Bootstrap) -> Percent {
    cfg.listeners[0].tracing.random_sampling
}

#[test]
fn no_tracing_block_means_no_exporter() {
    let cfg = valid(&listener(""));
    assert!(cfg.tracing.is_none());
}

#[test]
fn exporter_defaults_and_listener_sampling() {
    let yaml = format!(
        "tracing: {{ otlp: {{ address: \"127.0.0.1:4317\" }} }}\n{}",
        listener("tracing: { random_sampling: \"100%\" }")
    );
    let cfg = valid(&yaml);
    let t = cfg.tracing.as_ref().unwrap();
    assert_eq!(t.otlp.address, "127.0.0.1:4317".parse().unwrap());
    assert_eq!(t.otlp.timeout, Duration::from_secs(10));
    assert_eq!(t.service_name, "mesh-proxy");
    assert_eq!(sampling(&cfg), Percent::HUNDRED);

    // Without a listener block: 1% of call chains; the service is named after node.cluster.
    let yaml = format!(
        "node: {{ cluster: checkout }}\ntracing: {{ otlp: {{ address: \"127.0.0.1:4317\", timeout: 2s }} }}\n{}",
        listener("")
    );
    let cfg = valid(&yaml);
    let t = cfg.tracing.as_ref().unwrap();
    assert_eq!(
        (t.service_name.as_str(), t.otlp.timeout),
        ("checkout", Duration::from_secs(2))
    );
    assert_eq!(sampling(&cfg), Percent::new(1.0).unwrap());
    // A plain number is a percentage too.
    let yaml = format!(
        "tracing: {{ otlp: {{ address: \"127.0.0.1:4317\" }}, service_name: edge }}\n{}",
        listener("tracing: { random_sampling: 0.5 }")
    );
    let cfg = valid(&yaml);
    assert_eq!(cfg.tracing.as_ref().unwrap().service_name, "edge");
    assert_eq!(sampling(&cfg), Percent::new(0.5).unwrap());
}

#[test]
fn mistakes_name_their_key() {
    only_error(
        &format!("tracing: {{ otlp: {{ address: nowhere }} }}\n{}", listener("")),
        "tracing.otlp.address",
        "not a socket address",
    );
    only_error(
        &format!("tracing: {{}}\n{}", listener("")),
        "tracing.otlp",
        "required",
    );
    only_error(
        &format!(
            "tracing: {{ otlp: {{ address: \"127.0.0.1:4317\", timeout: 0s }} }}\n{}",
            listener("")
        ),
        "tracing.otlp.timeout",
        "more than 0s",
    );
    only_error(
        &format!(
            "tracing: {{ otlp: {{ address: \"127.0.0.1:4317\" }} }}\n{}",
            listener("tracing: { random_sampling: \"150%\" }")
        ),
        "listeners[0].tracing.random_sampling",
        "0..=100",
    );
    // A listener block without an exporter would be ignored silently: refused instead.
    only_error(
        &listener("tracing: { random_sampling: \"100%\" }"),
        "listeners[0].tracing",
        "top-level tracing",
    );
}

#[test]
fn tcp_listeners_take_no_tracing() {
    let yaml = r#"
tracing: { otlp: { address: "127.0.0.1:4317" } }
listeners:
  - { name: db, address: "127.0.0.1:0", protocol: tcp, cluster: db, tracing: { random_sampling: 1 } }
clusters: [ { name: db, endpoints: [ { address: "127.0.0.1:5432" } ] } ]
"#;
    only_error(yaml, "listeners[0].tracing", "http listeners only");
}
