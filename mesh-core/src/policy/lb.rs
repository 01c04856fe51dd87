//! Validated load-balancing settings of a cluster, with Envoy's defaults.

use super::Percentage;
use super::errors::{Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::time::Duration;

/// How a cluster picks an endpoint, with the policy's own knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum LbPolicy {
    /// Smooth weighted round robin.
    RoundRobin,
    /// Weighted random.
    Random,
    /// Power of `choice_count` choices by active requests; weighted by
    /// `weight / (active + 1)^active_request_bias` when weights differ.
    LeastRequest {
        choice_count: u32,
        active_request_bias: f64,
    },
    /// Ketama consistent hashing over the route's `hash_policy`.
    RingHash {
        minimum_ring_size: u64,
        maximum_ring_size: u64,
    },
    /// Maglev consistent hashing over the route's `hash_policy`.
    Maglev { table_size: u64 },
    /// Linkerd's balancer: power of two choices by peak-EWMA latency × load.
    PeakEwma {
        #[serde(with = "serde_str")]
        decay: Duration,
        #[serde(with = "serde_str")]
        default_rtt: Duration,
    },
}

impl LbPolicy {
    const NAMES: &'static [&'static str] = &[
        "round_robin",
        "random",
        "least_request",
        "ring_hash",
        "maglev",
        "peak_ewma",
    ];

    /// Whether the policy needs a request hash (and so a route `hash_policy`).
    pub fn is_hashing(&self) -> bool {
        matches!(self, LbPolicy::RingHash { .. } | LbPolicy::Maglev { .. })
    }
}

/// Envoy's `common_lb_config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommonLb {
    /// Below this share of healthy hosts, balance across all hosts (panic mode).
    pub healthy_panic_threshold: Percentage,
    /// Share of requests zone-aware routing applies to.
    pub zone_routing_enabled: Percentage,
    /// Below this many hosts, zone awareness is off.
    pub zone_min_cluster_size: u32,
}

/// Envoy's `slow_start_config`: new or recovered hosts ramp up over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowStart {
    #[serde(with = "serde_str")]
    pub window: Duration,
    pub aggression: f64,
    pub min_weight_percent: Percentage,
}

pub(crate) fn policy(raw: &config::Cluster, path: &Path, issues: &mut Issues) -> Option<LbPolicy> {
    let name = raw.lb_policy.as_deref().unwrap_or("round_robin");
    let knobs = [
        (
            "least_request_lb_config",
            raw.least_request_lb_config.is_some(),
            "least_request",
        ),
        (
            "ring_hash_lb_config",
            raw.ring_hash_lb_config.is_some(),
            "ring_hash",
        ),
        ("maglev_lb_config", raw.maglev_lb_config.is_some(), "maglev"),
        (
            "peak_ewma_lb_config",
            raw.peak_ewma_lb_config.is_some(),
            "peak_ewma",
        ),
    ];
    for (key, set, owner) in knobs {
        if set && owner != name {
            issues.push(
                &path.key(key),
                format!("applies to lb_policy {owner}, not {name}"),
            );
        }
    }
    let before = issues.0.len();
    let policy = match name {
        "round_robin" => LbPolicy::RoundRobin,
        "random" => LbPolicy::Random,
        "least_request" => {
            let c = raw.least_request_lb_config.clone().unwrap_or_default();
            let p = path.key("least_request_lb_config");
            let choice_count = c.choice_count.unwrap_or(2);
            if choice_count < 2 {
                issues.push(&p.key("choice_count"), "must be at least 2");
            }
            let active_request_bias = c.active_request_bias.unwrap_or(1.0);
            if !(active_request_bias.is_finite() && active_request_bias >= 0.0) {
                issues.push(&p.key("active_request_bias"), "must be a finite number >= 0");
            }
            LbPolicy::LeastRequest {
                choice_count,
                active_request_bias,
            }
        }
        "ring_hash" => {
            let c = raw.ring_hash_lb_config.clone().unwrap_or_default();
            let p = path.key("ring_hash_lb_config");
            let minimum_ring_size = c.minimum_ring_size.unwrap_or(1024);
            let maximum_ring_size = c.maximum_ring_size.unwrap_or(8 * 1024 * 1024);
            if minimum_ring_size == 0 || maximum_ring_size > 8 * 1024 * 1024 {
                issues.push(&p, "ring sizes must lie within 1..=8388608");
            } else if minimum_ring_size > maximum_ring_size {
                issues.push(&p.key("minimum_ring_size"), "must not exceed maximum_ring_size");
            }
            LbPolicy::RingHash {
                minimum_ring_size,
                maximum_ring_size,
            }
        }
        "maglev" => {
            let table_size = raw
                .maglev_lb_config
                .as_ref()
                .and_then(|c| c.table_size)
                .unwrap_or(65537);
            if !is_prime(table_size) || table_size > 5_000_011 {
                let p = path.key("maglev_lb_config").key("table_size");
                issues.push(&p, format!("{table_size} is not a prime up to 5000011"));
            }
            LbPolicy::Maglev { table_size }
        }
        "peak_ewma" => {
            let c = raw.peak_ewma_lb_config.clone().unwrap_or_default();
            let p = path.key("peak_ewma_lb_config");
            let decay = issues.duration(&c.decay, &p.key("decay"), Duration::from_secs(10));
            let default_rtt =
                issues.duration(&c.default_rtt, &p.key("default_rtt"), Duration::from_millis(30));
            if decay.is_zero() {
                issues.push(&p.key("decay"), "must be greater than 0s");
            }
            LbPolicy::PeakEwma { decay, default_rtt }
        }
        other => {
            let msg = format!(
                "{other:?} is not a load-balancing policy (one of {})",
                LbPolicy::NAMES.join(", ")
            );
            issues.push(&path.key("lb_policy"), msg);
            return None;
        }
    };
    (issues.0.len() == before).then_some(policy)
}

