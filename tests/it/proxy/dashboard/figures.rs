//! One read of the dashboard by `tests/python/dashboard.py`: the figures the page showed, between two
//! `/stats?format=json` answers taken just before and just after; and the checks a person relies on.

use serde_json::Value;

pub(super) struct Read {
    page: Value,
    before: Value,
    after: Value,
    before_at: f64,
    after_at: f64,
}

impl Read {
    pub(super) fn new(read: Value) -> Read {
        let at = |key: &str| {
            read[key]
                .as_f64()
                .unwrap_or_else(|| panic!("no {key} in {read:#}"))
        };
        Read {
            before_at: at("before_at"),
            after_at: at("after_at"),
            page: read["page"].clone(),
            before: read["stats_before"].clone(),
            after: read["stats_after"].clone(),
        }
    }

    fn figure(&self, scope: &[&str], field: &str) -> f64 {
        let mut v = &self.page;
        for key in scope {
            v = &v[key];
        }
        let raw = v[field]["value"].as_str().unwrap_or_default();
        raw.parse().unwrap_or_else(|_| {
            panic!(
                "{scope:?}.{field} shows no number ({:?}): {:#}",
                v[field], self.page
            )
        })
    }

    pub(super) fn cluster(&self, name: &str, field: &str) -> f64 {
        self.figure(&["clusters", name], field)
    }

    pub(super) fn listener(&self, name: &str, field: &str) -> f64 {
        self.figure(&["listeners", name], field)
    }

    pub(super) fn server(&self, field: &str) -> f64 {
        self.figure(&["server"], field)
    }

    /// The requests/s of `cluster` from the `/stats` counters over both reads.
    pub(super) fn average_rate(&self, first: &Read, cluster: &str) -> f64 {
        let total = |stats: &Value| stats_cluster(stats, cluster)["rq_total"].as_f64().unwrap();
        (total(&self.after) - total(&first.before)) / (self.after_at - first.before_at)
    }

    /// Every counter shown lies between `/stats` just before and just after (the page polled in
    /// between), and what does not move under traffic is shown exactly.
    pub(super) fn agrees_with_stats(&self) {
        let (before, after) = (&self.before, &self.after);
        let between = |what: &str, shown: f64, low: &Value, high: &Value| {
            let (low, high) = (low.as_f64().unwrap(), high.as_f64().unwrap());
            assert!(
                low <= shown && shown <= high,
                "{what}: the page shows {shown}, /stats said {low} then {high}"
            );
        };
        let server = |field: &str| &before["server"][field];
        assert_eq!(self.page["server"]["state"]["value"], "LIVE");
        assert_eq!(server("state"), "LIVE");
        assert_eq!(
            self.server("config_version"),
            server("config_version").as_f64().unwrap()
        );
        assert_eq!(self.server("config_version"), 1.0);
        between(
            "uptime_s",
            self.server("uptime_s"),
            server("uptime_s"),
            &after["server"]["uptime_s"],
        );

        let names = |v: &Value, key: &str| -> Vec<String> {
            let mut n: Vec<String> = v[key]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            n.sort();
            n
        };
        let stats_names = |key: &str| -> Vec<String> {
            let mut n: Vec<String> = before[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&self.page, "clusters"), stats_names("clusters"));
        assert_eq!(names(&self.page, "listeners"), stats_names("listeners"));

        for name in stats_names("clusters") {
            let (b, a) = (stats_cluster(before, &name), stats_cluster(after, &name));
            for field in ["rq_total", "rq_5xx"] {
                between(
                    &format!("{name}.{field}"),
                    self.cluster(&name, field),
                    &b[field],
                    &a[field],
                );
            }
            for field in ["hosts_healthy", "hosts_total"] {
                assert_eq!(b[field], a[field], "{name}.{field} changed during the read");
                assert_eq!(
                    self.cluster(&name, field),
                    b[field].as_f64().unwrap(),
                    "{name}.{field}"
                );
            }
            let shown = self.page["clusters"][&name]["rq_total"]["text"]
                .as_str()
                .unwrap()
                .replace(',', "");
            assert_eq!(
                shown.parse::<f64>().ok(),
                Some(self.cluster(&name, "rq_total")),
                "{name}"
            );
        }
        let mut connections = 0.0;
        for name in stats_names("listeners") {
            let find = |stats: &Value| {
                let all = stats["listeners"].as_array().unwrap();
                all.iter().find(|l| l["name"] == name.as_str()).unwrap().clone()
            };
            let (b, a) = (find(before), find(after));
            between(
                &format!("{name}.rq_total"),
                self.listener(&name, "rq_total"),
                &b["rq_total"],
                &a["rq_total"],
            );
            assert_eq!(self.page["listeners"][&name]["address"]["value"], b["address"]);
            connections += self.listener(&name, "cx_active");
        }
        assert_eq!(
            self.server("cx_active"),
            connections,
            "the header sums the listeners"
        );
        assert!(
            self.listener("ingress", "cx_active") >= 1.0,
            "traffic holds a connection open"
        );
    }

