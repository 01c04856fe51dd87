//! [`MeshClientBuilder`]: where the local proxy listens, and the client's default timeouts and
//! retries.
//!
//! The egress address comes from the builder, else from `MESH_EGRESS` (with
//! [`MeshClientBuilder::from_env`]), else [`DEFAULT_EGRESS`]: `127.0.0.1:10000`, the listener
//! of the demo proxy configuration (`examples/demo.yaml`) and of Envoy's own examples. A sidecar
//! whose egress listener is elsewhere is named with `MESH_EGRESS`. A value that is not `host:port` is an error naming where it
//! came from (`MESH_EGRESS: "localhost" is not host:port (no port)`).

use super::MeshClient;
use crate::options::{Defaults, Retries};
use http::uri::Authority;
use std::time::Duration;

/// The environment variable naming the local proxy's egress listener (`host:port`).
pub const EGRESS_ENV: &str = "MESH_EGRESS";
/// Where the client sends calls when nothing else is said.
pub const DEFAULT_EGRESS: &str = "127.0.0.1:10000";

/// The egress address is not `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {value:?} is not host:port ({reason})")]
pub struct InvalidEgress {
    /// Where the value came from: `MESH_EGRESS`, or `egress` for the builder.
    pub key: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// Builds a [`MeshClient`]; start from [`MeshClient::builder`] or [`MeshClientBuilder::from_env`].
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `build()`"]
pub struct MeshClientBuilder {
    egress: Option<(&'static str, String)>,
    pub(super) defaults: Defaults,
    pub(super) http2: bool,
}

impl MeshClientBuilder {
    /// The defaults: egress [`DEFAULT_EGRESS`], 15 s timeout, safe retries, HTTP/1.1.
    pub fn new() -> MeshClientBuilder {
        MeshClientBuilder::default()
    }

    /// The defaults, with the egress from `MESH_EGRESS` when it is set (checked in `build`).
    pub fn from_env() -> MeshClientBuilder {
        let builder = MeshClientBuilder::new();
        match std::env::var_os(EGRESS_ENV) {
            Some(value) => MeshClientBuilder {
                egress: Some((EGRESS_ENV, value.to_string_lossy().into_owned())),
                ..builder
            },
            None => builder,
        }
    }

    /// The local proxy's egress listener, `host:port` (overrides `MESH_EGRESS`).
    pub fn egress(mut self, addr: impl Into<String>) -> MeshClientBuilder {
        self.egress = Some(("egress", addr.into()));
        self
    }

    /// Every call must answer within `timeout` unless the call says otherwise (zero: none).
    pub fn timeout(mut self, timeout: Duration) -> MeshClientBuilder {
        self.defaults.timeout = Some(timeout).filter(|d| !d.is_zero());
        self
    }

    /// No timeout by default (not recommended: one hung upstream then holds the caller).
    pub fn no_timeout(mut self) -> MeshClientBuilder {
        self.defaults.timeout = None;
        self
    }

    /// A per-try timeout for every call, so a retry can still land within the timeout.
    pub fn per_try_timeout(mut self, timeout: Duration) -> MeshClientBuilder {
        self.defaults.per_try_timeout = Some(timeout);
        self
    }

    /// The retry policy of every call unless the call says otherwise.
    pub fn retries(mut self, retries: Retries) -> MeshClientBuilder {
        self.defaults.retries = retries;
        self
    }

    /// How much longer than the timeout to wait for the proxy's own answer (1 s by default).
    pub fn deadline_grace(mut self, grace: Duration) -> MeshClientBuilder {
        self.defaults.grace = grace;
        self
    }

    /// Speak HTTP/2 (h2c, prior knowledge) to the proxy: one connection for all calls.
    pub fn http2(mut self, on: bool) -> MeshClientBuilder {
        self.http2 = on;
        self
    }

    /// The client. Needs no runtime to build; calls need a tokio runtime.
    pub fn build(self) -> Result<MeshClient, InvalidEgress> {
        let egress = match &self.egress {
            Some((key, value)) => parse_egress(key, value)?,
            None => Authority::from_static(DEFAULT_EGRESS),
        };
        Ok(MeshClient::new(egress, self))
    }
}

/// Checks that `value` is `host:port` with a usable port.
pub(crate) fn parse_egress(key: &'static str, value: &str) -> Result<Authority, InvalidEgress> {
    let invalid = |reason| InvalidEgress {
        key,
        value: value.to_owned(),
        reason,
    };
    if value.contains(['/', '@']) {
        return Err(invalid("a scheme, path or user part is not allowed"));
    }
    let authority: Authority = value.trim().parse().map_err(|_| invalid("not an address"))?;
    if authority.host().is_empty() {
        return Err(invalid("no host"));
    }
    match authority.port_u16() {
        None if has_numeric_port(authority.as_str()) => Err(invalid("port out of range")),
        None => Err(invalid("no port")),
        Some(0) => Err(invalid("port 0")),
        Some(_) => Ok(authority),
    }
}

/// Whether `authority` ends in `:digits` (outside an IPv6 literal's brackets).
fn has_numeric_port(authority: &str) -> bool {
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_port_forms() {
        for ok in [
            "127.0.0.1:10000",
            "localhost:15001",
            "[::1]:10000",
            " 127.0.0.1:1 ",
        ] {
            let a = parse_egress(EGRESS_ENV, ok).unwrap();
            assert!(a.port_u16().is_some(), "{ok}");
        }
    }

    #[test]
    fn rejects_with_the_variable_and_reason() {
        let cases = [
            ("localhost", "no port"),
            ("127.0.0.1:0", "port 0"),
            (
                "http://127.0.0.1:10000",
                "a scheme, path or user part is not allowed",
            ),
            ("127.0.0.1:99999", "port out of range"),
            (":10000", "no host"),
            ("", "not an address"),
        ];
        for (value, reason) in cases {
            let err = parse_egress(EGRESS_ENV, value).unwrap_err();
            assert_eq!(err.reason, reason, "{value:?}");
            assert_eq!(
                err.to_string(),
                format!("MESH_EGRESS: {value:?} is not host:port ({reason})")
            );
        }
    }

    #[test]
    fn the_builder_checks_its_egress_and_defaults_to_the_demo_listener() {
        let err = MeshClient::builder().egress("nope").build().unwrap_err();
        assert_eq!(err.key, "egress");
        let client = MeshClient::builder().build().unwrap();
        assert_eq!(client.egress().as_str(), "127.0.0.1:10000");
    }
}
