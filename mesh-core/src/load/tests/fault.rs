//! A route's `fault` and `request_mirror_policies`: defaults and key-path errors.

use super::resilience::{Doc, ROUTE, forward, route};
use super::*;
use crate::policy::{AbortSource, DelaySource, Percent};

/// The validated `fault` of a document whose one route carries `fault: {fault}`.
fn fault(fault: &str) -> crate::policy::Fault {
    let yaml = Doc {
        route: &format!(", fault: {fault}"),
        ..Doc::default()
    }
    .yaml();
    route(&valid(&yaml)).fault.clone().unwrap()
}

#[test]
fn faults_default_to_every_request_and_read_every_key() {
    let f = fault("{ abort: { http_status: 503 } }");
    let abort = f.abort.unwrap();
    assert_eq!(
        abort.source,
        AbortSource::HttpStatus(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(abort.percentage, Percent::HUNDRED);
    assert!(f.delay.is_none() && f.max_active_faults.is_none());

    let f = fault(
        "{ delay: { fixed_delay: 1s, percentage: 10 }, abort: { grpc_status: 14, percentage: 5.5 }, max_active_faults: 3 }",
    );
    let delay = f.delay.unwrap();
    assert_eq!(
        (delay.source, delay.percentage.get()),
        (DelaySource::Fixed(Duration::from_secs(1)), 10.0)
    );
    let abort = f.abort.unwrap();
    assert_eq!(
        (abort.source, abort.percentage.get()),
        (AbortSource::GrpcStatus(14), 5.5)
    );
    assert_eq!(f.max_active_faults, Some(3));
}

#[test]
fn header_control_takes_both_faults_from_the_headers() {
    // Alone it is a whole fault configuration: both kinds, for every request that asks.
    let f = fault("{ header_control: true }");
    let (delay, abort) = (f.delay.unwrap(), f.abort.unwrap());
    assert_eq!(
        (delay.source, delay.percentage),
        (DelaySource::Header, Percent::HUNDRED)
    );
    assert_eq!(
        (abort.source, abort.percentage),
        (AbortSource::Header, Percent::HUNDRED)
    );
    // A block then only sets its kind's percentage.
    let f = fault("{ header_control: true, abort: { percentage: 50 } }");
    assert_eq!(f.abort.unwrap().percentage.get(), 50.0);
    assert_eq!(f.delay.unwrap().percentage, Percent::HUNDRED);
    assert_eq!(crate::policy::Fault::DELAY_HEADER, "x-mesh-fault-delay-request");
}

#[test]
fn fault_mistakes_name_their_keys() {
    let cases = [
        ("{}", "fault", "injects nothing"),
        (
            "{ abort: { http_status: 503, grpc_status: 14 } }",
            "fault.abort",
            "exactly one of http_status, grpc_status",
        ),
        (
            "{ abort: { percentage: 5 } }",
            "fault.abort",
            "exactly one of http_status, grpc_status",
        ),
        (
            "{ abort: { http_status: 700 } }",
            "fault.abort.http_status",
            "200..=599",
        ),
        (
            "{ abort: { grpc_status: 17 } }",
            "fault.abort.grpc_status",
            "17 is not a gRPC status in 0..=16",
        ),
        (
            "{ abort: { http_status: 503, percentage: 100.5 } }",
            "fault.abort.percentage",
            "0..=100",
        ),
        (
            "{ delay: { percentage: 10 } }",
            "fault.delay.fixed_delay",
            "is required (or header_control: true)",
        ),
        (
            "{ header_control: true, delay: { fixed_delay: 1s } }",
            "fault.delay.fixed_delay",
            "not with header_control",
        ),
        (
            "{ header_control: true, abort: { http_status: 503 } }",
            "fault.abort",
            "takes no http_status or grpc_status with header_control",
        ),
        (
            "{ delay: { fixed_delay: 0s } }",
            "fault.delay.fixed_delay",
            "greater than 0s",
        ),
        (
            "{ delay: { fixed_delay: 1s, percentage: -1 } }",
            "fault.delay.percentage",
            "0..=100",
        ),
    ];
    for (fault, key, needle) in cases {
        let yaml = Doc {
            route: &format!(", fault: {fault}"),
            ..Doc::default()
        }
        .yaml();
        only_error(&yaml, &format!("{ROUTE}.{key}"), needle);
    }
}

#[test]
fn mirrors_resolve_their_clusters() {
    let action = ", request_mirror_policies: [ { cluster: shadow }, { cluster: web, percentage: 12.5 } ]";
    let cfg = valid(
        &Doc {
            action,
            ..Doc::default()
        }
        .yaml(),
    );
    let m: Vec<_> = forward(&cfg)
        .request_mirror_policies
        .iter()
        .map(|m| (m.cluster.name.as_str(), m.cluster.index, m.percentage.get()))
        .collect();
    assert_eq!(m, [("shadow", 1, 100.0), ("web", 0, 12.5)]);

    let mirror = |m: &str| {
        Doc {
            action: &format!(", request_mirror_policies: [ {m} ]"),
            ..Doc::default()
        }
        .yaml()
    };
    let at = format!("{ROUTE}.route.request_mirror_policies[0]");
    only_error(
        &mirror("{ cluster: nope }"),
        &format!("{at}.cluster"),
        r#""nope" is not a cluster defined under clusters"#,
    );
    only_error(
        &mirror("{ percentage: 5 }"),
        &format!("{at}.cluster"),
        "is required",
    );
    only_error(
        &mirror("{ cluster: shadow, percentage: 101 }"),
        &format!("{at}.percentage"),
        "0..=100",
    );
}
