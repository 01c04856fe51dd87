//! The admin's live counters: what the control loops (health checks, outlier detection,
//! discovery) and the resilience layers (retries, circuit breakers) keep in their own
//! snapshots and atomics, and the per-endpoint series of clusters that ask for them
//! (`track_cluster_stats.per_endpoint_stats`), read as [`Sample`]s beside the store's on
//! each scrape, never on the request path.

use crate::stats::{Sample, Value, names};
use crate::upstream::ClusterRuntime;
use mesh_filters::circuit_breaker::Remaining;
use std::sync::Arc;

pub(crate) fn samples(clusters: &[Arc<ClusterRuntime>]) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut family = |name: &'static str, gauge: bool, rows: Vec<(&str, u64)>| {
        out.extend(rows.into_iter().map(|(cluster, v)| Sample {
            name,
            labels: vec![("cluster", cluster.to_owned())],
            value: match gauge {
                true => Value::Gauge(v as f64),
                false => Value::Counter(v),
            },
        }));
    };
    let health: Vec<_> = clusters
        .iter()
        .filter_map(|c| {
            c.health_rx
                .get()
                .map(|rx| (c.policy.name.as_str(), *rx.borrow().stats()))
        })
        .collect();
    let ejections: Vec<_> = clusters
        .iter()
        .filter_map(|c| {
            c.ejections_rx
                .get()
                .map(|rx| (c.policy.name.as_str(), *rx.borrow().stats()))
        })
        .collect();
    let rows =
        |f: &dyn Fn(&mesh_health::HealthStats) -> u64| health.iter().map(|(n, s)| (*n, f(s))).collect();
    family(names::HEALTH_CHECK_ATTEMPT, false, rows(&|s| s.attempts));
    family(names::HEALTH_CHECK_SUCCESS, false, rows(&|s| s.successes));
    family(names::HEALTH_CHECK_FAILURE, false, rows(&|s| s.failures));
    let rows =
        |f: &dyn Fn(&mesh_health::EjectionStats) -> u64| ejections.iter().map(|(n, s)| (*n, f(s))).collect();
    family(names::OUTLIER_EJECTIONS_ACTIVE, true, rows(&|s| s.active as u64));
    family(
        names::OUTLIER_EJECTIONS_ENFORCED,
        false,
        rows(&|s| s.enforced.total()),
    );
    family(
        names::OUTLIER_EJECTIONS_DETECTED,
        false,
        rows(&|s| s.detected.total()),
    );
    family(names::OUTLIER_EJECTIONS_OVERFLOW, false, rows(&|s| s.overflow));
    let sources: Vec<_> = clusters
        .iter()
        .filter_map(|c| c.discovery.as_ref().map(|s| (c.policy.name.as_str(), s)))
        .collect();
    let rows =
        |f: &dyn Fn(&mesh_discovery::SourceStats) -> u64| sources.iter().map(|(n, s)| (*n, f(s))).collect();
    family(names::UPDATE_SUCCESS, false, rows(&|s| s.updates()));
    family(names::UPDATE_REJECTED, false, rows(&|s| s.rejected()));
    // Remote sources only: time since the discovery source (registry, DNS) last answered. A long poll answers at
    // least every `wait` (30 s), so a healthy registry keeps this under that.
    let stale: Vec<_> = sources
        .iter()
        .filter_map(|(n, s)| {
            s.staleness()
                .map(|d| (*n, u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        })
        .collect();
    family(names::DISCOVERY_STALENESS_MS, true, stale);
    let retries: Vec<_> = clusters
        .iter()
        .map(|c| (c.policy.name.as_str(), &*c.retry_stats))
        .collect();
    let rows = |f: &dyn Fn(&mesh_filters::retry::RetryStats) -> u64| {
        retries.iter().map(|(n, s)| (*n, f(s))).collect()
    };
    family(names::UPSTREAM_RQ_RETRY, false, rows(&|s| s.retries()));
    family(
        names::UPSTREAM_RQ_RETRY_SUCCESS,
        false,
        rows(&|s| s.success_after_retry()),
    );
    family(names::UPSTREAM_RQ_RETRY_OVERFLOW, false, rows(&|s| s.overflow()));
    family(
        names::UPSTREAM_RQ_RETRY_BUDGET_EXHAUSTED,
        false,
        rows(&|s| s.budget_exhausted()),
    );
    family(
        names::UPSTREAM_RQ_PER_TRY_TIMEOUT,
        false,
        rows(&|s| s.per_try_timeouts()),
    );
    breaker_gauges(&mut out, clusters);
    endpoint_samples(&mut out, clusters);
    out
}

/// Envoy's `circuit_breakers.<priority>.remaining_*` gauges.
fn breaker_gauges(out: &mut Vec<Sample>, clusters: &[Arc<ClusterRuntime>]) {
    type Read = fn(&Remaining) -> u32;
    let gauges: [(&'static str, Read); 4] = [
        (names::BREAKER_REMAINING_CX, |r| r.connections),
        (names::BREAKER_REMAINING_PENDING, |r| r.pending),
        (names::BREAKER_REMAINING_RQ, |r| r.requests),
        (names::BREAKER_REMAINING_RETRIES, |r| r.retries),
    ];
    for (name, read) in gauges {
        for c in clusters {
            for (priority, breaker) in c.breakers.iter() {
                out.push(Sample {
                    name,
                    labels: vec![
                        ("cluster", c.policy.name.clone()),
                        ("priority", priority.to_string()),
                    ],
                    value: Value::Gauge(f64::from(read(&breaker.remaining()))),
                });
            }
        }
    }
}

/// Whether a member serves: not failing active checks, not ejected (`/clusters` says
/// `healthy`).
pub(crate) fn is_healthy(c: &ClusterRuntime, member: &crate::upstream::Member) -> bool {
    let addr = &member.endpoint.addr;
    let checked_bad = c
        .health
        .load()
        .as_deref()
        .and_then(|h| h.get(addr))
        .is_some_and(|s| !s.healthy);
    let ejected = c
        .ejections
        .load()
        .as_deref()
        .and_then(|e| e.get(addr))
        .is_some_and(|e| e.ejected);
    !checked_bad && !ejected
}

/// Per-endpoint series (Envoy's `per_endpoint_stats`), only for clusters that ask: read from
/// each endpoint's own counters, so tracking costs the request path nothing more.
fn endpoint_samples(out: &mut Vec<Sample>, clusters: &[Arc<ClusterRuntime>]) {
    let tracked: Vec<_> = clusters.iter().filter(|c| c.policy.per_endpoint_stats).collect();
    type Read = fn(&ClusterRuntime, &crate::upstream::Member) -> Value;
    let series: [(&'static str, Read); 5] = [
        (names::ENDPOINT_RQ, |_, m| {
            Value::Counter(m.endpoint.outcomes.read().0)
        }),
        (names::ENDPOINT_RQ_ERROR, |_, m| {
            Value::Counter(m.endpoint.outcomes.read().1)
        }),
        (names::ENDPOINT_RQ_SUCCESS, |_, m| {
            let (total, errors) = m.endpoint.outcomes.read();
            Value::Counter(total - errors)
        }),
        (names::ENDPOINT_RQ_ACTIVE, |_, m| {
            Value::Gauge(m.endpoint.load.active() as f64)
        }),
        (names::ENDPOINT_HEALTHY, |c, m| {
            Value::Gauge(f64::from(u8::from(is_healthy(c, m))))
        }),
    ];
    for (name, read) in series {
        for c in &tracked {
            for m in &c.hosts.load().members {
                out.push(Sample {
                    name,
                    labels: vec![
                        ("cluster", c.policy.name.clone()),
                        ("endpoint", m.endpoint.addr.to_string()),
                    ],
                    value: read(c, m),
                });
            }
        }
    }
}
