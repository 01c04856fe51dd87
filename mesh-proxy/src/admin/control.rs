//! Operating the proxy from the admin port: out of rotation (`/healthcheck/fail`, `/ok`),
//! draining listeners, the log filter, and what is running (`/server_info`).
//!
//! Policy (Envoy's admin): every endpoint that changes something wants `POST`; a `GET`
//! gets 405 with an `allow: POST` header, so a crawler or a curious browser changes nothing.
//! `/healthcheck/fail` makes `/ready` answer 503 `HEALTHCHECK_FAILED` (load balancers in
//! front take the proxy out of rotation before a deploy) while traffic keeps being served;
//! `/drain_listeners` stops accepting on every listener and drains their connections, and
//! the proxy keeps running (its admin too) until it is stopped.

use super::{Admin, text};
use crate::body::ProxyBody;
use http::{Method, Request, Response, StatusCode};
use std::sync::atomic::Ordering;

/// Changes the log filter of a running proxy (`/logging`). The binary provides one over
/// its `tracing` subscriber; an embedder may pass its own to `mesh_proxy::start_with`.
pub trait LogControl: Send + Sync + std::fmt::Debug {
    /// The filter in force, as `tracing_subscriber::EnvFilter` directives.
    fn current(&self) -> String;
    /// Replaces the filter; an invalid directive is refused and changes nothing.
    fn set(&self, filter: &str) -> Result<(), String>;
}

impl Admin {
    pub(super) fn control<B>(&self, req: &Request<B>) -> Option<Response<ProxyBody>> {
        let post = req.method() == Method::POST;
        let needs_post = || {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "this admin endpoint wants POST\n".into(),
            );
            r.headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
            r
        };
        let reply = match req.uri().path() {
            "/healthcheck/fail" | "/healthcheck/ok" | "/drain_listeners" if !post => needs_post(),
            "/healthcheck/fail" => {
                self.health_failed.store(true, Ordering::Relaxed);
                tracing::info!("admin: health check failed by hand; /ready answers 503");
                text(StatusCode::OK, "OK\n".into())
            }
            "/healthcheck/ok" => {
                self.health_failed.store(false, Ordering::Relaxed);
                tracing::info!("admin: health check restored");
                text(StatusCode::OK, "OK\n".into())
            }
            "/drain_listeners" => {
                self.draining.store(true, Ordering::Relaxed);
                let runtime = self.runtime.clone();
                tokio::spawn(async move {
                    let outcome = runtime.shutdown().await;
                    tracing::info!(?outcome, "admin: listeners drained");
                });
                text(StatusCode::OK, "OK\n".into())
            }
            "/logging" => self.logging(req, post),
            "/server_info" => super::reply(StatusCode::OK, "application/json", self.server_info()),
            _ => return None,
        };
        Some(reply)
    }

    /// `GET /logging` shows the filter; `POST /logging?level=debug` (every target) or
    /// `?filter=mesh_proxy=debug,info` (directives) replaces it.
    fn logging<B>(&self, req: &Request<B>, post: bool) -> Response<ProxyBody> {
        let Some(log) = &self.log else {
            return text(
                StatusCode::NOT_FOUND,
                "this proxy was started without log control\n".into(),
            );
        };
        let query = req.uri().query().unwrap_or_default();
        let asked = query.split('&').find_map(|kv| match kv.split_once('=') {
            Some(("level" | "filter", v)) if !v.is_empty() => Some(percent_decoded(v)),
            _ => None,
        });
        match (post, asked) {
            (_, None) => text(StatusCode::OK, format!("{}\n", log.current())),
            (false, Some(_)) => text(
                StatusCode::METHOD_NOT_ALLOWED,
                "changing the log filter wants POST\n".into(),
            ),
            (true, Some(filter)) => match log.set(&filter) {
                Ok(()) => {
                    tracing::info!(%filter, "admin: log filter changed");
                    text(StatusCode::OK, format!("{}\n", log.current()))
                }
                Err(e) => text(
                    StatusCode::BAD_REQUEST,
                    format!("invalid log filter {filter:?}: {e}\n"),
                ),
            },
        }
    }

    /// `LIVE`, `HEALTHCHECK_FAILED` or `DRAINING`.
    pub(super) fn state(&self) -> &'static str {
        match (
            self.draining.load(Ordering::Relaxed),
            self.health_failed.load(Ordering::Relaxed),
        ) {
            (true, _) => "DRAINING",
            (false, true) => "HEALTHCHECK_FAILED",
            (false, false) => "LIVE",
        }
    }

    fn server_info(&self) -> String {
        let state = self.state();
        let node = &self.runtime.node;
        serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "state": state,
            "uptime_seconds": self.started.elapsed().as_secs(),
            "config_version": self.runtime.current.load().version,
            "node": { "id": node.id, "cluster": node.cluster, "zone": node.zone },
        })
        .to_string()
    }
}

/// A query value with `%XX` escapes and `+` decoded; a malformed escape is kept as
/// written (the filter parser then refuses it with its own message).
pub(super) fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
