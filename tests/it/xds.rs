//! The registry's xDS server checked by an independent xDS client: grpcio (Python), given only
//! a bootstrap that names the registry's ADS port, reaches a gRPC backend through `xds:///name`.

use mesh_discovery::registry::{Instance, Registry, RegistryConfig, RegistryHandle, ServiceName, Store};
use mesh_tests::backend::Grpc;
use mesh_tests::{closed_port, eventually, python, within};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// Python start-up, gRPC's xDS exchange and its own 20 s bounds fit well inside this.
const T: Duration = Duration::from_secs(90);

/// An in-process registry with xDS on, with `backend` registered as `service`.
async fn registry_with(service: &str, backend: SocketAddr) -> RegistryHandle {
    let registry = Registry::new(RegistryConfig::default()).unwrap();
    let store = registry.store();
    let xds = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = registry.with_xds(xds).serve(http).unwrap();
    let name = ServiceName::new(service).unwrap();
    store
        .register(&name, Instance::new(backend), registry_ttl())
        .await
        .unwrap();
    handle
}

fn registry_ttl() -> Duration {
    Duration::from_secs(600)
}

#[tokio::test]
async fn grpcio_xds_client_reaches_a_backend_it_learned_only_from_the_registry() {
    let backend = Grpc::start("g1").await;
    let registry = registry_with("echo", backend.addr()).await;
    let xds = registry.xds_addr().unwrap();
    let out = within(T, python::run_xds_client(xds, "echo")).await;
    let out = out.unwrap_or_else(|e| panic!("grpcio xDS client failed:\n{e}"));
    assert!(out.contains("health echo: SERVING"), "{out}");
    assert!(out.trim_end().ends_with("OK"), "{out}");
    let stats = registry.xds_stats().unwrap();
    assert!(stats.streams() >= 1, "grpcio used our ADS server");
    assert_eq!(stats.nacks(), 0, "grpcio accepted every resource:\n{out}");
}

#[tokio::test]
async fn grpcio_xds_client_started_before_the_backend_registers_reaches_it() {
    let backend = Grpc::start("g1").await;
    let registry = Registry::new(RegistryConfig::default()).unwrap();
    let store = registry.store();
    let xds = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = registry.with_xds(xds).serve(http).unwrap();
    let client = tokio::spawn(python::run_xds_client(handle.xds_addr().unwrap(), "late"));

    // Register once grpcio has asked for the service (it is served, empty, until then).
    let stats = handle.xds_stats().unwrap();
    eventually(T, "grpcio asks the registry for `late`", || async {
        stats.responses() > 0
    })
    .await;
    let name = ServiceName::new("late").unwrap();
    store
        .register(&name, Instance::new(backend.addr()), registry_ttl())
        .await
        .unwrap();
    let out = within(T, client).await.unwrap();
    let out = out.unwrap_or_else(|e| panic!("grpcio xDS client failed:\n{e}"));
    assert!(out.contains("health late: SERVING"), "{out}");
}

#[tokio::test]
async fn grpcio_xds_client_fails_clearly_without_an_xds_server() {
    let out = within(T, python::run_xds_client(closed_port(), "echo")).await;
    let err = out.expect_err("nothing serves xDS there");
    assert!(err.contains("not ready within 20s"), "{err}");
}
