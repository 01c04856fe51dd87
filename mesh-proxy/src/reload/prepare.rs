//! Building a configuration beside the one in force: clusters (reused where unchanged),
//! listener states, and sockets for listeners no open slot can take.

use super::Slots;
use super::generation::{Generation, ListenerState};
use super::listeners::{self, NewSlot, Slot};
use crate::drain;
use crate::otel::Otel;
use crate::stats::Stats;
use crate::upstream::Upstreams;
use crate::{StartError, unenforced};
use mesh_core::policy::Bootstrap;
use mesh_discovery::xds::client::EdsSets;
use std::sync::Arc;

/// A configuration built and ready to be put in force.
pub(super) struct Prepared {
    pub(super) generation: Generation,
    /// Open slots the new configuration keeps; the others drain.
    pub(super) kept: Vec<usize>,
    pub(super) bound: Vec<NewSlot>,
    pub(super) next_id: usize,
}

/// Builds everything `config` needs beside the configuration in force, binding only the
/// listeners no open slot can take.
pub(super) async fn prepare(
    config: &Bootstrap,
    stats: &Stats,
    slots: &Slots,
    previous: Option<&Generation>,
    version: u64,
    eds: Option<&EdsSets>,
    otel: Option<&Otel>,
) -> Result<(Prepared, Vec<crate::upstream::Warming>), StartError> {
    unenforced::refuse(config)?;
    let (upstreams, warming) = Upstreams::build(config, stats, previous.map(|g| &*g.upstreams), eds)?;
    let upstreams = Arc::new(upstreams);
    let sinks = super::sinks::Sinks::open(config, previous.map(|g| &g.sinks))?;
    let mut states: Vec<(usize, ListenerState)> = Vec::with_capacity(config.listeners.len());
    let (mut kept, mut bound, mut next_id) = (Vec::new(), Vec::new(), slots.next_id);
    for l in &config.listeners {
        let state = match listeners::matching(&slots.open, previous, &kept, l) {
            Some(slot) => {
                kept.push(slot.id);
                let admission = previous.and_then(|g| g.listener(slot.id)?.admission.as_ref());
                (
                    slot.id,
                    listeners::state(l, slot.bound, admission, &upstreams, &sinks, stats, otel)?,
                )
            }
            None => {
                let (socket, local) = listeners::bind(&l.name, l.address).await?;
                let state = listeners::state(l, local, None, &upstreams, &sinks, stats, otel)?;
                let (signal, watch) = drain::channel();
                let slot = Slot {
                    id: next_id,
                    configured: l.address,
                    bound: local,
                    drain: signal,
                };
                let name = l.name.clone();
                bound.push(NewSlot {
                    name,
                    slot,
                    socket,
                    watch,
                });
                next_id += 1;
                (next_id - 1, state)
            }
        };
        states.push(state);
    }
    let mut listeners: Vec<Option<Arc<ListenerState>>> = (0..next_id).map(|_| None).collect();
    for (id, state) in states {
        if let Some(at) = listeners.get_mut(id) {
            *at = Some(Arc::new(state));
        }
    }
    let generation = Generation {
        version,
        dump: dump(config, version),
        upstreams,
        listeners,
        sinks,
    };
    let prepared = Prepared {
        generation,
        kept,
        bound,
        next_id,
    };
    Ok((prepared, warming))
}

/// The effective configuration as JSON, with the version in force as `version_info`.
fn dump(config: &Bootstrap, version: u64) -> String {
    let mut value =
        serde_json::to_value(config).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    if let Some(object) = value.as_object_mut() {
        object.insert("version_info".into(), version.to_string().into());
    }
    serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
