//! The registry over xDS: keeps a [`SnapshotCache`] of its services as CDS/EDS/LDS resources
//! (see `xds_resources`) and serves it over ADS (see [`crate::xds`]).
//!
//! Policy: the publisher rebuilds the whole snapshot whenever [`Store::versions`] moves, from
//! [`Store::services`] and one [`Store::snapshot`] of them. Wildcard subscribers (CDS, LDS)
//! get every service; named subscribers (EDS, gRPC's LDS) get the names they ask for. A
//! service stays in the snapshot once seen, with an empty ClusterLoadAssignment when its last
//! instance goes (the registry's own rule: services are never forgotten, and an EDS client,
//! which keeps a resource the server stops naming, must be told it has no endpoints). A name
//! no instance ever registered under is not served until one does; gRPC then reports the
//! resource missing after its own timer (15s).
//!
//! Failure: a store that cannot answer leaves the last snapshot served, is logged at `warn`,
//! and is retried every second until it answers. Stopping the registry stops the publisher.

use super::model::ServiceName;
use super::store::{Store, StoreError};
use super::xds_resources::{any, cluster, listener, load_assignment};
use crate::xds::SnapshotCache;
use crate::xds::api::type_url;
use prost_types::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How soon a failed rebuild is tried again when nothing changes meanwhile.
const RETRY: Duration = Duration::from_secs(1);

/// Rebuilds and publishes the snapshot on every store change, until the store's version
/// channel closes or the task is aborted.
pub(super) async fn publish<S: Store>(store: Arc<S>, cache: Arc<SnapshotCache>) {
    let mut versions = store.versions();
    let mut known = BTreeSet::new();
    loop {
        // Marked seen before reading, so a change during the rebuild triggers another.
        let version = *versions.borrow_and_update();
        let failed = match build(store.as_ref(), &mut known).await {
            Ok(by_type) => {
                let changed = cache.publish(by_type);
                debug!(version, services = known.len(), changed, "xDS snapshot rebuilt");
                false
            }
            Err(e) => {
                warn!("xDS snapshot not rebuilt, serving the last one: {e}");
                true
            }
        };
        tokio::select! {
            changed = versions.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(RETRY), if failed => {}
        }
    }
}

/// Every resource by type URL, then name, for the services in `known` plus those live now.
async fn build<S: Store>(
    store: &S,
    known: &mut BTreeSet<ServiceName>,
) -> Result<BTreeMap<String, BTreeMap<String, Any>>, StoreError> {
    known.extend(store.services().await?);
    let names: Vec<ServiceName> = known.iter().cloned().collect();
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
