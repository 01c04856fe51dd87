//! Static clusters as a source: one set, forever.

use mesh_core::policy::EndpointSet;
use std::sync::Arc;
use tokio::sync::watch;

/// A receiver holding `set` whose sender is already gone: it never changes, and consumers
/// that wait for a change (such as [`EndpointChanges`](crate::EndpointChanges)) see the end
/// of the source right after the first set. Lets static and discovered clusters share one
/// code path.
pub fn fixed(set: EndpointSet) -> watch::Receiver<Arc<EndpointSet>> {
    watch::channel(Arc::new(set)).1
}
