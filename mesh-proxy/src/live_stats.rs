//! The admin's live counters: what the control loops (health checks, outlier detection,
//! discovery) and the resilience layers (retries, circuit breakers) keep in their own
//! snapshots and atomics, rendered in Prometheus text format beside the recorder's
//! metrics. Read on each scrape, never on the request path.

use crate::upstream::ClusterRuntime;
use mesh_filters::circuit_breaker::Remaining;
use std::fmt::Write as _;

pub(crate) fn render(out: &mut String, clusters: &[std::sync::Arc<ClusterRuntime>]) {
    let mut family = |name: &str, kind: &str, rows: Vec<(&str, u64)>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n# TYPE {name} {kind}");
        for (cluster, v) in rows {
            let _ = writeln!(out, "{name}{{cluster=\"{cluster}\"}} {v}");
        }
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
    family(
        "mesh_cluster_health_check_attempt_total",
        "counter",
        rows(&|s| s.attempts),
    );
    family(
        "mesh_cluster_health_check_success_total",
        "counter",
        rows(&|s| s.successes),
    );
    family(
        "mesh_cluster_health_check_failure_total",
        "counter",
        rows(&|s| s.failures),
    );
    let rows =
        |f: &dyn Fn(&mesh_health::EjectionStats) -> u64| ejections.iter().map(|(n, s)| (*n, f(s))).collect();
    family(
        "mesh_cluster_outlier_detection_ejections_active",
        "gauge",
        rows(&|s| s.active as u64),
    );
    family(
        "mesh_cluster_outlier_detection_ejections_enforced_total",
        "counter",
        rows(&|s| s.enforced.total()),
    );
    family(
        "mesh_cluster_outlier_detection_ejections_detected_total",
        "counter",
        rows(&|s| s.detected.total()),
    );
    family(
        "mesh_cluster_outlier_detection_ejections_overflow_total",
        "counter",
        rows(&|s| s.overflow),
    );
    let sources: Vec<_> = clusters
        .iter()
        .filter_map(|c| c.discovery.as_ref().map(|s| (c.policy.name.as_str(), s)))
        .collect();
    let rows =
        |f: &dyn Fn(&mesh_discovery::SourceStats) -> u64| sources.iter().map(|(n, s)| (*n, f(s))).collect();
    family(
        "mesh_cluster_update_success_total",
        "counter",
        rows(&|s| s.updates()),
    );
    family(
        "mesh_cluster_update_rejected_total",
        "counter",
        rows(&|s| s.rejected()),
    );
    // Remote sources only: time since the discovery source (registry, DNS) last answered. A long poll answers at
    // least every `wait` (30 s), so a healthy registry keeps this under that.
    let stale: Vec<_> = sources
        .iter()
        .filter_map(|(n, s)| {
            s.staleness()
                .map(|d| (*n, u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        })
        .collect();
    family("mesh_cluster_discovery_staleness_ms", "gauge", stale);
    let retries: Vec<_> = clusters
        .iter()
        .map(|c| (c.policy.name.as_str(), &*c.retry_stats))
        .collect();
    let rows = |f: &dyn Fn(&mesh_filters::retry::RetryStats) -> u64| {
        retries.iter().map(|(n, s)| (*n, f(s))).collect()
    };
    family(
        "mesh_cluster_upstream_rq_retry_total",
        "counter",
        rows(&|s| s.retries()),
    );
    family(
        "mesh_cluster_upstream_rq_retry_success_total",
        "counter",
        rows(&|s| s.success_after_retry()),
    );
    family(
        "mesh_cluster_upstream_rq_retry_overflow_total",
        "counter",
        rows(&|s| s.overflow()),
    );
    family(
        "mesh_cluster_upstream_rq_retry_budget_exhausted_total",
        "counter",
        rows(&|s| s.budget_exhausted()),
    );
    breaker_gauges(out, clusters);
}

/// Envoy's `circuit_breakers.<priority>.remaining_*` gauges.
fn breaker_gauges(out: &mut String, clusters: &[std::sync::Arc<ClusterRuntime>]) {
    type Read = fn(&Remaining) -> u32;
    let gauges: [(&str, Read); 4] = [
        ("cx", |r| r.connections),
        ("pending", |r| r.pending),
        ("rq", |r| r.requests),
        ("retries", |r| r.retries),
    ];
    for (name, read) in gauges {
        let metric = format!("mesh_cluster_circuit_breakers_remaining_{name}");
        let _ = writeln!(out, "\n# TYPE {metric} gauge");
        for c in clusters {
            for (priority, breaker) in c.breakers.iter() {
                let value = read(&breaker.remaining());
                let cluster = &c.policy.name;
                let _ = writeln!(
                    out,
                    "{metric}{{cluster=\"{cluster}\",priority=\"{priority}\"}} {value}"
                );
            }
        }
    }
}
