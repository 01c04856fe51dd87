//! `/stats?format=json`: the proxy at a glance, for dashboards (the `/dashboard` page
//! polls it). The shape is a contract; rates are the reader's (two polls):
//!
//! - `server`: `version`, `state` (`LIVE`, `HEALTHCHECK_FAILED`, `DRAINING`), `uptime_s`,
//!   `config_version`;
//! - `listeners[]`: `name`, `address`, `cx_active`, `cx_total`, `rq_total`, `rq_active`;
//! - `clusters[]`: `name`, `rq_total`, `rq_2xx` … `rq_5xx`, `rq_active`, `rq_timeout`,
//!   `rq_retry`, `latency_ms` and `latency_ms_interval` (`p50`, `p90`, `p99`, `p999` of
//!   `upstream_rq_time` since start and over the last stats interval, in ms; `null` when
//!   empty), `hosts_healthy`, `hosts_total`, and `hosts[]` (`address`, `healthy`,
//!   `health_flags` as `/clusters` writes them, `rq_active`).
//!
//! Every number is read from the same series `/stats` and `/stats/prometheus` show.

use super::Admin;
use crate::stats::histogram::Snapshot;
use crate::stats::{Sample, Value, names};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// Samples by name and the value of their first label (the listener or cluster).
struct Index<'a>(HashMap<(&'static str, &'a str), Vec<&'a Sample>>);

impl<'a> Index<'a> {
    fn new(samples: &'a [Sample]) -> Self {
        let mut by = HashMap::<_, Vec<_>>::new();
        for s in samples {
            if let Some((_, scope)) = s.labels.first() {
                by.entry((s.name, scope.as_str())).or_default().push(s);
            }
        }
        Index(by)
    }

    /// The sum of every series of `name` for `scope` whose labels include `with` (if given).
    fn sum(&self, name: &'static str, scope: &str, with: Option<(&str, &str)>) -> u64 {
        let series = self.0.get(&(name, scope)).map_or(&[][..], Vec::as_slice);
        series
            .iter()
            .filter(|s| with.is_none_or(|(k, v)| s.labels.iter().any(|(sk, sv)| *sk == k && sv == v)))
            .map(|s| match s.value {
                Value::Counter(v) => v,
                Value::Gauge(v) => v.max(0.0) as u64,
                Value::Histogram { .. } => 0,
            })
            .sum()
    }

    fn histogram(&self, name: &'static str, scope: &str) -> Option<(&'a Snapshot, Option<&'a Snapshot>)> {
        self.0.get(&(name, scope))?.iter().find_map(|s| match &s.value {
            Value::Histogram { cumulative, interval } => Some((cumulative, interval.as_ref())),
            _ => None,
        })
    }
}

/// `p50` … `p999` in milliseconds, or `null` without samples.
fn latency(s: Option<&Snapshot>) -> Json {
    let Some(s) = s.filter(|s| s.count() > 0) else {
        return Json::Null;
    };
    let ms = |q| s.quantile(q).map(|us| us / 1e3);
    json!({ "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "p999": ms(0.999) })
}

impl Admin {
    pub(super) fn stats_json(&self, samples: &[Sample]) -> String {
        let index = Index::new(samples);
        let current = self.runtime.current.load();
        let listeners: Vec<Json> = (current.listeners.iter().flatten())
            .map(|l| {
                let name = l.name.as_str();
                json!({
                    "name": name,
                    "address": l.bound.to_string(),
                    "cx_active": index.sum(names::LISTENER_CX_ACTIVE, name, None),
                    "cx_total": index.sum(names::LISTENER_CX, name, None),
                    "rq_total": index.sum(names::DOWNSTREAM_RQ, name, None),
                    "rq_active": index.sum(names::DOWNSTREAM_RQ_ACTIVE, name, None),
                })
            })
            .collect();
        let clusters: Vec<Json> = (current.upstreams.clusters.iter())
            .map(|c| {
                let name = c.policy.name.as_str();
                let class = |class| index.sum(names::UPSTREAM_RQ_XX, name, Some(("response_code_class", class)));
                let time = index.histogram(names::UPSTREAM_RQ_TIME, name);
                let (health, ejections) = (c.health.load(), c.ejections.load());
                let hosts: Vec<Json> = (c.hosts.load().members.iter())
                    .map(|m| {
                        json!({
                            "address": m.endpoint.addr.to_string(),
                            "healthy": crate::live_stats::is_healthy(c, m),
                            "health_flags": super::clusters::health_flags(health.as_deref(), ejections.as_deref(), m),
                            "rq_active": m.endpoint.load.active(),
                        })
                    })
                    .collect();
                json!({
                    "name": name,
                    "rq_total": index.sum(names::UPSTREAM_RQ, name, None),
                    "rq_2xx": class("2xx"),
                    "rq_3xx": class("3xx"),
                    "rq_4xx": class("4xx"),
                    "rq_5xx": class("5xx"),
                    "rq_active": index.sum(names::UPSTREAM_RQ_ACTIVE, name, None),
                    "rq_timeout": index.sum(names::UPSTREAM_RQ_TIMEOUT, name, None),
                    "rq_retry": index.sum(names::UPSTREAM_RQ_RETRY, name, None),
                    "latency_ms": latency(time.map(|(all, _)| all)),
                    "latency_ms_interval": latency(time.and_then(|(_, interval)| interval)),
                    "hosts_healthy": index.sum(names::MEMBERSHIP_HEALTHY, name, None),
                    "hosts_total": index.sum(names::MEMBERSHIP_TOTAL, name, None),
                    "hosts": hosts,
                })
            })
            .collect();
        json!({
            "server": {
                "version": env!("CARGO_PKG_VERSION"),
                "state": self.state(),
                "uptime_s": self.started.elapsed().as_secs(),
                "config_version": current.version,
            },
            "listeners": listeners,
            "clusters": clusters,
        })
        .to_string()
    }
}
