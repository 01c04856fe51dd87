//! Validated active health checks (`health_checks`) with Envoy's semantics.
//!
//! Defaults where Envoy has none (it makes `timeout`, `interval` and the thresholds
//! required): `timeout 1s`, `interval 5s`, `unhealthy_threshold 3`,
//! `healthy_threshold 2`. `no_traffic_interval` is Envoy's `60s`.

use super::errors::{Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::ops::Range;
use std::time::Duration;

pub const DEFAULT_HC_TIMEOUT: Duration = Duration::from_secs(1);
pub const DEFAULT_HC_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_NO_TRAFFIC_INTERVAL: Duration = Duration::from_secs(60);
pub const DEFAULT_UNHEALTHY_THRESHOLD: u32 = 3;
pub const DEFAULT_HEALTHY_THRESHOLD: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct HealthCheck {
    #[serde(with = "serde_str")]
    pub timeout: Duration,
    #[serde(with = "serde_str")]
    pub interval: Duration,
    #[serde(with = "serde_str")]
    pub interval_jitter: Duration,
    pub interval_jitter_percent: u32,
    #[serde(with = "serde_str")]
    pub unhealthy_interval: Duration,
    #[serde(with = "serde_str")]
    pub no_traffic_interval: Duration,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    pub checker: Checker,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checker {
    Http {
        path: String,
        host: Option<String>,
        /// Half-open ranges of healthy statuses.
        expected_statuses: Vec<Range<u16>>,
        /// Half-open ranges of unexpected statuses that count toward `unhealthy_threshold`
        /// instead of failing the host at once.
        retriable_statuses: Vec<Range<u16>>,
    },
    Tcp {
        send: Option<Vec<u8>>,
        /// Every one of these must appear in what the host sends back.
        receive: Vec<Vec<u8>>,
    },
    Grpc {
        service_name: String,
        authority: Option<String>,
    },
}

impl HealthCheck {
    /// Whether an HTTP check's status counts as healthy.
    pub fn accepts_status(&self, status: u16) -> bool {
        match &self.checker {
            Checker::Http {
                expected_statuses, ..
            } => expected_statuses.iter().any(|r| r.contains(&status)),
            _ => false,
        }
    }

    /// Whether an HTTP check's unexpected status only counts toward `unhealthy_threshold`.
    pub fn retries_status(&self, status: u16) -> bool {
        match &self.checker {
            Checker::Http {
                retriable_statuses, ..
            } => retriable_statuses.iter().any(|r| r.contains(&status)),
            _ => false,
        }
    }
}

pub(crate) fn build(raw: &config::HealthCheck, path: &Path, issues: &mut Issues) -> Option<HealthCheck> {
    let before = issues.0.len();
    let positive = |issues: &mut Issues, v: &Option<String>, key: &str, default: Duration| {
        let d = issues.duration(v, &path.key(key), default);
        if d.is_zero() {
            issues.push(&path.key(key), "must be greater than 0s");
        }
        d
    };
    let timeout = positive(issues, &raw.timeout, "timeout", DEFAULT_HC_TIMEOUT);
    let interval = positive(issues, &raw.interval, "interval", DEFAULT_HC_INTERVAL);
    let unhealthy_interval = positive(issues, &raw.unhealthy_interval, "unhealthy_interval", interval);
    let no_traffic_interval = positive(
        issues,
        &raw.no_traffic_interval,
        "no_traffic_interval",
        DEFAULT_NO_TRAFFIC_INTERVAL,
    );
    let interval_jitter = issues.duration(&raw.interval_jitter, &path.key("interval_jitter"), Duration::ZERO);
    let interval_jitter_percent = raw.interval_jitter_percent.unwrap_or(0);
    if interval_jitter_percent > 100 {
        issues.push(
            &path.key("interval_jitter_percent"),
            format!("{interval_jitter_percent} is over 100"),
        );
    }
    let threshold = |issues: &mut Issues, v: Option<u32>, key: &str, default: u32| {
        let t = v.unwrap_or(default);
        if t == 0 {
            issues.push(&path.key(key), "must be at least 1");
        }
        t
    };
    let unhealthy_threshold = threshold(
        issues,
        raw.unhealthy_threshold,
        "unhealthy_threshold",
        DEFAULT_UNHEALTHY_THRESHOLD,
    );
    let healthy_threshold = threshold(
        issues,
        raw.healthy_threshold,
        "healthy_threshold",
        DEFAULT_HEALTHY_THRESHOLD,
    );
    let checker = match (
        &raw.http_health_check,
        &raw.tcp_health_check,
        &raw.grpc_health_check,
    ) {
        (Some(h), None, None) => http(h, &path.key("http_health_check"), issues),
        (None, Some(t), None) => tcp(t, &path.key("tcp_health_check"), issues),
        (None, None, Some(g)) => Some(Checker::Grpc {
            service_name: g.service_name.clone().unwrap_or_default(),
            authority: g.authority.clone(),
        }),
        _ => {
            issues.push(
                path,
                "needs exactly one of http_health_check, tcp_health_check, grpc_health_check",
            );
            None
        }
    };
    (issues.0.len() == before).then_some(())?;
    Some(HealthCheck {
        timeout,
        interval,
        interval_jitter,
        interval_jitter_percent,
        unhealthy_interval,
        no_traffic_interval,
        unhealthy_threshold,
        healthy_threshold,
        checker: checker?,
    })
}

fn http(raw: &config::HttpHealthCheck, path: &Path, issues: &mut Issues) -> Option<Checker> {
    let p = issues.required(&raw.path, &path.key("path"))?;
    if !p.starts_with('/') {
        issues.push(&path.key("path"), format!("{p:?} must start with '/'"));
    }
    let mut expected_statuses = status_ranges(&raw.expected_statuses, &path.key("expected_statuses"), issues);
    if raw.expected_statuses.is_empty() {
        expected_statuses.push(200..201);
    }
    let retriable_statuses = status_ranges(&raw.retriable_statuses, &path.key("retriable_statuses"), issues);
    Some(Checker::Http {
        path: p.clone(),
        host: raw.host.clone(),
        expected_statuses,
        retriable_statuses,
    })
}

/// Half-open `[start, end)` status ranges within `[100, 600)`.
fn status_ranges(raw: &[config::StatusRange], path: &Path, issues: &mut Issues) -> Vec<Range<u16>> {
    let mut ranges = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let rp = path.idx(i);
        match (r.start, r.end) {
            (Some(start), Some(end)) if (100..end).contains(&start) && end <= 600 => ranges.push(start..end),
            (Some(start), Some(end)) => issues.push(
                &rp,
                format!("[{start}, {end}) is not a range of statuses within [100, 600)"),
            ),
            _ => issues.push(&rp, "needs start and end"),
        }
    }
    ranges
}

fn tcp(raw: &config::TcpHealthCheck, path: &Path, issues: &mut Issues) -> Option<Checker> {
    let send = raw
        .send
        .as_ref()
        .and_then(|h| issues.check(&path.key("send"), hex(h)));
    let receive: Vec<_> = raw
        .receive
        .iter()
        .enumerate()
        .filter_map(|(i, h)| issues.check(&path.key("receive").idx(i), hex(h)))
        .collect();
    Some(Checker::Tcp { send, receive })
}

/// Envoy writes TCP check payloads as hex text (`"50494e47"` is `PING`).
fn hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return Err(format!("{s:?} is not hex bytes (e.g. \"50494e47\" for PING)"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{s:?} is not hex bytes (e.g. \"50494e47\" for PING)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_payloads() {
        assert_eq!(super::hex("50494e47"), Ok(b"PING".to_vec()));
        assert_eq!(super::hex("50 49"), Ok(b"PI".to_vec()));
        assert!(super::hex("5").is_err());
        assert!(super::hex("zz").is_err());
    }
}
