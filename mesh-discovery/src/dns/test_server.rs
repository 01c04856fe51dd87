//! A real, tiny DNS server for tests: UDP on `127.0.0.1:0`, answering A and AAAA queries from
//! records (and TTLs) the test changes while it runs.
//!
//! Policy: a name it holds gets its A or AAAA records (an empty NOERROR answer when it has none
//! of the asked type); a name it does not hold gets NXDOMAIN; any other query type gets an empty
//! NOERROR answer. [`TestDnsServer::fail_with`] switches every answer to SERVFAIL, or to silence
//! (the resolver times out), until [`TestDnsServer::recover`]. Answers are small, so UDP alone
//! serves (no truncation, no TCP fallback).
//!
//! Placement: built for mesh-discovery's unit tests, and for other crates' tests (the proxy's end
//! to end tests) behind the `test-support` feature. Failure: a malformed datagram is ignored, as a
//! real server would. Dropping the server stops its task.

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA};
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// How the server misbehaves, see [`TestDnsServer::fail_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Answer every query with SERVFAIL.
    ServFail,
    /// Read queries and answer none.
    Silent,
}

#[derive(Debug, Default)]
struct Zone {
    /// Lower-case names without the final dot.
    names: HashMap<String, Vec<(IpAddr, u32)>>,
    failure: Option<Failure>,
}

/// A DNS server on `127.0.0.1:<ephemeral>` whose records the test sets.
#[derive(Debug)]
pub struct TestDnsServer {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    queries: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl TestDnsServer {
    /// Binds UDP `127.0.0.1:0` and serves from a task on the current runtime; holds no names yet.
    pub async fn start() -> std::io::Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = socket.local_addr()?;
        let zone = Arc::new(Mutex::new(Zone::default()));
        let queries = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(serve(socket, Arc::clone(&zone), Arc::clone(&queries)));
        Ok(TestDnsServer {
            addr,
            zone,
            queries,
            task,
        })
    }

    /// Where to send queries (a resolver's `ip:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces `name`'s records with `records` (address, TTL in seconds). An empty list keeps
    /// the name (queries get an empty NOERROR answer); see [`Self::remove`] for NXDOMAIN.
    pub fn set(&self, name: &str, records: &[(IpAddr, u32)]) {
        lock(&self.zone).names.insert(key(name), records.to_vec());
    }

    /// Forgets `name`: queries for it get NXDOMAIN.
    pub fn remove(&self, name: &str) {
        lock(&self.zone).names.remove(&key(name));
    }

    /// Misbehaves from now on, until [`Self::recover`].
    pub fn fail_with(&self, failure: Failure) {
        lock(&self.zone).failure = Some(failure);
    }

    /// Answers from the records again.
    pub fn recover(&self) {
        lock(&self.zone).failure = None;
    }

    /// Queries received so far (each A and each AAAA query counts), answered or not.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for TestDnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(socket: UdpSocket, zone: Arc<Mutex<Zone>>, queries: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        queries.fetch_add(1, Ordering::Relaxed);
        let Some(reply) = answer(&query, &lock(&zone)) else {
            continue;
        };
        if let Ok(bytes) = reply.to_vec() {
            // A lost reply is what UDP does anyway; the resolver retries.
            let _ = socket.send_to(&bytes, peer).await;
        }
    }
}

/// The reply to `query`, or `None` to stay silent.
fn answer(query: &Message, zone: &Zone) -> Option<Message> {
    if query.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.queries = query.queries.clone();
    match zone.failure {
        Some(Failure::Silent) => return None,
        Some(Failure::ServFail) => {
            reply.metadata.response_code = ResponseCode::ServFail;
            return Some(reply);
        }
        None => {}
    }
    reply.metadata.authoritative = true;
    for q in &query.queries {
        let Some(records) = zone.names.get(&key(&q.name().to_ascii())) else {
            reply.metadata.response_code = ResponseCode::NXDomain;
            continue;
        };
        for &(ip, ttl) in records {
            let data = match (q.query_type(), ip) {
                (RecordType::A, IpAddr::V4(v4)) => RData::A(A(v4)),
                (RecordType::AAAA, IpAddr::V6(v6)) => RData::AAAA(AAAA(v6)),
                _ => continue,
            };
            reply
                .answers
                .push(Record::from_rdata(q.name().clone(), ttl, data));
        }
    }
    Some(reply)
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A panic while holding the lock cannot leave the zone half-written.
fn lock(m: &Mutex<Zone>) -> std::sync::MutexGuard<'_, Zone> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
