//! `discovery.dns`: Envoy's STRICT_DNS cluster, validated.
//!
//! Policy: every A and AAAA record of `hostname` (as `lookup_family` allows) is an endpoint on
//! `port`, with weight 1, priority 0 and no zone. How often the name is resolved again, and what a
//! failed lookup does, is mesh-discovery's `DnsSource` (see its module doc); this module only
//! checks the knobs.
//!
//! Defaults (Envoy's where Envoy has the knob): `lookup_family: all` (Envoy's default is `auto`;
//! a mesh name usually means "every address", and `auto` is one word away), `respect_dns_ttl:
//! true` (Envoy: false; re-resolving on the records' TTL is the reason to use DNS discovery here),
//! `refresh_rate: 5s`, `failure_refresh_rate: { base_interval: 1s, max_interval: 10 × base }`,
//! `resolvers`: the system's (`/etc/resolv.conf`).
//!
//! Validation: `hostname` must be a DNS name (labels of letters, digits, `-` and `_`, at most 63
//! bytes each and 253 in all, an optional final dot), not an IP address (list it as a static
//! endpoint instead) and without a port (that is `port`). Intervals must be above 0s and
//! `max_interval` at least `base_interval`. Every mistake is reported with its key path.

use super::super::errors::{Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How often a name is resolved again when the records' TTL is not respected (and the longest
/// a TTL may defer the next lookup), unless `refresh_rate` says otherwise. Envoy's default.
pub const DEFAULT_DNS_REFRESH_RATE: Duration = Duration::from_secs(5);
/// The first retry's backoff after a failed lookup, unless `failure_refresh_rate` says otherwise.
pub const DEFAULT_DNS_FAILURE_BASE: Duration = Duration::from_secs(1);

/// Which records of a name become endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsLookupFamily {
    /// Every A and AAAA record.
    #[default]
    All,
    /// A records only.
    V4Only,
    /// AAAA records only.
    V6Only,
    /// The AAAA records if there are any, else the A records (Envoy's `AUTO`).
    Auto,
}

/// A validated `discovery.dns`: every address of `hostname` is an endpoint on `port` (weight 1,
/// priority 0, no zone). How the source uses the intervals: mesh-discovery's `DnsSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsDiscovery {
    /// As written: a final dot makes it absolute, so the resolver's search domains are not tried.
    pub hostname: String,
    pub port: u16,
    /// Default [`DnsLookupFamily::All`].
    pub lookup_family: DnsLookupFamily,
    /// Re-resolve on the answer's lowest TTL (within 1s and `refresh_rate`). Default true.
    pub respect_dns_ttl: bool,
    /// Default [`DEFAULT_DNS_REFRESH_RATE`] (5s).
    #[serde(with = "serde_str")]
    pub refresh_rate: Duration,
    /// Default 1s doubling to 10s.
    pub failure_refresh_rate: DnsBackoff,
    /// Empty: the system's resolvers (`/etc/resolv.conf`).
    pub resolvers: Vec<SocketAddr>,
}

/// Backoff bounds after a failed lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DnsBackoff {
    #[serde(with = "serde_str")]
    pub base_interval: Duration,
    #[serde(with = "serde_str")]
    pub max_interval: Duration,
}