    /// Latency quantiles and rates as a person would read them: present, ordered, and (for the
    /// interval quantiles, which change only once per stats interval) exactly what `/stats` says.
    pub(super) fn cluster_figures_are_plausible(&self) {
        for name in ["web", "api"] {
            let (p50, p99) = (self.cluster(name, "p50"), self.cluster(name, "p99"));
            assert!(
                0.0 < p50 && p50 <= p99 && p99 < 5000.0,
                "{name}: p50 {p50} ms, p99 {p99} ms"
            );
            for q in ["p50", "p99"] {
                let source = self.page["clusters"][name][q]["source"]
                    .as_str()
                    .unwrap_or_default();
                let interval = |stats: &Value| stats_cluster(stats, name)["latency_ms_interval"].clone();
                let (b, a) = (interval(&self.before), interval(&self.after));
                match source {
                    "interval" => {
                        let shown = self.cluster(name, q);
                        let said = [&b, &a].map(|s| s[q].as_f64());
                        assert!(
                            said.iter().flatten().any(|v| (v - shown).abs() <= 1e-9 * v.abs()),
                            "{name}.{q}: the page shows {shown}, /stats said {said:?}"
                        );
                    }
                    "cumulative" => assert!(
                        b.is_null() || a.is_null(),
                        "{name}.{q}: cumulative shown while /stats had an interval: {b} {a}"
                    ),
                    other => panic!("{name}.{q}: unknown source {other:?}"),
                }
            }
            let rate = self.cluster(name, "rq_rate");
            let errors = self.cluster(name, "error_rate");
            assert!(
                rate >= 0.0 && (0.0..=100.0).contains(&errors),
                "{name}: {rate} rq/s, {errors}% 5xx"
            );
        }
    }

    /// `(address, healthy)` of each host dot of `cluster`, in page order.
    pub(super) fn hosts(&self, cluster: &str) -> Vec<(String, bool)> {
        let dots = self.page["clusters"][cluster]["dots"].as_array().unwrap();
        dots.iter()
            .map(|d| {
                (
                    d["address"].as_str().unwrap().to_owned(),
                    d["healthy"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    /// Each host dot says what `/clusters?format=json` says of that endpoint (the first flag word:
    /// the reasons carry a "for Ns" that moves).
    pub(super) fn hosts_match_clusters(&self, clusters: &Value) {
        let word = |flags: &str| flags.split(" (").next().unwrap_or_default().to_owned();
        for c in clusters["clusters"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let dots = &self.page["clusters"][name]["dots"];
            let mut want: Vec<(String, String)> = c["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["address"].as_str().unwrap().to_owned(),
                        word(e["health_flags"].as_str().unwrap()),
                    )
                })
                .collect();
            let mut shown: Vec<(String, String)> = dots
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let flags = d["flags"].as_str().unwrap();
                    assert_eq!(d["healthy"].as_bool(), Some(flags == "healthy"), "{d}");
                    assert!(
                        d["title"]
                            .as_str()
                            .unwrap()
                            .contains(d["address"].as_str().unwrap())
                    );
                    (d["address"].as_str().unwrap().to_owned(), word(flags))
                })
                .collect();
            want.sort();
            shown.sort();
            assert_eq!(shown, want, "{name}: host health on the page vs /clusters");
        }
    }
}

fn stats_cluster<'a>(stats: &'a Value, name: &str) -> &'a Value {
    let all = stats["clusters"]
        .as_array()
        .unwrap_or_else(|| panic!("no clusters in {stats:#}"));
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name} in {stats:#}"))
}

/// Width and height from a PNG's header, and its size; panics if it is not a PNG.
pub(super) fn png_size(path: &str) -> (u32, u32, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 24,
        "{path} is not a PNG"
    );
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20), bytes.len())
}
