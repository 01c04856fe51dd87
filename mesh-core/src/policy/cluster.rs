//! Validated clusters and endpoints.

use super::errors::{Issues, Path};
use super::readable_file;
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Envoy's default `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Envoy's default upstream `idle_timeout`.
pub const DEFAULT_UPSTREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    #[serde(with = "serde_str")]
    pub connect_timeout: Duration,
    pub lb_policy: super::LbPolicy,
    pub common_lb: super::CommonLb,
    pub slow_start: Option<super::SlowStart>,
    /// Drop hosts that discovery removed even while they pass health checks.
    pub ignore_health_on_host_removal: bool,
    pub protocol: UpstreamProtocol,
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub idle_timeout: Option<Duration>,
    pub tls: Option<UpstreamTls>,
    /// Static endpoints; empty when `discovery` is not `Static`.
    pub endpoints: Vec<Endpoint>,
    /// Where the endpoints come from: `Static` is the list above.
    pub discovery: super::Discovery,
    pub health_checks: Vec<super::HealthCheck>,
    pub outlier_detection: Option<super::OutlierDetection>,
    /// Per-priority thresholds; Envoy's defaults when the file sets none.
    pub circuit_breakers: super::CircuitBreakers,
    /// `track_cluster_stats.per_endpoint_stats`: export series per endpoint.
    pub per_endpoint_stats: bool,
}

/// Which HTTP version mesh speaks to a cluster's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamProtocol {
    /// HTTP/1.1 (the default, as in Envoy).
    Http1,
    /// HTTP/2: by ALPN over TLS, prior knowledge (h2c) in cleartext.
    Http2,
    /// Over TLS, whatever ALPN negotiates; in cleartext, the downstream request's version.
    Auto,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpstreamTls {
    pub sni: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub address: SocketAddr,
    pub weight: NonZeroU32,
    /// 0 is the highest priority.
    pub priority: u32,
    pub zone: Option<String>,
    pub metadata: BTreeMap<String, serde_json::Value>,
}

pub(crate) fn build(raw: &config::Cluster, path: &Path, issues: &mut Issues) -> Option<Cluster> {
    let name = issues.required(&raw.name, &path.key("name")).cloned();
    let connect_timeout = issues.duration(
        &raw.connect_timeout,
        &path.key("connect_timeout"),
        DEFAULT_CONNECT_TIMEOUT,
    );
    if connect_timeout.is_zero() {
        issues.push(&path.key("connect_timeout"), "must be greater than 0s");
    }
    let idle_timeout = issues.timeout(
        &raw.idle_timeout,
        &path.key("idle_timeout"),
        DEFAULT_UPSTREAM_IDLE_TIMEOUT,
    );
    let lb_policy = super::lb::policy(raw, path, issues);
    let common_lb = super::lb::common(
        raw.common_lb_config.as_ref(),
        &path.key("common_lb_config"),
        issues,
    );
    let slow_start = raw
        .slow_start_config
        .as_ref()
        .map(|s| super::lb::slow_start(s, &path.key("slow_start_config"), issues));
    let protocol = match raw.protocol.unwrap_or(config::UpstreamProtocol::Http1) {
        config::UpstreamProtocol::Http1 => UpstreamProtocol::Http1,
        config::UpstreamProtocol::Http2 => UpstreamProtocol::Http2,
        config::UpstreamProtocol::Auto => UpstreamProtocol::Auto,
    };
    let tls = raw.tls.as_ref().and_then(|t| tls(t, &path.key("tls"), issues));
    let endpoints: Vec<_> = raw
        .endpoints
        .iter()
        .enumerate()
        .filter_map(|(i, e)| endpoint(e, &path.key("endpoints").idx(i), issues))
        .collect();
    let discovery = super::discovery::build(raw, path, issues);
    let health_checks: Vec<_> = raw
        .health_checks
        .iter()
        .enumerate()
        .filter_map(|(i, h)| super::health::build(h, &path.key("health_checks").idx(i), issues))
        .collect();
    let outlier_detection = raw
        .outlier_detection
        .as_ref()
        .map(|o| super::outlier::build(o, &path.key("outlier_detection"), issues));
    let circuit_breakers = super::circuit_breaker::build(
        raw.circuit_breakers.as_ref(),
        &path.key("circuit_breakers"),
        issues,
    );
    (endpoints.len() == raw.endpoints.len()
        && (raw.tls.is_none() || tls.is_some())
        && health_checks.len() == raw.health_checks.len())
    .then_some(())?;
    Some(Cluster {
        name: name?,
        connect_timeout,
        lb_policy: lb_policy?,
        common_lb,
        slow_start: slow_start.map(|s| s.ok_or(())).transpose().ok()?,
        ignore_health_on_host_removal: raw.ignore_health_on_host_removal.unwrap_or(false),
        protocol,
        idle_timeout,
        tls,
        endpoints,
        discovery: discovery?,
        health_checks,
        outlier_detection: outlier_detection.map(|o| o.ok_or(())).transpose().ok()?,
        circuit_breakers: circuit_breakers?,
        per_endpoint_stats: (raw.track_cluster_stats.as_ref())
            .is_some_and(|t| t.per_endpoint_stats == Some(true)),
    })
}

fn tls(raw: &config::UpstreamTls, path: &Path, issues: &mut Issues) -> Option<UpstreamTls> {
    let before = issues.0.len();
    let ca_file = raw
        .ca_file
        .as_ref()
        .and_then(|f| readable_file(f, &path.key("ca_file"), issues));
    let client_cert = match (&raw.cert_file, &raw.key_file) {
        (None, None) => None,
        (Some(c), Some(k)) => Some((
            readable_file(c, &path.key("cert_file"), issues)?,
            readable_file(k, &path.key("key_file"), issues)?,
        )),
        (Some(_), None) => {
            issues.push(&path.key("key_file"), "is required when cert_file is set");
            None
        }
        (None, Some(_)) => {
            issues.push(&path.key("cert_file"), "is required when key_file is set");
            None
        }
    };
    if let Some(sni) = &raw.sni
        && (sni.is_empty() || sni.contains(|c: char| c.is_whitespace() || c == '/'))
    {
        issues.push(&path.key("sni"), format!("{sni:?} is not a server name"));
    }
    (issues.0.len() == before).then(|| UpstreamTls {
        sni: raw.sni.clone(),
        ca_file,
        client_cert,
    })
}

/// One endpoint, for a cluster's `endpoints` and for endpoints files alike.
pub(crate) fn endpoint(raw: &config::Endpoint, path: &Path, issues: &mut Issues) -> Option<Endpoint> {
    let addr_path = path.key("address");
    let address = issues
        .required(&raw.address, &addr_path)
        .and_then(|a| issues.check(&addr_path, super::socket_addr(a)));
    let weight = match raw.weight {
        None => NonZeroU32::MIN,
        Some(w) => match NonZeroU32::new(w) {
            Some(w) => w,
            None => {
                issues.push(&path.key("weight"), "must be at least 1");
                return None;
            }
        },
    };
    Some(Endpoint {
        address: address?,
        weight,
        priority: raw.priority.unwrap_or(0),
        zone: raw.zone.clone(),
        metadata: raw.metadata.clone(),
    })
}
