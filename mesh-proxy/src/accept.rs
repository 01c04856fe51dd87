//! Accepting connections: a listener's [`Admission`] (its `max_connections` and
//! `connection_rate_limit`, Envoy's network-level `connection_limit` and `local_ratelimit`
//! filters, so for http and tcp listeners alike) may close a new connection at once;
//! the [`accept_loop`] hands every other one to the listener's protocol.

use crate::drain;
use crate::handler::InvalidFilter;
use crate::reload::{Live, Proto};
use crate::stats::{Stats, names};
use futures_util::future::Either;
use mesh_core::policy::Listener;
use mesh_filters::rate_limit::{ConnectionLimit, ConnectionPermit, ConnectionRefused, TokenBucket};
use metrics::Counter;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

pub(crate) type Limits = (
    Option<std::num::NonZeroU32>,
    Option<mesh_core::policy::TokenBucket>,
);

/// A listener's limits on new connections, checked as each one is accepted.
#[derive(Debug)]
pub(crate) struct Admission {
    /// What it enforces: a reload that keeps these keeps this admission, with its count
    /// of open connections.
    pub(crate) limits: Limits,
    limit: ConnectionLimit,
    limited: Counter,
    rate_limited: Counter,
}

impl Admission {
    /// `None` when `listener` sets neither `max_connections` nor `connection_rate_limit`.
    pub(crate) fn build(listener: &Listener, stats: &Stats) -> Result<Option<Self>, InvalidFilter> {
        if listener.max_connections.is_none() && listener.connection_rate_limit.is_none() {
            return Ok(None);
        }
        let rate = listener
            .connection_rate_limit
            .map(|b| TokenBucket::new(b.max_tokens(), b.tokens_per_fill(), b.fill_interval()))
            .transpose()
            .map_err(|e| InvalidFilter {
                scope: format!("listener {:?}", listener.name),
                key: "connection_rate_limit",
                reason: e.to_string(),
            })?;
        // A series only for the limits this listener has.
        let counter = |on: bool, name| match on {
            true => stats.plain(name, ("listener", listener.name.as_str())),
            false => Counter::noop(),
        };
        Ok(Some(Admission {
            limits: (listener.max_connections, listener.connection_rate_limit),
            limited: counter(listener.max_connections.is_some(), names::LISTENER_CX_LIMITED),
            rate_limited: counter(rate.is_some(), names::LISTENER_CX_RATE_LIMITED),
            limit: ConnectionLimit::new(listener.max_connections, rate),
        }))
    }

    /// A permit to hold for as long as the connection lives, or `None`: close it now.
    fn admit(&self, peer: SocketAddr) -> Option<ConnectionPermit> {
        match self.limit.try_accept() {
            Ok(permit) => Some(permit),
            Err(refused) => {
                match refused {
                    ConnectionRefused::TooManyConnections { .. } => self.limited.increment(1),
                    ConnectionRefused::RateLimited { .. } => self.rate_limited.increment(1),
                }
                tracing::debug!(%peer, reason = %refused, "connection refused");
                None
            }
        }
    }
}

/// Accepts until the drain starts or the configuration in force drops this listener,
/// serving each connection its admission lets in with the configuration in force when it
/// arrived; a refused one is closed before anything is read from it.
pub(crate) async fn accept_loop(listener: TcpListener, mut drain: drain::Watch, live: Live) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let Some(state) = live.state() else { break };
                    let permit = match &state.admission {
                        None => None,
                        Some(admission) => match admission.admit(peer) {
                            Some(permit) => Some(permit),
                            // Dropping the socket closes it.
                            None => continue,
                        },
                    };
                    let _ = tcp.set_nodelay(true);
                    let (drain, live) = (drain.clone(), live.clone());
                    // Only what the connection needs: holding `state` (and so its router and
                    // clusters) for a keep-alive connection's life would keep a replaced
                    // configuration's health checks and pools running.
                    let connection = match &state.proto {
                        Proto::Http { server, .. } => Either::Left(server.clone().serve(tcp, peer, drain, live)),
                        Proto::Tcp(proxy) => Either::Right(proxy.clone().serve(tcp, peer, drain)),
                    };
                    drop(state);
                    tokio::spawn(async move {
                        connection.await;
                        // The slot is the connection's until its task ends.
                        drop(permit);
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = drain.draining() => break,
        }
    }
}
