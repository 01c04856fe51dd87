//! Validation errors that name the file, the key path and the reason.

use std::fmt;

/// One mistake in a configuration, e.g.
/// `clusters[1].endpoints[0].address: "10.0.0.1:99999" is not a socket address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Key path in the document (`listeners[0].virtual_hosts[1].domains[2]`); empty for
    /// errors about the document as a whole (YAML syntax).
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every mistake found in one configuration source, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidConfig {
    /// The file (or other source) the configuration came from.
    pub origin: String,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{}: invalid configuration ({n} error{})",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {}: {e}", self.origin)?;
        }
        Ok(())
    }
}

/// A key path under construction, e.g. `clusters[1].endpoints`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path(String);

impl Path {
    pub(crate) fn root() -> Self {
        Path(String::new())
    }

    pub(crate) fn key(&self, key: &str) -> Path {
        if self.0.is_empty() {
            Path(key.to_owned())
        } else {
            Path(format!("{}.{key}", self.0))
        }
    }

    pub(crate) fn idx(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }
}

/// Collects errors while a whole document is validated, so all are reported at once.
#[derive(Debug, Default)]
pub(crate) struct Issues(pub(crate) Vec<ConfigError>);

impl Issues {
    pub(crate) fn push(&mut self, path: &Path, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.0.clone(),
            message: message.into(),
        });
    }

    /// A required key: records "is required" when absent.
    pub(crate) fn required<'a, T>(&mut self, v: &'a Option<T>, path: &Path) -> Option<&'a T> {
        if v.is_none() {
            self.push(path, "is required");
        }
        v.as_ref()
    }

    /// Records the error of a fallible conversion and turns it into an `Option`.
    pub(crate) fn check<T>(&mut self, path: &Path, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.push(path, m)).ok()
    }

    /// An optional duration with a default.
    pub(crate) fn duration(
        &mut self,
        v: &Option<String>,
        path: &Path,
        default: std::time::Duration,
    ) -> std::time::Duration {
        match v {
            None => default,
            Some(s) => self.check(path, crate::duration::parse(s)).unwrap_or(default),
        }
    }

    /// An optional timeout where `0s` means "disabled".
    pub(crate) fn timeout(
        &mut self,
        v: &Option<String>,
        path: &Path,
        default: std::time::Duration,
    ) -> Option<std::time::Duration> {
        Some(self.duration(v, path, default)).filter(|d| !d.is_zero())
    }
}
