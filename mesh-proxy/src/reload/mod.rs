//! Configuration changes without dropped requests.
//!
//! Policy: a new configuration is built whole beside the one in force — clusters (an
//! unchanged cluster is reused with its pools, health and ejections; see
//! `upstream::build`), listener states, new sockets — and new clusters fed by a source that
//! starts empty are warmed (up to 15s, Envoy's `initial_fetch_timeout`) before anything
//! changes. Then one atomic store puts the new [`Generation`] in force:
//!
//! - a request that started keeps the router and clusters it started with to the end;
//! - the next request, on a new or an existing connection, uses the new configuration;
//! - a listener of the same name and address keeps its socket (nothing is refused while
//!   the switch happens); a new one is bound; a removed one stops accepting and drains
//!   (HTTP/1 closes after the in-flight request, HTTP/2 sends GOAWAY) for `drain_timeout`.
//!
//! Failure: anything that fails while building (invalid config, a port that cannot be
//! bound, an endpoints file that cannot be read, a TLS file) refuses the whole reload: it
//! is logged and counted in `mesh_server_config_reload_rejected_total`, and the
//! configuration in force serves on untouched. `admin.address` and the top-level `tracing`
//! (the span exporter) cannot change on reload.
//!
//! Placement: [`Runtime`] is the control plane's side, serialised by one async mutex; the
//! request path only loads the current generation (see [`Live`]).

mod generation;
mod listeners;
mod prepare;
mod sinks;
pub(crate) mod trigger;
mod xds;

pub(crate) use generation::{Generation, Live, Proto};
use prepare::{Prepared, prepare};

