//! Access logs through the real proxy (docs/config.md, "Access logs"): lines written to files,
//! read back as a user would, in text and JSON; the response flags of each kind of failure;
//! reloads that keep or change a log.
//!
//! Lines are written by a background writer after the response body ends, so tests wait (within
//! a bound) for the count of lines they expect.

mod flags;
mod json;
mod reload;

use mesh_tests::eventually;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A fresh directory under the system's temp dir, removed when dropped.
pub(super) struct LogDir(PathBuf);

impl LogDir {
    pub(super) fn new(test: &str) -> LogDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesh-reqlog-{}-{test}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        LogDir(dir)
    }

    /// The path of log file `name` in this directory, as YAML text.
    pub(super) fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for LogDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lines of `path` so far (none when it does not exist yet).
pub(super) fn lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(Path::new(path))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Waits until `path` has at least `n` lines, then returns them all.
pub(super) async fn wait_lines(path: &str, n: usize) -> Vec<String> {
    let what = format!("{n} lines in {path}");
    eventually(Duration::from_secs(10), &what, || async {
        lines(path).len() >= n
    })
    .await;
    lines(path)
}
