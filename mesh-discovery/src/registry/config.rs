//! The registry's settings and their defaults.

use std::time::Duration;

/// Lyft's discovery hosts checked in once a minute.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);
/// How long a long poll waits when `wait` is not given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The longest a long poll may wait, whatever `wait` asks: idle proxies and NATs cut longer ones.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// The registry's settings. `ttl` defaults to three missed heartbeats; the sweep runs every
/// `ttl / 3` unless `sweep_interval` says otherwise, so a dead host is gone within `4/3 × ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// How often hosts are told to heartbeat (returned by `PUT`); only sets the default TTL here.
    pub heartbeat_interval: Duration,
    pub ttl: Option<Duration>,
    pub sweep_interval: Option<Duration>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            ttl: None,
            sweep_interval: None,
        }
    }
}

/// A [`RegistryConfig`] the registry cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry {field}: {message}")]
pub struct InvalidRegistryConfig {
    pub field: &'static str,
    pub message: String,
}
