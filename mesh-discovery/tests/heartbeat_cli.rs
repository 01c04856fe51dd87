//! `mesh-registry heartbeat`, the real binary: it registers the host with its zone and tags,
//! and deregisters it when stopped with SIGTERM (a graceful shutdown).

#![allow(clippy::panic, reason = "a test helper fails the test by panicking")]

use mesh_discovery::registry::{Registry, RegistryConfig, ServiceName, Store};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

async fn until(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {limit:?}: {what}");
}

#[tokio::test]
async fn the_cli_heartbeats_a_host_in_and_deregisters_it_on_sigterm() {
    let registry = Registry::new(RegistryConfig::default()).unwrap();
    let store = registry.store();
    let server = registry
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let service = ServiceName::new("payments").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_mesh-registry"))
        .args(["heartbeat", "--registry", &server.local_addr().to_string()])
        .args([
            "--service",
            "payments",
            "--address",
            "127.0.0.1:18099",
            "--zone",
            "a",
        ])
        .args(["--tag", "version=v2", "--interval", "200ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    until(Duration::from_secs(20), "the host is registered", async || {
        let snap = store.snapshot(std::slice::from_ref(&service)).await.unwrap();
        snap.services[&service].len() == 1
    })
    .await;
    let snap = store.snapshot(std::slice::from_ref(&service)).await.unwrap();
    let host = &snap.services[&service][0];
    assert_eq!(host.address.to_string(), "127.0.0.1:18099");
    assert_eq!(host.zone.as_deref(), Some("a"));
    assert_eq!(host.tags.get("version").map(String::as_str), Some("v2"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    until(Duration::from_secs(10), "the host is deregistered", async || {
        let snap = store.snapshot(std::slice::from_ref(&service)).await.unwrap();
        snap.services[&service].is_empty()
    })
    .await;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the heartbeat did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}
