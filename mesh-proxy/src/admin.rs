//! The admin listener: readiness, stats, cluster membership and the effective config.
//!
//! | path                | answer                                                      |
//! |---------------------|-------------------------------------------------------------|
//! | `/ready`            | 200 `LIVE`, or 503 `DRAINING` once a drain has begun        |
//! | `/stats/prometheus` | request counts by listener, cluster and response code       |
//! | `/clusters`         | Envoy's text form per endpoint: `weight`, `zone`, `health_flags`, `rq_active`, `rq_total`, `rq_success`, `rq_error`, `success_rate` (`web::127.0.0.1:8081::weight::1`); `?format=json` for JSON |
//! | `/config_dump`      | the configuration in force (validated, defaults filled) as JSON, with its `version_info` |
//!
//! It serves HTTP/1.1 only, is not counted in the drain (it stays up while the
//! data listeners drain) and should be bound to loopback.

use crate::body::{ProxyBody, full};
use crate::reload::Runtime;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

#[derive(Debug)]
pub(crate) struct Admin {
    pub(crate) runtime: Arc<Runtime>,
    /// Set when a drain begins. A flag, not a drain watch: the admin must never hold a drain up.
    pub(crate) draining: Arc<AtomicBool>,
}

impl Admin {
    /// Serves until aborted (at shutdown), holding the clusters' control loops so they
    /// stop with it rather than with whoever held the `Running` handle.
    pub(crate) async fn run(self: Arc<Self>, listener: TcpListener) {
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let admin = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let admin = admin.clone();
                    async move { Ok::<_, Infallible>(admin.handle(&req)) }
                });
                let conn =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "admin connection error");
                }
            });
        }
    }

    fn handle(&self, req: &Request<Incoming>) -> Response<ProxyBody> {
        let json = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "format=json"));
        match req.uri().path() {
            "/ready" if self.draining.load(Ordering::Relaxed) => {
                text(StatusCode::SERVICE_UNAVAILABLE, "DRAINING\n".into())
            }
            "/ready" => text(StatusCode::OK, "LIVE\n".into()),
            "/stats/prometheus" => text(StatusCode::OK, self.prometheus()),
            "/clusters" if json => reply(StatusCode::OK, "application/json", self.clusters_json()),
            "/clusters" => text(StatusCode::OK, self.clusters_text()),
            "/config_dump" => reply(
                StatusCode::OK,
                "application/json",
                self.runtime.current.load().dump.clone(),
            ),
            "/" => text(
                StatusCode::OK,
                "/ready\n/stats/prometheus\n/clusters\n/config_dump\n".into(),
            ),
            _ => text(StatusCode::NOT_FOUND, "unknown admin path; see /\n".into()),
        }
    }

    /// The recorder's metrics plus the control loops' counters, read live from their
    /// snapshots (health-check counts change without waking the membership task).
    fn prometheus(&self) -> String {
        let mut out = self.runtime.stats.render();
        crate::live_stats::render(&mut out, &self.runtime.current.load().upstreams.clusters);
        out
    }

    fn clusters_text(&self) -> String {
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

    fn clusters_json(&self) -> String {
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
fn health_flags(
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

fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    reply(status, "text/plain; charset=utf-8", body)
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<ProxyBody> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}
