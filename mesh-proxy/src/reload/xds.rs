//! Configuration from a management server: each configuration the xDS client publishes
//! (the file's static part with every dynamic resource merged in, validated) is applied like
//! a reload; a new file replaces the static part the client merges into.

use super::{ReloadError, Runtime};
use mesh_core::policy::Bootstrap;
use mesh_discovery::xds::client::XdsHandle;
use std::sync::{Arc, Weak};
use tokio::sync::watch;

/// Applies every configuration the client publishes until it stops or the proxy goes.
pub(super) async fn follow(runtime: Weak<Runtime>, mut configs: watch::Receiver<Option<Arc<Bootstrap>>>) {
    while configs.changed().await.is_ok() {
        let Some(config) = configs.borrow_and_update().clone() else {
            continue;
        };
        let Some(runtime) = runtime.upgrade() else {
            return;
        };
        // `apply` logs and counts a refusal (e.g. a listener port in use); the last
        // configuration in force keeps serving.
        let _ = runtime.apply(&config).await;
    }
}

impl Runtime {
    /// A new file under a management server: its static part replaces the one the client
    /// merges into (published, then applied by [`follow`]); `dynamic_resources` itself is
    /// fixed at start. Returns the version in force now.
    pub(super) fn rebase(&self, client: &XdsHandle, config: &Bootstrap) -> Result<u64, ReloadError> {
        let current = client.configs.borrow().clone();
        let was = current.as_ref().and_then(|c| c.dynamic_resources.clone());
        if config.dynamic_resources != was && current.is_some() {
            let error = ReloadError::Fixed {
                key: "dynamic_resources",
                was: format!("{was:?}"),
                now: format!("{:?}", config.dynamic_resources),
            };
            self.rejected(&error);
            return Err(error);
        }
        client.set_base(config.source.clone());
        Ok(self.current.load().version)
    }
}
