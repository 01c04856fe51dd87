//! The registry over xDS: keeps a [`SnapshotCache`] of its services as CDS/EDS/LDS resources
//! (see `xds_resources`) and serves it over ADS (see [`crate::xds`]).
//!
//! Policy: the snapshot holds every service with a live instance ([`Store::services`]) plus
//! every valid service name some client subscribes to by name ([`Subscriptions`]), so wildcard
//! subscribers (CDS, LDS) get every live service and named subscribers (EDS, gRPC's LDS) get
//! what they ask for, empty if it has no instances: the same rule as the HTTP API, where an
//! unknown service reads as empty. So a gRPC client started before its backend sees a service
//! with no endpoints (and `wait_for_ready` calls wait), not a missing one, and an EDS client,
//! which keeps a resource the server stops naming, is told when the last instance goes.
//! The publisher rebuilds the whole snapshot, from one [`Store::snapshot`] of those names,
//! whenever [`Store::versions`] moves or the subscribed names change.
//!
//! Failure: a store that cannot answer leaves the last snapshot served, is logged at `warn`,
//! and is retried every second until it answers. Stopping the registry stops the publisher.

use super::model::ServiceName;
use super::store::{Store, StoreError};
use super::xds_resources::{any, cluster, listener, load_assignment};
use crate::xds::api::type_url;
use crate::xds::{SnapshotCache, Subscriptions};
use prost_types::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How soon a failed rebuild is tried again when nothing changes meanwhile.
const RETRY: Duration = Duration::from_secs(1);

/// Rebuilds and publishes the snapshot on every store or subscription change, until the
/// store's version channel closes or the task is aborted.
pub(super) async fn publish<S: Store>(
    store: Arc<S>,
    cache: Arc<SnapshotCache>,
    subscriptions: Arc<Subscriptions>,
) {
    let mut versions = store.versions();
    let mut subscribed = subscriptions.changes();
    loop {
        // Marked seen before reading, so a change during the rebuild triggers another.
        let version = *versions.borrow_and_update();
        subscribed.borrow_and_update();
        let failed = match build(store.as_ref(), &subscriptions.names()).await {
            Ok(by_type) => {
                let changed = cache.publish(by_type);
                debug!(version, changed, "xDS snapshot rebuilt");
                false
            }
            Err(e) => {
                warn!("xDS snapshot not rebuilt, serving the last one: {e}");
                true
            }
        };
        tokio::select! {
            changed = versions.changed() => if changed.is_err() { return },
            _ = subscribed.changed() => {} // the sender lives in `subscriptions`, held here
            () = tokio::time::sleep(RETRY), if failed => {}
        }
    }
}

/// Every resource by type URL, then name, for the services live now and those subscribed to.
/// A subscribed name that is not a valid service name (`*`, a typo with a `/`) is not served.
async fn build<S: Store>(
    store: &S,
    subscribed: &BTreeSet<String>,
) -> Result<BTreeMap<String, BTreeMap<String, Any>>, StoreError> {
    let mut names: BTreeSet<ServiceName> = store.services().await?.into_iter().collect();
    names.extend(
        subscribed
            .iter()
            .filter_map(|n| ServiceName::new(n.as_str()).ok()),
    );
    let names: Vec<ServiceName> = names.into_iter().collect();
    let snapshot = store.snapshot(&names).await?;
    let mut clusters = BTreeMap::new();
    let mut assignments = BTreeMap::new();
    let mut listeners = BTreeMap::new();
    for (service, instances) in &snapshot.services {
        let name = service.to_string();
        clusters.insert(name.clone(), any(type_url::CLUSTER, &cluster(service)));
        let assignment = load_assignment(service, instances);
        assignments.insert(name.clone(), any(type_url::CLUSTER_LOAD_ASSIGNMENT, &assignment));
        listeners.insert(name, any(type_url::LISTENER, &listener(service)));
    }
    Ok(BTreeMap::from([
        (type_url::CLUSTER.to_owned(), clusters),
        (type_url::CLUSTER_LOAD_ASSIGNMENT.to_owned(), assignments),
        (type_url::LISTENER.to_owned(), listeners),
    ]))
}
