//! Listener slots: a bound socket and its accept loop, kept across reloads while a
//! listener of the same name and address (or, for a fixed port, the same address) stays.

use super::generation::{Generation, ListenerState, Proto};
use crate::accept::Admission;
use crate::stats::Stats;
use crate::{StartError, drain, handler, listener, tcp, tls};
use mesh_core::policy::{Listener, ListenerKind};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A listening socket with its own drain, so a reload can drain one listener alone.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Its listener's state in a [`Generation`] is `listeners[id]` (which also names it).
    pub(crate) id: usize,
    /// As configured (port 0 stays 0), to match the next configuration's listeners.
    pub(crate) configured: SocketAddr,
    pub(crate) bound: SocketAddr,
    pub(crate) drain: drain::Signal,
}

/// A slot a reload binds, started only once its generation is in force.
#[derive(Debug)]
pub(crate) struct NewSlot {
    pub(crate) name: String,
    pub(crate) slot: Slot,
    pub(crate) socket: TcpListener,
    pub(crate) watch: drain::Watch,
}

/// Which existing slot `l` keeps: the same name (in the configuration in force) and
/// address, else the same fixed address.
pub(crate) fn matching<'a>(
    slots: &'a [Slot],
    in_force: Option<&Generation>,
    taken: &[usize],
    l: &Listener,
) -> Option<&'a Slot> {
    let free = |s: &&Slot| !taken.contains(&s.id);
    let named = |s: &Slot| {
        in_force
            .and_then(|g| g.listener(s.id))
            .is_some_and(|st| st.name == l.name)
    };
    let same = |s: &&Slot| named(s) && s.configured == l.address;
    let fixed = |s: &&Slot| s.configured == l.address && l.address.port() != 0;
    let found = slots.iter().filter(free).find(same);
    found.or_else(|| slots.iter().filter(free).find(fixed))
}

pub(crate) async fn bind(name: &str, address: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let refused = |source| StartError::Bind {
        name: name.to_owned(),
        address,
        source,
    };
    let socket = TcpListener::bind(address).await.map_err(refused)?;
    let local = socket.local_addr().map_err(refused)?;
    Ok((socket, local))
}

/// How `l` serves connections under a configuration whose clusters are `upstreams`.
/// `admission` is the slot's current one, kept when the limits are unchanged.
pub(crate) fn state(
    l: &Listener,
    bound: SocketAddr,
    admission: Option<&Arc<Admission>>,
    upstreams: &Arc<crate::upstream::Upstreams>,
    sinks: &super::sinks::Sinks,
    stats: &Stats,
    otel: Option<&crate::otel::Otel>,
) -> Result<ListenerState, StartError> {
    let tls = match &l.tls {
        Some(t) => Some(tls::server_config(t).map_err(|source| StartError::ListenerTls {
            name: l.name.clone(),
            source,
        })?),
        None => None,
    };
    let limits = (l.max_connections, l.connection_rate_limit);
    let admission = match admission.filter(|a| a.limits == limits) {
        Some(kept) => Some(kept.clone()),
        None => Admission::build(l, stats)?.map(Arc::new),
    };
    let proto = match &l.kind {
        ListenerKind::Http(h) => {
            let filters = handler::RouteFilters::build(&l.name, h, stats)?;
            let router =
                handler::Router::new(h.clone(), filters, upstreams.clone(), stats.listener(&l.name, h));
            let router = router.traced(otel.map(|o| o.hop(&l.name, l.tracing)));
            let router = Arc::new(router.with_log(handler::RequestLog::new(&h.options, |p| sinks.get(p))));
            let server = Arc::new(listener::HttpServer::new(
                &router,
                tls,
                &h.options,
                stats.listener_cx(&l.name),
            ));
            Proto::Http { server, router }
        }
        ListenerKind::Tcp(t) => Proto::Tcp(Arc::new(tcp::TcpProxy {
            upstreams: upstreams.clone(),
            cluster: t.cluster.index,
            tls,
            idle_timeout: t.idle_timeout,
            connections: stats.plain(crate::stats::names::TCP_UPSTREAM_CX, ("listener", &l.name)),
        })),
    };
    Ok(ListenerState {
        name: l.name.clone(),
        bound,
        admission,
        proto,
    })
}
