//! A watched endpoints file: Envoy's filesystem EDS, by polling.
//!
//! Policy: the file is read once when the source starts and then every `refresh_interval`.
//! A read whose bytes equal the last bytes read is done (nothing to parse); otherwise the text
//! is parsed and validated by [`mesh_core::load::endpoints_from_yaml`], and the set is
//! published only when it differs from the one published last.
//!
//! Polling rather than inotify (`notify`): one `read` per interval per cluster is cheap, works
//! the same on every filesystem (network mounts and Kubernetes ConfigMap symlink swaps
//! included), and cannot miss an event. Writers should write a new file and rename it over the
//! old one, so that a read sees either the old or the new file, never half of one.
//!
//! States, per poll:
//!
//! ```text
//!            read ok, new bytes, valid                read error / invalid
//!   Good ───────────────────────────▶ Good   Good ─────────────────────────▶ Failing(e)
//!   Failing(e) ─────────────────────▶ Good   Failing(e) ── other error e' ─▶ Failing(e')
//! ```
//!
//! Failure: a file that cannot be read or does not validate at start is an error from
//! [`FileSource::start`] (the proxy refuses to start, naming the file and key paths). At run
//! time the last good set stays published; the error is logged at `warn` and counted in
//! [`SourceStats::rejected`](crate::SourceStats::rejected) once when it first appears (not at
//! every poll while it persists), and kept in `last_error`. A read error forgets the bytes
//! last seen, so the same file coming back is parsed again.

#[cfg(test)]
mod tests;

use crate::SourceHandle;
use crate::handle::SourceStats;
use mesh_core::policy::{ConfigError, EndpointSet, InvalidConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{self, Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

/// Endpoints from a YAML (or JSON) file, re-read every `refresh_interval`.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    refresh_interval: Duration,
}

impl FileSource {
    /// `path` is used as given: a relative path is taken from the working directory. A zero
    /// `refresh_interval` is raised to 1ms (config validation refuses 0s already).
    pub fn new(path: impl Into<PathBuf>, refresh_interval: Duration) -> Self {
        FileSource {
            path: path.into(),
            refresh_interval: refresh_interval.max(Duration::from_millis(1)),
        }
    }

    /// Reads and validates the file now, then watches it from a task on the current tokio
    /// runtime. The receiver holds the latest good set; the task stops when every receiver has
    /// been dropped or when the handle is dropped.
    ///
    /// Errors: the file cannot be read or is invalid (every mistake, as `load::endpoints_file`
    /// reports them), or there is no tokio runtime to run the watch on.
    pub fn start(self) -> Result<(watch::Receiver<Arc<EndpointSet>>, SourceHandle), InvalidConfig> {
        let origin = self.path.display().to_string();
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| invalid(&origin, format!("cannot watch the file: {e}")))?;
        let bytes = std::fs::read(&self.path).map_err(|e| read_error(&origin, &e))?;
        let set = parse(&origin, &bytes)?;
        debug!(file = %origin, version = ?set.version, endpoints = set.endpoints.len(), "loaded");
        let (tx, rx) = watch::channel(Arc::new(set));
        let stats = Arc::new(SourceStats::default());
        stats.loaded();
        let watcher = Watcher {
            origin,
            path: self.path,
            refresh_interval: self.refresh_interval,
            tx,
            stats: Arc::clone(&stats),
            seen: Some(bytes),
            failing: None,
        };
        Ok((rx, SourceHandle::new(runtime.spawn(watcher.run()), stats)))
    }
}

/// The background half of a [`FileSource`].
struct Watcher {
    origin: String,
    path: PathBuf,
    refresh_interval: Duration,
    tx: watch::Sender<Arc<EndpointSet>>,
    stats: Arc<SourceStats>,
    /// The bytes parsed last, valid or not: unchanged bytes need no parse, and a broken file
    /// left in place is reported once.
    seen: Option<Vec<u8>>,
    /// The error now in effect (`Failing` above), so each distinct one is logged once.
    failing: Option<String>,
}

impl Watcher {
    async fn run(mut self) {
        let every = self.refresh_interval;
        let mut ticks = time::interval_at(Instant::now() + every, every);
        // After a stall, one read catches up; a burst of reads would tell nothing more.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let closed = tokio::select! {
                () = self.tx.closed() => true,
                _ = ticks.tick() => false,
            };
            if closed {
                break;
            }
            self.poll().await;
        }
        debug!(file = %self.origin, "no receivers left; stopped watching");
    }

    async fn poll(&mut self) {
        let bytes = match tokio::fs::read(&self.path).await {
            Ok(bytes) => bytes,
            Err(e) => {
                self.seen = None;
                return self.reject(read_error(&self.origin, &e));
            }
        };
        if self.seen.as_ref() == Some(&bytes) {
            return;
        }
        let parsed = parse(&self.origin, &bytes);
        self.seen = Some(bytes);
        match parsed {
            Ok(set) => self.accept(set),
            Err(e) => self.reject(e),
        }
    }

    fn accept(&mut self, set: EndpointSet) {
        if self.failing.take().is_some() {
            info!(file = %self.origin, "the endpoints file is valid again");
        }
        let (version, endpoints) = (set.version.clone(), set.endpoints.len());
        let changed = self.tx.send_if_modified(|current| {
            let changed = **current != set;
            if changed {
                *current = Arc::new(set);
            }
            changed
        });
        if changed {
            self.stats.updated();
            debug!(file = %self.origin, ?version, endpoints, "published a new endpoint set");
        }
    }

    fn reject(&mut self, error: InvalidConfig) {
        let text = error.to_string();
        if self.failing.as_deref() == Some(text.as_str()) {
            return;
        }
        warn!(file = %self.origin, "keeping the last good endpoints: {text}");
        self.stats.rejected_with(&text);
        self.failing = Some(text);
    }
}

fn parse(origin: &str, bytes: &[u8]) -> Result<EndpointSet, InvalidConfig> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| invalid(origin, format!("the file is not UTF-8 text: {e}")))?;
    mesh_core::load::endpoints_from_yaml(text, origin)
}

fn read_error(origin: &str, e: &std::io::Error) -> InvalidConfig {
    invalid(origin, format!("cannot read file: {e}"))
}

fn invalid(origin: &str, message: String) -> InvalidConfig {
    InvalidConfig {
        origin: origin.to_owned(),
        errors: vec![ConfigError {
            path: String::new(),
            message,
        }],
    }
}
