//! `health_checks` and `outlier_detection`: Envoy's defaults and key-path errors.

use super::*;
use crate::policy::{Checker, Percentage};

fn cluster(extra: &str) -> String {
    format!("clusters:\n  - name: web\n    endpoints: [ {{ address: \"127.0.0.1:1\" }} ]\n{extra}")
}

#[test]
fn health_checks_fill_defaults() {
    let cfg = valid(&cluster(
        "    health_checks: [ { http_health_check: { path: /healthz } } ]\n",
    ));
    let hc = &cfg.clusters[0].health_checks[0];
    assert_eq!(hc.timeout, Duration::from_secs(1));
    assert_eq!(hc.interval, Duration::from_secs(5));
    assert_eq!(hc.unhealthy_interval, hc.interval);
    assert_eq!(hc.no_traffic_interval, Duration::from_secs(60));
    assert_eq!((hc.unhealthy_threshold, hc.healthy_threshold), (3, 2));
    assert!(hc.accepts_status(200) && !hc.accepts_status(201) && !hc.accepts_status(503));
    let Checker::Http { path, .. } = &hc.checker else {
        panic!("http checker")
    };
    assert_eq!(path, "/healthz");
}

#[test]
fn tcp_and_grpc_checkers() {
    let cfg = valid(&cluster(
        "    health_checks:\n      - { tcp_health_check: { send: \"50494e47\", receive: [\"504f4e47\"] } }\n      - { grpc_health_check: { service_name: svc } }\n",
    ));
    let [tcp, grpc] = &cfg.clusters[0].health_checks[..] else {
        panic!("two checks")
    };
    assert!(
        matches!(&tcp.checker, Checker::Tcp { send: Some(s), receive } if s == b"PING" && receive[0] == b"PONG")
    );
    assert!(matches!(&grpc.checker, Checker::Grpc { service_name, .. } if service_name == "svc"));
}

#[test]
fn health_check_mistakes_name_their_keys() {
    let hc = "clusters[0].health_checks[0]";
    only_error(
        &cluster("    health_checks: [ { interval: 5s } ]\n"),
        hc,
        "exactly one of",
    );
    only_error(
        &cluster("    health_checks: [ { http_health_check: { path: healthz } } ]\n"),
        &format!("{hc}.http_health_check.path"),
        "must start with '/'",
    );
    only_error(
        &cluster("    health_checks: [ { unhealthy_threshold: 0, http_health_check: { path: / } } ]\n"),
        &format!("{hc}.unhealthy_threshold"),
        "at least 1",
    );
    only_error(
        &cluster(
            "    health_checks: [ { http_health_check: { path: /, expected_statuses: [ { start: 300, end: 200 } ] } } ]\n",
        ),
        &format!("{hc}.http_health_check.expected_statuses[0]"),
        "not a range",
    );
    only_error(
        &cluster(
            "    health_checks: [ { http_health_check: { path: /, retriable_statuses: [ { start: 500 } ] } } ]\n",
        ),
        &format!("{hc}.http_health_check.retriable_statuses[0]"),
        "needs start and end",
    );
    only_error(
        &cluster("    health_checks: [ { tcp_health_check: { send: \"xyz\" } } ]\n"),
        &format!("{hc}.tcp_health_check.send"),
        "not hex",
    );
}

#[test]
fn outlier_detection_takes_envoys_defaults() {
    let cfg = valid(&cluster("    outlier_detection: {}\n"));
    let od = cfg.clusters[0].outlier_detection.as_ref().unwrap();
    assert_eq!(od.consecutive_5xx, 5);
    assert_eq!(od.interval, Duration::from_secs(10));
    assert_eq!(od.base_ejection_time, Duration::from_secs(30));
    assert_eq!(od.max_ejection_time, Duration::from_secs(300));
    assert_eq!(od.max_ejection_percent, Percentage::new(10).unwrap());
    assert_eq!(od.enforcing_consecutive_gateway_failure, Percentage::ZERO);
    assert_eq!(od.enforcing_success_rate, Percentage::HUNDRED);
    assert_eq!(
        (od.success_rate_minimum_hosts, od.success_rate_request_volume),
        (5, 100)
    );
    assert_eq!(od.success_rate_stdev_factor, 1900);
    assert_eq!(od.failure_percentage_threshold, Percentage::new(85).unwrap());
    assert_eq!(od.enforcing_failure_percentage, Percentage::ZERO);
    assert!(valid(&cluster("")).clusters[0].outlier_detection.is_none());
}

#[test]
fn outlier_detection_mistakes_name_their_keys() {
    let od = "clusters[0].outlier_detection";
    only_error(
        &cluster("    outlier_detection: { max_ejection_percent: 120 }\n"),
        &format!("{od}.max_ejection_percent"),
        "0..=100",
    );
    only_error(
        &cluster("    outlier_detection: { base_ejection_time: 60s, max_ejection_time: 30s }\n"),
        &format!("{od}.max_ejection_time"),
        "base_ejection_time",
    );
    only_error(
        &cluster("    outlier_detection: { consecutive_5xx: 0 }\n"),
        &format!("{od}.consecutive_5xx"),
        "at least 1",
    );
}
