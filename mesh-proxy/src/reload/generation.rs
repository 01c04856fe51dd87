//! One configuration in force: its clusters and, per listener slot, how connections are
//! served. Published whole through one `ArcSwap`, so a reload is one atomic store and a
//! request sees one configuration from start to end.

use crate::accept::Admission;
use crate::handler::Router;
use crate::listener::HttpServer;
use crate::tcp::TcpProxy;
use crate::upstream::Upstreams;
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct Generation {
    /// 1 for the configuration the proxy started with, then one more per applied reload.
    pub(crate) version: u64,
    /// `/config_dump`'s answer, rendered once.
    pub(crate) dump: String,
    pub(crate) upstreams: Arc<Upstreams>,
    /// By slot id; `None` for a slot this configuration no longer has (draining).
    pub(crate) listeners: Vec<Option<Arc<ListenerState>>>,
    /// Access log sinks by path, for the next configuration to keep.
    pub(crate) sinks: super::sinks::Sinks,
}

/// How one listener serves new connections under one configuration.
#[derive(Debug)]
pub(crate) struct ListenerState {
    pub(crate) name: String,
    pub(crate) bound: SocketAddr,
    pub(crate) admission: Option<Arc<Admission>>,
    pub(crate) proto: Proto,
}

#[derive(Debug)]
pub(crate) enum Proto {
    /// Connection handling, and the router requests use while this configuration is in force.
    Http {
        server: Arc<HttpServer>,
        router: Arc<Router>,
    },
    Tcp(Arc<TcpProxy>),
}

impl Generation {
    pub(crate) fn listener(&self, slot: usize) -> Option<&Arc<ListenerState>> {
        self.listeners.get(slot)?.as_ref()
    }

    pub(crate) fn listener_addr(&self, name: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .flatten()
            .find(|l| l.name == name)
            .map(|l| l.bound)
    }
}

/// What a listener's accept loop and connections read the configuration in force from.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub(crate) current: Arc<ArcSwap<Generation>>,
    pub(crate) slot: usize,
}

impl Live {
    /// This listener under the configuration in force; `None` once it was removed.
    pub(crate) fn state(&self) -> Option<Arc<ListenerState>> {
        self.current.load().listener(self.slot).cloned()
    }

    /// The router in force for this listener, for a request that starts now; `None`
    /// once the listener was removed or is no longer HTTP (its connections drain on
    /// the router they had).
    pub(crate) fn router(&self) -> Option<Arc<Router>> {
        match &self.current.load().listener(self.slot)?.proto {
            Proto::Http { router, .. } => Some(router.clone()),
            Proto::Tcp(_) => None,
        }
    }
}
