//! `/clusters`: each cluster's members in Envoy's text form, or JSON.

use super::Admin;
use std::fmt::Write as _;

impl Admin {
    pub(super) fn clusters_text(&self) -> String {
        let mut out = String::new();
        for c in &self.runtime.current.load().upstreams.clusters {
            let name = &c.policy.name;
            let health = c.health.load();
            let ejections = c.ejections.load();
            for m in &c.hosts.load().members {
                let (e, p) = (&m.endpoint, &m.spec);
                let addr = e.addr;
                let flags = health_flags(health.as_deref(), ejections.as_deref(), m);
                let _ = writeln!(out, "{name}::{addr}::health_flags::{flags}");
                let _ = writeln!(out, "{name}::{addr}::weight::{}", p.weight);
                let _ = writeln!(out, "{name}::{addr}::zone::{}", p.zone.as_deref().unwrap_or(""));
                let _ = writeln!(out, "{name}::{addr}::rq_active::{}", e.load.active());
                let (total, errors) = e.outcomes.read();
                let _ = writeln!(out, "{name}::{addr}::rq_total::{total}");
                let _ = writeln!(out, "{name}::{addr}::rq_success::{}", total - errors);
                let _ = writeln!(out, "{name}::{addr}::rq_error::{errors}");
                let _ = writeln!(
                    out,
                    "{name}::{addr}::success_rate::{}",
                    success_rate(total, errors)
                );
            }
        }
        out
    }

    pub(super) fn clusters_json(&self) -> String {
        let clusters: Vec<_> = self
            .runtime
            .current
            .load()
            .upstreams
            .clusters
            .iter()
            .map(|c| {
                let (health, ejections) = (c.health.load(), c.ejections.load());
                let hosts = c.hosts.load();
                let endpoints: Vec<_> = hosts
                    .members
                    .iter()
                    .map(|m| {
                        let (e, p) = (&m.endpoint, &m.spec);
                        let (total, errors) = e.outcomes.read();
                        serde_json::json!({
                            "address": p.address,
                            "weight": p.weight,
                            "priority": p.priority,
                            "zone": p.zone,
                            "metadata": p.metadata,
                            "rq_active": e.load.active(),
                            "rq_total": total,
                            "rq_error": errors,
                            "health_flags": health_flags(health.as_deref(), ejections.as_deref(), m),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": c.policy.name,
                    "protocol": c.policy.protocol,
                    "lb_policy": c.policy.lb_policy,
                    "version": hosts.version,
                    "endpoints": endpoints,
                })
            })
            .collect();
        serde_json::json!({ "clusters": clusters }).to_string()
    }
}

/// Envoy's health flags for a host: `healthy`, or `/failed_active_hc` (with the
/// reason and for how long), `/failed_outlier_check` (with the detection) and
/// `/pending_dynamic_removal` (discovery dropped it; it stays while it passes checks).
pub(super) fn health_flags(
    health: Option<&mesh_health::HealthSnapshot>,
    ejections: Option<&mesh_health::EjectionSnapshot>,
    member: &crate::upstream::Member,
) -> String {
    let addr = &member.endpoint.addr;
    let mut flags = String::new();
    if let Some(s) = health.and_then(|h| h.get(addr)).filter(|s| !s.healthy) {
        let since = s.since.elapsed().as_secs();
        let _ = match &s.last_failure {
            Some(reason) => write!(flags, "/failed_active_hc ({reason}; for {since}s)"),
            None => write!(flags, "/failed_active_hc (not checked yet; for {since}s)"),
        };
    }
    if let Some(e) = ejections.and_then(|e| e.get(addr)).filter(|e| e.ejected) {
        let reason = e.reason.map_or("unknown", |r| r.as_str());
        let _ = write!(
            flags,
            "/failed_outlier_check ({reason}; ejected {} times)",
            e.times_ejected
        );
    }
    if member.pending_removal {
        flags.push_str("/pending_dynamic_removal");
    }
    if flags.is_empty() {
        flags.push_str("healthy");
    }
    flags
}

/// Percent of non-error requests since start, or `-1` before any (Envoy's "unknown").
fn success_rate(total: u64, errors: u64) -> String {
    if total == 0 {
        return "-1".into();
    }
    format!("{:.1}", 100.0 * (total - errors) as f64 / total as f64)
}
