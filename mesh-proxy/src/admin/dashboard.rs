//! `/dashboard`: a live page of the proxy and its clusters, for a person with a browser and no Grafana.
//!
//! Policy: one self-contained HTML page (CSS and vanilla JS inline, no external fetch, no CDN: admin
//! ports usually sit on machines without internet), compiled into the binary from `dashboard.html`.
//! The page polls `/stats?format=json` every second (`/dashboard?refresh=250` for 250 ms, clamped to
//! 100 ms..60 s; by a relative URL, so it also works behind a path prefix) and shows the proxy (state,
//! uptime, config version, active connections), each listener (address, connections, requests/s) and each
//! cluster, the "service to service" view: requests/s and the 5xx share over the last poll interval,
//! p50/p99 over the last stats interval (cumulative when that interval saw no request, marked `Σ`), and
//! healthy/total hosts with a dot per host whose tooltip gives its address and health flags.
//! Failure: when a poll fails the page keeps the last figures and says they are stale; the admin
//! itself does no work for the page beyond serving it and answering `/stats`.
//! Testing hooks: each figure carries `data-field` (and `data-cluster`, `data-listener` or
//! `data-host`) and its raw value in `data-value`; `body[data-polls]` counts successful polls.

use super::reply;
use crate::body::ProxyBody;
use http::{Response, StatusCode};

/// The page, as served.
pub(super) const PAGE: &str = include_str!("dashboard.html");

pub(super) fn page() -> Response<ProxyBody> {
    let mut r = reply(StatusCode::OK, "text/html; charset=utf-8", PAGE.to_owned());
    // The page is the same for every request, but a stale copy after an upgrade would read
    // the JSON of the new version with the script of the old one.
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_html_served_without_caching() {
        let r = page();
        assert_eq!(r.status(), StatusCode::OK);
        let header = |name| r.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(
            header(http::header::CONTENT_TYPE),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(http::header::CACHE_CONTROL), Some("no-cache"));
        assert!(PAGE.starts_with("<!doctype html>"));
    }

    /// The admin port often has no route to the internet: anything loaded from elsewhere
    /// would leave the page blank or unstyled there.
    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let lower = PAGE.to_ascii_lowercase();
        for forbidden in [
            "src=",
            "@import",
            "url(",
            "href=\"http",
            "href=\"//",
            "integrity=",
        ] {
            assert!(
                !lower.contains(forbidden),
                "dashboard.html contains {forbidden:?}"
            );
        }
        for fetch in lower.match_indices("fetch(").map(|(i, _)| &lower[i..]) {
            assert!(
                fetch.starts_with("fetch(\"stats?format=json\""),
                "the page fetches something other than /stats: {}",
                fetch.lines().next().unwrap_or_default()
            );
        }
    }

    /// The fields the page reads are the ones `/stats?format=json` promises.
    #[test]
    fn the_page_reads_the_stats_json_contract() {
        for field in [
            "server",
            "state",
            "uptime_s",
            "config_version",
            "listeners",
            "cx_active",
            "rq_total",
            "clusters",
            "rq_5xx",
            "rq_active",
            "latency_ms_interval",
            "latency_ms",
            "hosts_healthy",
            "hosts_total",
            "health_flags",
            "address",
            "healthy",
        ] {
            assert!(
                PAGE.contains(&format!(".{field}")),
                "the page never reads .{field}"
            );
        }
    }
}
