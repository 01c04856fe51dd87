//! An endpoints file the proxy watches (a cluster's `discovery: { file: ... }`), in a
//! private temporary directory removed on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct EndpointsFile {
    dir: PathBuf,
    path: PathBuf,
}

impl EndpointsFile {
    /// A new file listing `hosts`.
    pub fn new(hosts: &[SocketAddr]) -> EndpointsFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesh-endpoints-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = EndpointsFile {
            path: dir.join("endpoints.yaml"),
            dir,
        };
        file.set(hosts);
        file
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lists `hosts` (version: their count), replacing the file atomically as a
    /// deployment tool would: write aside, then rename over.
    pub fn set(&self, hosts: &[SocketAddr]) {
        let list: Vec<String> = hosts.iter().map(|a| format!("  - address: \"{a}\"\n")).collect();
        self.write(&format!(
            "version: \"{}\"\nendpoints:\n{}",
            hosts.len(),
            list.concat()
        ));
    }

    /// Replaces the file's text atomically (for broken files too).
    pub fn write(&self, text: &str) {
        let aside = self.dir.join("endpoints.yaml.tmp");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(&aside, &self.path).unwrap();
    }
}

impl Drop for EndpointsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
