use crate::support::{check, grpc_host, h2_host, http_host};
use mesh_core::policy::{Checker, HealthCheck};
use mesh_health::{Outcome, ProbeFailure, probe};
use tonic_health::ServingStatus;

fn grpc(service: &str, authority: Option<&str>) -> HealthCheck {
    check(Checker::Grpc {
        service_name: service.into(),
        authority: authority.map(Into::into),
    })
}

#[tokio::test]
async fn serving_and_not_serving_with_tonic_health() {
    let (addr, reporter, _server) = grpc_host().await;
    assert_eq!(
        probe(&grpc("", None), "backend", addr).await,
        Outcome::Healthy,
        "the whole server"
    );
    reporter.set_service_status("", ServingStatus::NotServing).await;
    assert_eq!(
        probe(&grpc("", None), "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::NotServing(2))
    );
    reporter.set_service_status("", ServingStatus::Serving).await;
    assert_eq!(probe(&grpc("", None), "backend", addr).await, Outcome::Healthy);
}

#[tokio::test]
async fn named_services() {
    let (addr, reporter, _server) = grpc_host().await;
    reporter
        .set_service_status("shop.Cart", ServingStatus::Serving)
        .await;
    assert_eq!(
        probe(&grpc("shop.Cart", None), "backend", addr).await,
        Outcome::Healthy
    );
    reporter
        .set_service_status("shop.Cart", ServingStatus::NotServing)
        .await;
    assert_eq!(
        probe(&grpc("shop.Cart", None), "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::NotServing(2))
    );
    let unknown = probe(&grpc("shop.Nope", None), "backend", addr).await;
    assert!(
        matches!(
            unknown,
            Outcome::Unhealthy(ProbeFailure::GrpcStatus { code: 5, .. })
        ),
        "NOT_FOUND: {unknown:?}"
    );
}

#[tokio::test]
async fn authority_and_trailers_only_answers() {
    let (addr, authorities, _server) = h2_host().await;
    let outcome = probe(&grpc("", None), "backend", addr).await;
    let expected = ProbeFailure::GrpcStatus {
        code: 12,
        message: "no health here".into(),
    };
    assert_eq!(outcome, Outcome::Unhealthy(expected));
    probe(&grpc("", Some("health.internal:50051")), "backend", addr).await;
    assert_eq!(*authorities.lock().unwrap(), ["backend", "health.internal:50051"]);
}

#[tokio::test]
async fn an_http1_only_host_fails() {
    let (addr, _, _server) = http_host().await;
    let outcome = probe(&grpc("", None), "backend", addr).await;
    assert!(
        matches!(outcome, Outcome::Unhealthy(ProbeFailure::Http(_))),
        "{outcome:?}"
    );
}
