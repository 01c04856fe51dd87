use crate::support::{MS, check, closed_port, tcp_host};
use mesh_core::policy::Checker;
use mesh_health::{Outcome, ProbeFailure, probe};
use std::sync::atomic::Ordering;

fn tcp(send: Option<&[u8]>, receive: &[&[u8]]) -> mesh_core::policy::HealthCheck {
    check(Checker::Tcp {
        send: send.map(<[u8]>::to_vec),
        receive: receive.iter().map(|r| r.to_vec()).collect(),
    })
}

#[tokio::test]
async fn ping_pong() {
    let (addr, connections, _server) = tcp_host(b"+PONG\r\n", true).await;
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[b"PONG"]), "backend", addr).await,
        Outcome::Healthy
    );
    // Envoy's fuzzy match: segments in order, anything around them.
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[b"PO", b"NG"]), "backend", addr).await,
        Outcome::Healthy
    );
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[b"NG", b"PO"]), "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::ConnectionClosed)
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "a fresh connection per check"
    );
}

#[tokio::test]
async fn wrong_reply_fails() {
    let (addr, _, _server) = tcp_host(b"PANG", true).await;
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[b"PONG"]), "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::ConnectionClosed)
    );
}

#[tokio::test]
async fn silence_times_out() {
    let (addr, _, _server) = tcp_host(b"", false).await;
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[b"PONG"]), "backend", addr).await,
        Outcome::Unhealthy(ProbeFailure::Timeout(500 * MS))
    );
}

#[tokio::test]
async fn connect_only() {
    let (addr, connections, _server) = tcp_host(b"", false).await;
    assert_eq!(probe(&tcp(None, &[]), "backend", addr).await, Outcome::Healthy);
    assert_eq!(
        probe(&tcp(Some(b"PING"), &[]), "backend", addr).await,
        Outcome::Healthy,
        "send, expect nothing"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    let outcome = probe(&tcp(None, &[]), "backend", closed_port().await).await;
    assert!(
        matches!(outcome, Outcome::Unhealthy(ProbeFailure::Connect(_))),
        "{outcome:?}"
    );
}
