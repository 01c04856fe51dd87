//! The binary's log output: `tracing` to stderr through a filter `/logging` can replace
//! while the proxy runs.

use crate::LogControl;
use std::sync::{Arc, Mutex, PoisonError};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Installs the process-wide subscriber with `filter` (e.g. `info`, `mesh_proxy=debug`);
/// returns the control to hand to [`start_with`](crate::start_with). An invalid filter is
/// an error, not a silent default.
pub fn init(filter: &str) -> Result<Arc<dyn LogControl>, String> {
    let parsed = EnvFilter::try_new(filter).map_err(|e| format!("invalid log filter {filter:?}: {e}"))?;
    let (layer, handle) = reload::Layer::new(parsed);
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    tracing_subscriber::registry()
        .with(layer)
        .with(output)
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(Reloadable {
        handle,
        current: Mutex::new(filter.to_owned()),
    }))
}

#[derive(Debug)]
struct Reloadable {
    handle: reload::Handle<EnvFilter, Registry>,
    current: Mutex<String>,
}

impl LogControl for Reloadable {
    fn current(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, filter: &str) -> Result<(), String> {
        let parsed = EnvFilter::try_new(filter).map_err(|e| e.to_string())?;
        self.handle.reload(parsed).map_err(|e| e.to_string())?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = filter.to_owned();
        Ok(())
    }
}
