//! What starts a reload from the configuration file: the file changing, or `SIGHUP`.
//!
//! Policy: the file is read every `interval` (1s by default) and compared with the last
//! content seen, so an editor's atomic rename and an in-place write both count, and a
//! touch that changes nothing does not. `SIGHUP` reloads at once, changed or not
//! (Envoy-style operators and `systemctl reload` expect that).
//!
//! Failure: a file that cannot be read or does not validate is rejected once per distinct
//! content — logged with the file, key path and reason, and counted — and the
//! configuration in force serves on; the next change is tried as usual. A file that is
//! half-written when read is simply rejected, and taken on the next poll once complete.

use super::{ReloadError, Runtime};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How often the configuration file is compared with the last content seen.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Follows `path`, whose content was `seen` when the watch began, until the runtime is
/// dropped.
async fn watch_file(
    runtime: std::sync::Weak<Runtime>,
    path: PathBuf,
    mut seen: Option<Vec<u8>>,
    mut hangup: Hangups,
    interval: Duration,
) {
    loop {
        let forced = tokio::select! {
            () = tokio::time::sleep(interval) => false,
            () = next(&mut hangup) => true,
        };
        let Some(runtime) = runtime.upgrade() else { return };
        let content = tokio::fs::read(&path).await.ok();
        if !forced && content == seen {
            continue;
        }
        seen = content;
        if forced {
            tracing::info!(file = %path.display(), "SIGHUP: reloading the configuration");
        }
        match mesh_core::load::load_file(&path) {
            Ok(config) => {
                // `reload` logs and counts either way.
                let _ = runtime.reload(&config).await;
            }
            Err(e) => runtime.rejected(&ReloadError::Invalid(e)),
        }
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup())
        .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP; the file is still watched"))
        .ok()
}

#[cfg(not(unix))]
fn hangups() -> Hangups {}

#[cfg(unix)]
async fn next(hangup: &mut Hangups) {
    let received = match hangup {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    };
    if !received {
        // No signal stream (or it ended): only the file poll triggers reloads.
        *hangup = None;
        std::future::pending::<()>().await;
    }
}

#[cfg(not(unix))]
async fn next(_: &mut Hangups) {
    std::future::pending().await
}

/// Keeps the watch going for as long as the handle lives.
#[derive(Debug)]
pub struct ConfigWatch(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for ConfigWatch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the watch; the file's content now and the signal handler are taken before this
/// returns, so a change or a SIGHUP right after it is not missed.
pub(crate) fn spawn(runtime: &Arc<Runtime>, path: PathBuf, interval: Duration) -> ConfigWatch {
    let seen = std::fs::read(&path).ok();
    let watch = watch_file(Arc::downgrade(runtime), path, seen, hangups(), interval);
    ConfigWatch(tokio::spawn(watch))
}
