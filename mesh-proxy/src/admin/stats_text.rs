//! `/stats`: every counter and gauge as `name: value` under Envoy's dotted names, sorted,
//! then every histogram as Envoy prints them:
//! `cluster.web.upstream_rq_time: P0(1.0,0.9) P25(…) … P100(…)`, each quantile as
//! `(interval,cumulative)` in milliseconds, `nan` when that span holds no samples.
//!
//! `?filter=REGEX` keeps the names the regular expression matches anywhere (Rust's `regex`
//! syntax, Envoy's RE2 being close); an invalid one is a 400 that says why. Request counts
//! by code also get Envoy's totals (`upstream_rq_total`, `downstream_rq_total`), summed from
//! the same counters `/stats/prometheus` shows by code.

use crate::stats::histogram::Snapshot;
use crate::stats::{Sample, Value, names};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Envoy's quantiles, with their labels.
const QUANTILES: [(&str, f64); 10] = [
    ("P0", 0.0),
    ("P25", 0.25),
    ("P50", 0.5),
    ("P75", 0.75),
    ("P90", 0.9),
    ("P95", 0.95),
    ("P99", 0.99),
    ("P99.5", 0.995),
    ("P99.9", 0.999),
    ("P100", 1.0),
];

pub(super) fn render(samples: &[Sample], filter: Option<&regex::Regex>) -> String {
    let keep = |name: &str| filter.is_none_or(|f| f.is_match(name));
    let mut plain: BTreeMap<String, String> = BTreeMap::new();
    let mut histograms: BTreeMap<String, String> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for s in samples {
        let name = dotted(s.name, &s.labels, matches!(s.value, Value::Counter(_)));
        if let (Value::Counter(v), true) = (&s.value, by_code(s.name)) {
            let total = match name.rsplit_once('_') {
                Some((stem, _code)) => format!("{stem}_total"),
                None => format!("{name}_total"),
            };
            *totals.entry(total).or_default() += v;
        }
        if !keep(&name) {
            continue;
        }
        match &s.value {
            Value::Counter(v) => {
                plain.insert(name, v.to_string());
            }
            Value::Gauge(v) => {
                plain.insert(name, v.to_string());
            }
            Value::Histogram { cumulative, interval } => {
                histograms.insert(name, quantiles(cumulative, interval.as_ref()));
            }
        }
    }
    for (name, total) in totals.into_iter().filter(|(n, _)| keep(n)) {
        plain.insert(name, total.to_string());
    }
    let mut out = String::new();
    for (name, value) in plain.iter().chain(histograms.iter()) {
        let _ = writeln!(out, "{name}: {value}");
    }
    out
}

/// Whether a counter family is split by `response_code` (and so has a total).
fn by_code(name: &str) -> bool {
    name == names::UPSTREAM_RQ || name == names::DOWNSTREAM_RQ
}

fn quantiles(cumulative: &Snapshot, interval: Option<&Snapshot>) -> String {
    let ms = |s: Option<&Snapshot>, q| match s.and_then(|s| s.quantile(q)) {
        Some(us) => format!("{}", (us / 1e3 * 1e3).round() / 1e3),
        None => "nan".to_owned(),
    };
    let parts: Vec<String> = QUANTILES
        .iter()
        .map(|(label, q)| format!("{label}({},{})", ms(interval, *q), ms(Some(cumulative), *q)))
        .collect();
    parts.join(" ")
}