use crate::StartError;
use crate::drain::DrainOutcome;
use crate::otel::{self, Otel};
use crate::stats::{Stats, names};
use arc_swap::ArcSwap;
use listeners::{NewSlot, Slot};
use mesh_core::policy::Bootstrap;
use mesh_discovery::xds::client::{self, XdsHandle, XdsOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a reload waits for a new cluster's discovery to answer before going ahead.
const WARMING_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a new configuration was not applied; the one in force serves on.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Invalid(#[from] mesh_core::policy::InvalidConfig),
    #[error(transparent)]
    Refused(#[from] StartError),
    #[error("{key}: cannot change on reload (was {was}, now {now}); restart the proxy to change it")]
    Fixed {
        key: &'static str,
        was: String,
        now: String,
    },
}

/// The configuration in force and what outlives it: listener slots and stats.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) current: Arc<ArcSwap<Generation>>,
    pub(crate) stats: Stats,
    admin: SocketAddr,
    /// Who this proxy is, fixed at start (for `/server_info`).
    pub(crate) node: mesh_core::policy::Node,
    slots: tokio::sync::Mutex<Slots>,
    /// The management server's client, under `dynamic_resources`.
    xds: Option<XdsHandle>,
    /// The span exporter, fixed at start (see `otel`).
    otel: Option<Otel>,
}

#[derive(Debug)]
struct Slots {
    open: Vec<Slot>,
    next_id: usize,
    drain_timeout: Duration,
}

impl Runtime {
    /// Builds the first configuration and starts serving it.
    pub(crate) async fn start(config: &Bootstrap, stats: Stats) -> Result<Arc<Self>, StartError> {
        let none = Slots {
            open: Vec::new(),
            next_id: 0,
            drain_timeout: config.drain_timeout,
        };
        let xds = XdsOptions::for_config(config).map(|options| client::start(options, config.source.clone()));
        let eds = xds.as_ref().map(|x| &x.endpoints);
        let otel = config.tracing.as_ref().map(Otel::start).transpose()?;
        let (prepared, _warming) = prepare(config, &stats, &none, None, 1, eds, otel.as_ref()).await?;
        let runtime = Arc::new(Runtime {
            current: Arc::new(ArcSwap::from_pointee(prepared.generation)),
            stats,
            admin: config.admin.address,
            node: config.node.clone(),
            slots: tokio::sync::Mutex::new(Slots {
                next_id: prepared.next_id,
                ..none
            }),
            xds,
            otel,
        });
        if let Some(xds) = &runtime.xds {
            tokio::spawn(xds::follow(Arc::downgrade(&runtime), xds.configs.clone()));
        }
        let opened = runtime.open(prepared.bound);
        runtime.slots.lock().await.open = opened;
        runtime
            .stats
            .unlabelled_gauge(names::SERVER_CONFIG_VERSION)
            .set(1.0);
        Ok(runtime)
    }

    /// A new configuration file: put in force, or, under a management server, merged with
    /// what it sent (see `xds`). Refused configurations change nothing.
    pub(crate) async fn reload(&self, config: &Bootstrap) -> Result<u64, ReloadError> {
        match &self.xds {
            Some(client) => self.rebase(client, config),
            None => self.apply(config).await,
        }
    }

    /// Puts `config` in force, or refuses it and changes nothing. Returns the new version.
    pub(crate) async fn apply(&self, config: &Bootstrap) -> Result<u64, ReloadError> {
        let result = self.try_reload(config).await;
        match &result {
            Ok(version) => {
                tracing::info!(version, "configuration reloaded");
                self.stats.unlabelled(names::SERVER_CONFIG_RELOAD).increment(1);
                self.stats
                    .unlabelled_gauge(names::SERVER_CONFIG_VERSION)
                    .set(*version as f64);
            }
            Err(e) => self.rejected(e),
        }
        result
    }

    /// Logs and counts a configuration that was not applied (also one that did not load).
    pub(crate) fn rejected(&self, error: &ReloadError) {
        tracing::warn!(%error, "configuration rejected; the previous one stays in force");
        self.stats
            .unlabelled(names::SERVER_CONFIG_RELOAD_REJECTED)
            .increment(1);
    }

    async fn try_reload(&self, config: &Bootstrap) -> Result<u64, ReloadError> {
        if config.admin.address != self.admin {
            return Err(ReloadError::Fixed {
                key: "admin.address",
                was: self.admin.to_string(),
                now: config.admin.address.to_string(),
            });
        }
        let tracing = self.otel.as_ref().map(Otel::config);
        if config.tracing.as_ref() != tracing {
            return Err(ReloadError::Fixed {
                key: "tracing",
                was: otel::describe(tracing),
                now: otel::describe(config.tracing.as_ref()),
            });
        }
        let mut slots = self.slots.lock().await;
        let previous = self.current.load_full();
        let version = previous.version + 1;
        let eds = self.xds.as_ref().map(|x| &x.endpoints);
        let otel = self.otel.as_ref();
        let (prepared, warming) =
            prepare(config, &self.stats, &slots, Some(&previous), version, eds, otel).await?;
        let timeout = config
            .dynamic_resources
            .as_ref()
            .map_or(WARMING_TIMEOUT, |d| d.ads.initial_fetch_timeout);
        // One deadline for all of them: the reload waits at most `timeout`, however many
        // new clusters are still cold.
        let deadline = tokio::time::Instant::now() + timeout;
        for mut sets in warming {
            let answered = sets.wait_for(|s| s.version.is_some());
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                tracing::warn!("a new cluster's discovery has not answered; applying the reload anyway");
            }
        }
        let Prepared {
            generation,
            kept,
            bound,
            next_id,
        } = prepared;
        self.current.store(Arc::new(generation));
        let (mut open, removed): (Vec<Slot>, Vec<Slot>) = std::mem::take(&mut slots.open)
            .into_iter()
            .partition(|s| kept.contains(&s.id));
        for slot in removed {
            let name = previous
                .listener(slot.id)
                .map(|l| l.name.as_str())
                .unwrap_or_default();
            tracing::info!(listener = name, "listener removed; draining");
            tokio::spawn(slot.drain.drain(config.drain_timeout));
        }
        open.extend(self.open(bound));
        *slots = Slots {
            open,
            next_id,
            drain_timeout: config.drain_timeout,
        };
        Ok(version)
    }

    /// Starts accepting on newly bound slots (their state is in force already).
    fn open(&self, bound: Vec<NewSlot>) -> Vec<Slot> {
        bound
            .into_iter()
            .map(|new| {
                tracing::info!(listener = %new.name, address = %new.slot.bound, "listening");
                let live = Live {
                    current: self.current.clone(),
                    slot: new.slot.id,
                };
                tokio::spawn(crate::accept::accept_loop(new.socket, new.watch, live));
                new.slot
            })
            .collect()
    }

    /// Drains every listener at once, for up to the configured `drain_timeout`.
    pub(crate) async fn shutdown(&self) -> DrainOutcome {
        let mut slots = self.slots.lock().await;
        let timeout = slots.drain_timeout;
        let drains = slots.open.drain(..).map(|s| s.drain.drain(timeout));
        let outcomes = futures_util::future::join_all(drains).await;
        // After the drain, so the spans of the requests it let finish are exported too.
        if let Some(otel) = &self.otel {
            otel.shutdown().await;
        }
        match outcomes.contains(&DrainOutcome::TimedOut) {
            true => DrainOutcome::TimedOut,
            false => DrainOutcome::Complete,
        }
    }
}