pub(crate) fn common(raw: Option<&config::CommonLbConfig>, path: &Path, issues: &mut Issues) -> CommonLb {
    let raw = raw.cloned().unwrap_or_default();
    let zone = raw.zone_aware_lb_config.unwrap_or_default();
    let mut pct = |v: Option<u32>, p: Path, default: u8| {
        v.map_or(Ok(default_pct(default)), Percentage::new)
            .map_err(|m| issues.push(&p, m))
            .unwrap_or(default_pct(default))
    };
    CommonLb {
        healthy_panic_threshold: pct(
            raw.healthy_panic_threshold,
            path.key("healthy_panic_threshold"),
            50,
        ),
        zone_routing_enabled: pct(
            zone.routing_enabled,
            path.key("zone_aware_lb_config").key("routing_enabled"),
            100,
        ),
        zone_min_cluster_size: zone.min_cluster_size.unwrap_or(6),
    }
}

fn default_pct(p: u8) -> Percentage {
    Percentage::new(u32::from(p)).unwrap_or(Percentage::ZERO)
}

pub(crate) fn slow_start(
    raw: &config::SlowStartConfig,
    path: &Path,
    issues: &mut Issues,
) -> Option<SlowStart> {
    let window_path = path.key("slow_start_window");
    let window = issues.required(&raw.slow_start_window, &window_path)?;
    let window = issues.check(&window_path, crate::duration::parse(window))?;
    let aggression = raw.aggression.unwrap_or(1.0);
    if !(aggression.is_finite() && aggression > 0.0) {
        issues.push(&path.key("aggression"), "must be a finite number > 0");
        return None;
    }
    let min = raw.min_weight_percent.unwrap_or(10);
    let min_weight_percent = issues.check(&path.key("min_weight_percent"), Percentage::new(min))?;
    Some(SlowStart {
        window,
        aggression,
        min_weight_percent,
    })
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d))
}

#[cfg(test)]
mod tests {
    #[test]
    fn primes() {
        assert!(super::is_prime(65537) && super::is_prime(2) && super::is_prime(5_000_011));
        assert!(!super::is_prime(65536) && !super::is_prime(1) && !super::is_prime(0));
    }
}

/// One input of a route's request hash (Envoy's `hash_policy` entry).
#[derive(Debug, Clone, Serialize)]
pub struct HashPolicy {
    pub source: HashSource,
    /// Stop at this entry when it produced a key.
    pub terminal: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashSource {
    #[serde(serialize_with = "super::serde_helpers::header_name")]
    Header(http::HeaderName),
    Cookie(String),
    SourceIp,
    QueryParameter(String),
}

pub(crate) fn hash_policies(raw: &[config::HashPolicy], path: &Path, issues: &mut Issues) -> Vec<HashPolicy> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, h) in raw.iter().enumerate() {
        let p = path.idx(i);
        let source = match (&h.header, &h.cookie, &h.connection_properties, &h.query_parameter) {
            (Some(hh), None, None, None) => issues
                .required(&hh.header_name, &p.key("header").key("header_name"))
                .and_then(|n| {
                    let name = http::HeaderName::from_bytes(n.as_bytes())
                        .map_err(|_| format!("{n:?} is not a header name"));
                    issues.check(&p.key("header").key("header_name"), name)
                })
                .map(HashSource::Header),
            (None, Some(c), None, None) => issues
                .required(&c.name, &p.key("cookie").key("name"))
                .cloned()
                .map(HashSource::Cookie),
            (None, None, Some(c), None) if c.source_ip => Some(HashSource::SourceIp),
            (None, None, Some(_), None) => {
                issues.push(&p.key("connection_properties").key("source_ip"), "must be true");
                None
            }
            (None, None, None, Some(q)) => issues
                .required(&q.name, &p.key("query_parameter").key("name"))
                .cloned()
                .map(HashSource::QueryParameter),
            _ => {
                issues.push(
                    &p,
                    "needs exactly one of header, cookie, connection_properties, query_parameter",
                );
                None
            }
        };
        if let Some(source) = source {
            out.push(HashPolicy {
                source,
                terminal: h.terminal,
            });
        }
    }
    out
}