pub(super) fn build(raw: &config::DnsDiscovery, path: &Path, issues: &mut Issues) -> Option<DnsDiscovery> {
    let host_path = path.key("hostname");
    let hostname = issues
        .required(&raw.hostname, &host_path)
        .and_then(|h| issues.check(&host_path, hostname(h)));
    let port_path = path.key("port");
    let port = issues.required(&raw.port, &port_path).and_then(|&p| {
        let port = u16::try_from(p).ok().filter(|&p| p != 0);
        issues.check(
            &port_path,
            port.ok_or_else(|| format!("{p} is not a port (1 to 65535)")),
        )
    });
    let lookup_family = match raw.lookup_family.as_deref() {
        None => Some(DnsLookupFamily::default()),
        Some(f) => issues.check(&path.key("lookup_family"), lookup_family(f)),
    };
    let refresh_path = path.key("refresh_rate");
    let refresh_rate = positive(issues, &raw.refresh_rate, &refresh_path, DEFAULT_DNS_REFRESH_RATE);
    let failure_refresh_rate = backoff(
        raw.failure_refresh_rate.as_ref(),
        &path.key("failure_refresh_rate"),
        issues,
    );
    let resolvers = match &raw.resolvers {
        None => Some(Vec::new()),
        Some(list) if list.is_empty() => {
            issues.push(
                &path.key("resolvers"),
                "is empty; leave it out to use the system's resolvers",
            );
            None
        }
        Some(list) => {
            let list_path = path.key("resolvers");
            let parsed: Vec<_> = list
                .iter()
                .enumerate()
                .map(|(i, r)| issues.check(&list_path.idx(i), super::super::socket_addr(r)))
                .collect();
            parsed.into_iter().collect()
        }
    };
    Some(DnsDiscovery {
        hostname: hostname?,
        port: port?,
        lookup_family: lookup_family?,
        respect_dns_ttl: raw.respect_dns_ttl.unwrap_or(true),
        refresh_rate,
        failure_refresh_rate: failure_refresh_rate?,
        resolvers: resolvers?,
    })
}

fn backoff(
    raw: Option<&config::DnsFailureRefreshRate>,
    path: &Path,
    issues: &mut Issues,
) -> Option<DnsBackoff> {
    let empty = config::DnsFailureRefreshRate::default();
    let raw = raw.unwrap_or(&empty);
    let base_interval = positive(
        issues,
        &raw.base_interval,
        &path.key("base_interval"),
        DEFAULT_DNS_FAILURE_BASE,
    );
    let max_path = path.key("max_interval");
    let max_interval = positive(
        issues,
        &raw.max_interval,
        &max_path,
        base_interval.saturating_mul(10),
    );
    if max_interval < base_interval {
        let (max, base) = (
            crate::duration::format(max_interval),
            crate::duration::format(base_interval),
        );
        issues.push(&max_path, format!("{max} is below base_interval ({base})"));
        return None;
    }
    Some(DnsBackoff {
        base_interval,
        max_interval,
    })
}

/// An optional duration that must be above zero.
fn positive(issues: &mut Issues, v: &Option<String>, path: &Path, default: Duration) -> Duration {
    let d = issues.duration(v, path, default);
    if d.is_zero() {
        issues.push(path, "must be greater than 0s");
        return default;
    }
    d
}

fn lookup_family(f: &str) -> Result<DnsLookupFamily, String> {
    match f {
        "all" => Ok(DnsLookupFamily::All),
        "v4_only" => Ok(DnsLookupFamily::V4Only),
        "v6_only" => Ok(DnsLookupFamily::V6Only),
        "auto" => Ok(DnsLookupFamily::Auto),
        other => Err(format!(
            "{other:?} is not a lookup family (all, v4_only, v6_only or auto)"
        )),
    }
}

/// A DNS name as a resolver will take it, returned as written.
fn hostname(h: &str) -> Result<String, String> {
    if h.parse::<IpAddr>().is_ok() {
        return Err(format!(
            "{h:?} is an IP address, not a name; list it under the cluster's endpoints instead"
        ));
    }
    if h.parse::<SocketAddr>().is_ok() || h.contains(':') {
        return Err(format!("{h:?} must not include a port; set `port` instead"));
    }
    let name = h.strip_suffix('.').unwrap_or(h);
    if name.is_empty() {
        return Err("is empty; name the host to resolve".into());
    }
    if name.len() > 253 {
        return Err(format!(
            "is {} bytes long; a DNS name has at most 253",
            name.len()
        ));
    }
    for label in name.split('.') {
        let valid_chars = label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if label.is_empty()
            || label.len() > 63
            || !valid_chars
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!(
                "{h:?} is not a DNS name (label {label:?}: 1 to 63 letters, digits, '-' or '_', \
                 not starting or ending with '-')"
            ));
        }
    }
    Ok(h.to_owned())
}
