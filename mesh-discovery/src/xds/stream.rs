//! One ADS stream's state of the world: what the client subscribed to per type, what it was
//! last sent, and when to send again. Pure logic (no I/O), driven by [`server`](super::server).
//!
//! See the [module doc](super) for the protocol rules and the state diagram.

use super::api::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use super::server::AdsStats;
use super::snapshot::Snapshot;
use super::subscriptions::Subscriptions;
use prost_types::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tracing::{debug, warn};

/// A request the stream cannot go on from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DiscoveryRequest without a type_url (ADS needs one on every request)")]
pub struct MissingTypeUrl;

/// The per-stream state.
#[derive(Debug)]
pub(crate) struct AdsStream {
    types: BTreeMap<String, TypeState>,
    /// Type URLs for which an empty first subscription means "everything" (CDS, LDS).
    wildcard_types: Arc<BTreeSet<String>>,
    nonces: u64,
    stats: Arc<AdsStats>,
    /// Shared by every stream: this one's names are added and, when it ends, released.
    subscriptions: Arc<Subscriptions>,
}

#[derive(Debug, Default)]
struct TypeState {
    names: BTreeSet<String>,
    wildcard: bool,
    /// The client named resources of this type at least once: from then on an empty list means
    /// "none", not "all" (the xDS legacy-wildcard rule).
    named: bool,
    sent: Option<Sent>,
    /// The version the client last rejected; it is not sent again.
    nacked: Option<String>,
}

#[derive(Debug)]
struct Sent {
    version: String,
    nonce: String,
    resources: Vec<Any>,
}

impl AdsStream {
    pub(crate) fn new(
        wildcard_types: Arc<BTreeSet<String>>,
        stats: Arc<AdsStats>,
        subscriptions: Arc<Subscriptions>,
    ) -> Self {
        AdsStream {
            types: BTreeMap::new(),
            wildcard_types,
            nonces: 0,
            stats,
            subscriptions,
        }
    }

    /// Takes a request (subscription, ACK or NACK); returns the response it calls for, if any.
    pub(crate) fn on_request(
        &mut self,
        request: DiscoveryRequest,
        snapshot: &Snapshot,
    ) -> Result<Option<DiscoveryResponse>, MissingTypeUrl> {
        if request.type_url.is_empty() {
            return Err(MissingTypeUrl);
        }
        let wildcard_type = self.wildcard_types.contains(&request.type_url);
        let state = self.types.entry(request.type_url.clone()).or_default();
        let first = state.sent.is_none();
        if let Some(sent) = &state.sent {
            // A response the client has not seen yet is on its way: this request answers an
            // older one and says nothing about the current state (the xDS nonce rule).
            if request.response_nonce != sent.nonce {
                debug!(type_url = %request.type_url, nonce = %request.response_nonce, "stale nonce ignored");
                return Ok(None);
            }
            if let Some(error) = &request.error_detail {
                self.stats.nacks.fetch_add(1, Ordering::Relaxed);
                warn!(
                    type_url = %request.type_url,
                    version = %sent.version,
                    code = error.code,
                    message = %error.message,
                    "xDS client rejected (NACK) a response; not sending that version again"
                );
                state.nacked = Some(sent.version.clone());
            }
        }
        let names: BTreeSet<String> = request.resource_names.into_iter().collect();
        let explicit_wildcard = names.contains("*");
        state.named |= names.iter().any(|n| n != "*");
        let wildcard = explicit_wildcard || (names.is_empty() && wildcard_type && !state.named);
        let resubscribed = names != state.names || wildcard != state.wildcard;
        self.subscriptions.replace(&state.names, &names);
        state.names = names;
        state.wildcard = wildcard;

        let Some(resources) = snapshot.get(&request.type_url) else {
            return Ok(None); // nothing of this type yet: answered when it is published
        };
        let due = first
            || resubscribed
            || (resources.version != request.version_info
                && state.nacked.as_deref() != Some(&resources.version));
        if !due {
            return Ok(None);
        }
        Ok(self.respond(&request.type_url, snapshot, resubscribed || first))
    }

    /// A new snapshot: the responses it calls for, one per type whose subscribed resources
    /// changed.
    pub(crate) fn on_snapshot(&mut self, snapshot: &Snapshot) -> Vec<DiscoveryResponse> {
        let due: Vec<String> = self
            .types
            .iter()
            .filter(|(type_url, state)| {
                let Some(resources) = snapshot.get(type_url) else {
                    return false;
                };
                let sent = state.sent.as_ref().map(|s| s.version.as_str());
                // Not yet answered at all: the first request waits for this type to appear.
                sent != Some(&resources.version) && state.nacked.as_deref() != Some(&resources.version)
            })
            .map(|(type_url, _)| type_url.clone())
            .collect();
        due.iter()
            .filter_map(|type_url| self.respond(type_url, snapshot, false))
            .collect()
    }

    /// Builds the response for `type_url`, unless (and `force` is off) it would carry exactly
    /// the resources the client was last sent: a change to other resources of the type does not
    /// concern a client that subscribed by name.
    fn respond(&mut self, type_url: &str, snapshot: &Snapshot, force: bool) -> Option<DiscoveryResponse> {
        let resources = snapshot.get(type_url)?;
        let state = self.types.get_mut(type_url)?;
        let selected: Vec<Any> = if state.wildcard {
            resources.resources.values().cloned().collect()
        } else {
            let named = state.names.iter().filter_map(|n| resources.resources.get(n));
            named.cloned().collect()
        };
        if !force && state.sent.as_ref().is_some_and(|s| s.resources == selected) {
            return None;
        }
        // Nothing to tell a client that has nothing: a name not (yet) served is answered when
        // it appears, and xDS clients time out missing resources on their own.
        let had_none = state.sent.as_ref().is_none_or(|s| s.resources.is_empty());
        if !state.wildcard && selected.is_empty() && had_none {
            return None;
        }
        self.nonces += 1;
        let nonce = self.nonces.to_string();
        state.sent = Some(Sent {
            version: resources.version.clone(),
            nonce: nonce.clone(),
            resources: selected.clone(),
        });
        self.stats.responses.fetch_add(1, Ordering::Relaxed);
        debug!(%type_url, version = %resources.version, %nonce, count = selected.len(), "sending");
        Some(DiscoveryResponse {
            version_info: resources.version.clone(),
            resources: selected,
            type_url: type_url.to_owned(),
            nonce,
            ..DiscoveryResponse::default()
        })
    }
}

impl Drop for AdsStream {
    fn drop(&mut self) {
        for state in self.types.values() {
            self.subscriptions.replace(&state.names, &BTreeSet::new());
        }
    }
}