/// Envoy's dotted name of a series: `mesh_cluster_upstream_rq_xx_total{cluster="web",
/// response_code_class="2xx"}` is `cluster.web.upstream_rq_2xx`.
///
/// `mesh_<scope>_<stat>`: the scope's label (`cluster`, `listener`, `route`) names it
/// (`http.<listener>` for request stats, `listener.<listener>` for connections); a response
/// code or class is appended to the stat; `_total` is dropped except where Envoy keeps it
/// (`upstream_cx_total`, `downstream_cx_rx_bytes_total`) and in gauges (`membership_total`);
/// `_seconds` is dropped (the text
/// shows milliseconds); any other label becomes a path segment (`circuit_breakers.default.
/// remaining_cx`, `endpoint.127.0.0.1:8081.rq_total`).
pub(super) fn dotted(name: &str, labels: &[(&'static str, String)], counter: bool) -> String {
    let bare = name.strip_prefix("mesh_").unwrap_or(name);
    let (scope, stat) = bare.split_once('_').unwrap_or(("server", bare));
    let mut stat = stat.strip_suffix("_seconds").unwrap_or(stat).to_owned();
    let mut path = vec![scope.to_owned()];
    let mut suffix = None;
    for (key, value) in labels {
        match *key {
            "cluster" | "listener" | "route" => path.push(value.clone()),
            "response_code" => suffix = Some(value.clone()),
            "response_code_class" => {
                stat = stat.replace("_xx", "");
                suffix = Some(value.clone());
            }
            other => match stat.strip_prefix(&format!("{other}_")) {
                Some(rest) => stat = format!("{other}.{value}.{rest}"),
                None => match stat.split_once('_') {
                    // `circuit_breakers_remaining_cx` by `priority`.
                    Some((group, rest)) if stat.starts_with("circuit_breakers_") => {
                        let rest = rest.strip_prefix("breakers_").unwrap_or(rest);
                        stat = format!("{group}_breakers.{value}.{rest}");
                    }
                    _ => path.push(format!("{other}.{value}")),
                },
            },
        }
    }
    match suffix {
        Some(code) => {
            let stem = stat.strip_suffix("_total").unwrap_or(&stat);
            stat = format!("{stem}_{code}");
        }
        None => {
            let keeps_total = !counter
                || ["_rq_total", "_cx_total", "_bytes_total"]
                    .iter()
                    .any(|t| stat.ends_with(t))
                || stat == "rq_total"
                || stat.ends_with(".rq_total");
            if !keeps_total && let Some(stem) = stat.strip_suffix("_total") {
                stat = stem.to_owned();
            }
        }
    }
    path.push(stat);
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn dotted_names_are_envoys() {
        let cases = [
            (
                names::UPSTREAM_RQ_XX,
                l(&[("cluster", "web"), ("response_code_class", "2xx")]),
                "cluster.web.upstream_rq_2xx",
            ),
            (
                names::UPSTREAM_RQ,
                l(&[("cluster", "web"), ("response_code", "503")]),
                "cluster.web.upstream_rq_503",
            ),
            (
                names::DOWNSTREAM_RQ_XX,
                l(&[("listener", "in"), ("response_code_class", "4xx")]),
                "http.in.downstream_rq_4xx",
            ),
            (
                names::UPSTREAM_CX,
                l(&[("cluster", "web")]),
                "cluster.web.upstream_cx_total",
            ),
            (
                names::UPSTREAM_RQ_TIMEOUT,
                l(&[("cluster", "web")]),
                "cluster.web.upstream_rq_timeout",
            ),
            (
                names::UPSTREAM_RQ_TIME,
                l(&[("cluster", "web")]),
                "cluster.web.upstream_rq_time",
            ),
            (
                names::LISTENER_CX_RX_BYTES,
                l(&[("listener", "in")]),
                "listener.in.downstream_cx_rx_bytes_total",
            ),
            (
                names::LISTENER_CX_ACTIVE,
                l(&[("listener", "in")]),
                "listener.in.downstream_cx_active",
            ),
            (
                names::BREAKER_REMAINING_CX,
                l(&[("cluster", "web"), ("priority", "default")]),
                "cluster.web.circuit_breakers.default.remaining_cx",
            ),
            (
                names::ENDPOINT_RQ,
                l(&[("cluster", "web"), ("endpoint", "127.0.0.1:8081")]),
                "cluster.web.endpoint.127.0.0.1:8081.rq_total",
            ),
            (
                names::ROUTE_RQ_XX,
                l(&[("route", "api"), ("response_code_class", "5xx")]),
                "route.api.upstream_rq_5xx",
            ),
            (names::SERVER_CONFIG_VERSION, l(&[]), "server.config_version"),
            (
                names::MEMBERSHIP_TOTAL,
                l(&[("cluster", "web")]),
                "cluster.web.membership_total",
            ),
            (
                names::MEMBERSHIP_CHANGE,
                l(&[("cluster", "web")]),
                "cluster.web.membership_change",
            ),
        ];
        for (name, labels, want) in cases {
            let counter = name.ends_with("_total") && name != names::MEMBERSHIP_TOTAL;
            assert_eq!(dotted(name, &labels, counter), want, "{name} {labels:?}");
        }
    }

    #[test]
    fn text_sums_codes_into_totals_and_filters_by_regex() {
        let stats = crate::stats::Stats::new();
        let web = stats.cluster("web");
        for code in [200, 200, 404] {
            web.rq.record(code);
        }
        let all = render(&stats.read(), None);
        for want in [
            "cluster.web.upstream_rq_200: 2\n",
            "cluster.web.upstream_rq_2xx: 2\n",
            "cluster.web.upstream_rq_404: 1\n",
            "cluster.web.upstream_rq_total: 3\n",
            "cluster.web.upstream_rq_time: P0(nan,nan) P25(nan,nan)",
        ] {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
        let plain: Vec<&str> = all.lines().take_while(|l| !l.contains(" P0(")).collect();
        let mut sorted = plain.clone();
        sorted.sort_unstable();
        assert_eq!(plain, sorted, "counters and gauges come first, sorted");
        assert!(
            all.lines().skip(plain.len()).all(|l| l.contains(" P0(")),
            "then histograms"
        );
        let filter = regex::Regex::new("rq_[0-9]xx$").unwrap();
        let some = render(&stats.read(), Some(&filter));
        assert!(some.lines().all(|l| l.contains("xx: ")), "{some}");
        assert_eq!(some.lines().count(), 5, "{some}");
    }
}
