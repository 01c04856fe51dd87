//! The admin listener: readiness, stats, cluster membership and the effective config.
//!
//! | path                | answer                                                      |
//! |---------------------|-------------------------------------------------------------|
//! | `/ready`            | 200 `LIVE`, or 503 `DRAINING` once a drain has begun        |
//! | `/stats/prometheus` | every counter, gauge and histogram in Prometheus text form (histograms on Envoy's default buckets, in seconds) |
//! | `/stats`            | the same under Envoy's dotted names, sorted, histograms as `P0(interval,cumulative) … P100(…)` in ms; `?filter=REGEX` |
//! | `/stats?format=json` | listeners, clusters (counts, latency quantiles, hosts) and server state for dashboards (see `stats_json`) |
//! | `/dashboard`        | a live HTML page of listeners and clusters (rates, errors, latency, hosts) over `/stats?format=json` |
//! | `/clusters`         | Envoy's text form per endpoint: `weight`, `zone`, `health_flags`, `rq_active`, `rq_total`, `rq_success`, `rq_error`, `success_rate` (`web::127.0.0.1:8081::weight::1`); `?format=json` for JSON |
//! | `/config_dump`      | the configuration in force (validated, defaults filled) as JSON, with its `version_info` |
//! | `/server_info`      | version, state (`LIVE`, `HEALTHCHECK_FAILED`, `DRAINING`), uptime, config version, node |
//! | `POST /healthcheck/fail`, `/healthcheck/ok` | take the proxy out of rotation (`/ready` 503) and back |
//! | `POST /drain_listeners` | stop accepting on every listener and drain them; the admin stays up |
//! | `GET /logging`, `POST /logging?level=debug` | the log filter in force; replace it (`?filter=` for directives) |
//!
//! It serves HTTP/1.1 only, is not counted in the drain (it stays up while the
//! data listeners drain) and should be bound to loopback.

mod clusters;
mod control;
mod dashboard;
mod stats_json;
mod stats_text;

pub use control::LogControl;

use crate::body::{ProxyBody, full};
use crate::reload::Runtime;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

#[derive(Debug)]
pub(crate) struct Admin {
    pub(crate) runtime: Arc<Runtime>,
    /// Set when a drain begins. A flag, not a drain watch: the admin must never hold a drain up.
    pub(crate) draining: Arc<AtomicBool>,
    /// `/healthcheck/fail` was called (and not `/healthcheck/ok` since).
    pub(crate) health_failed: AtomicBool,
    pub(crate) started: std::time::Instant,
    pub(crate) log: Option<Arc<dyn control::LogControl>>,
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
        if let Some(reply) = self.control(req) {
            return reply;
        }
        match req.uri().path() {
            "/ready" if self.draining.load(Ordering::Relaxed) => {
                text(StatusCode::SERVICE_UNAVAILABLE, "DRAINING\n".into())
            }
            "/ready" if self.health_failed.load(Ordering::Relaxed) => {
                text(StatusCode::SERVICE_UNAVAILABLE, "HEALTHCHECK_FAILED\n".into())
            }
            "/ready" => text(StatusCode::OK, "LIVE\n".into()),
            "/stats/prometheus" => text(StatusCode::OK, crate::stats::prometheus::render(&self.samples())),
            "/stats" if json => reply(StatusCode::OK, "application/json", self.stats_json(&self.samples())),
            "/stats" => self.stats_text(req.uri().query()),
            "/clusters" if json => reply(StatusCode::OK, "application/json", self.clusters_json()),
            "/clusters" => text(StatusCode::OK, self.clusters_text()),
            "/dashboard" => dashboard::page(),
            "/config_dump" => reply(
                StatusCode::OK,
                "application/json",
                self.runtime.current.load().dump.clone(),
            ),
            "/" => text(
                StatusCode::OK,
                "/ready\n/stats\n/stats?format=json\n/stats/prometheus\n/dashboard\n/clusters\n/config_dump\n\
                 /server_info\n/logging\n\
                 POST /healthcheck/fail\nPOST /healthcheck/ok\nPOST /drain_listeners\n"
                    .into(),
            ),
            _ => text(StatusCode::NOT_FOUND, "unknown admin path; see /\n".into()),
        }
    }

    /// The stored series plus the control loops' counters, read live from their
    /// snapshots (health-check counts change without waking the membership task), grouped
    /// by name: what all three stats pages render.
    fn samples(&self) -> Vec<crate::stats::Sample> {
        let mut samples = self.runtime.stats.read();
        samples.extend(crate::live_stats::samples(
            &self.runtime.current.load().upstreams.clusters,
        ));
        // Stable: each part's label order stays.
        samples.sort_by(|a, b| a.name.cmp(b.name));
        samples
    }

    /// `/stats`, filtered by `?filter=REGEX` when given.
    fn stats_text(&self, query: Option<&str>) -> Response<ProxyBody> {
        let asked = query
            .unwrap_or_default()
            .split('&')
            .find_map(|kv| kv.strip_prefix("filter="))
            .map(control::percent_decoded);
        let filter = match asked.as_deref().map(regex::Regex::new).transpose() {
            Ok(filter) => filter,
            Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid filter: {e}\n")),
        };
        text(
            StatusCode::OK,
            stats_text::render(&self.samples(), filter.as_ref()),
        )
    }
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
