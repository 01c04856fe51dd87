//! Endpoint sets per EDS service name, shared by the xDS client (which publishes them) and
//! the proxy's clusters (which follow them like any other discovery source).

use mesh_core::policy::EndpointSet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// One `watch` per service name. A name nobody has published yet reads as an empty set
/// with `version: None` (not yet warm). The lock is taken only by the control plane: when
/// a cluster is built and when an assignment arrives.
#[derive(Debug, Clone, Default)]
pub struct EdsSets(Arc<Mutex<HashMap<String, watch::Sender<Arc<EndpointSet>>>>>);

impl EdsSets {
    /// Follows the assignment `service_name`.
    pub fn subscribe(&self, service_name: &str) -> watch::Receiver<Arc<EndpointSet>> {
        self.with(service_name, watch::Sender::subscribe)
    }

    /// Publishes `set` for `service_name` when it differs from the current one.
    pub fn publish(&self, service_name: &str, set: EndpointSet) {
        self.with(service_name, |sender| {
            sender.send_if_modified(|current| {
                let changed = **current != set;
                if changed {
                    *current = Arc::new(set);
                }
                changed
            })
        });
    }

    /// `f` on the sender for `service_name`, made (not yet warm) if it is new.
    fn with<T>(&self, service_name: &str, f: impl FnOnce(&watch::Sender<Arc<EndpointSet>>) -> T) -> T {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = map
            .entry(service_name.to_owned())
            .or_insert_with(|| watch::channel(Arc::new(EndpointSet::default())).0);
        f(sender)
    }
}
