//! The Prometheus text exposition format (0.0.4) of a set of samples.
//!
//! One `# TYPE` line per family, then its series; histograms as cumulative `_bucket`
//! series on Envoy's default bounds (in seconds) plus `+Inf`, `_sum` (seconds) and `_count`.
//! The samples must come grouped by name (as [`super::Stats::read`] gives them).

use super::histogram::ENVOY_BUCKETS_US;
use super::store::{Sample, Value};
use std::fmt::Write as _;

pub(crate) fn render(samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut family = "";
    for s in samples {
        if s.name != family {
            family = s.name;
            let kind = match s.value {
                Value::Counter(_) => "counter",
                Value::Gauge(_) => "gauge",
                Value::Histogram { .. } => "histogram",
            };
            let _ = writeln!(out, "# TYPE {family} {kind}");
        }
        let labels = labels(&s.labels);
        match &s.value {
            Value::Counter(v) => series(&mut out, s.name, "", &labels, None, v),
            Value::Gauge(v) => series(&mut out, s.name, "", &labels, None, v),
            Value::Histogram { cumulative, .. } => {
                for bound in ENVOY_BUCKETS_US {
                    let le = seconds(bound);
                    let n = cumulative.count_at_most(bound);
                    series(&mut out, s.name, "_bucket", &labels, Some(&le), &n);
                }
                let count = cumulative.count();
                series(&mut out, s.name, "_bucket", &labels, Some("+Inf"), &count);
                let sum = cumulative.sum_us() as f64 / 1e6;
                series(&mut out, s.name, "_sum", &labels, None, &sum);
                series(&mut out, s.name, "_count", &labels, None, &count);
            }
        }
    }
    out
}

/// Microseconds as seconds, written the shortest way (`0.0005`, `25`).
fn seconds(us: u64) -> String {
    (us as f64 / 1e6).to_string()
}

fn series(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &str,
    le: Option<&str>,
    value: &dyn std::fmt::Display,
) {
    let le = le.map(|le| format!("le=\"{le}\""));
    let all: Vec<&str> = [labels, le.as_deref().unwrap_or("")]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    match all.is_empty() {
        true => {
            let _ = writeln!(out, "{name}{suffix} {value}");
        }
        false => {
            let _ = writeln!(out, "{name}{suffix}{{{}}} {value}", all.join(","));
        }
    }
}

fn labels(labels: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape(v));
    }
    out
}

/// Label values escape `\`, `"` and newlines.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', r#"\""#).replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::super::Stats;
    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render_as_families() {
        let stats = Stats::new();
        let web = stats.cluster("web");
        web.rq.record(200);
        web.rq.record(200);
        web.time.histogram.record_us(20_000);
        web.time.histogram.record_us(200_000);
        stats
            .unlabelled_gauge(super::super::names::SERVER_CONFIG_VERSION)
            .set(3.0);
        let text = render(&stats.read());
        for want in [
            "# TYPE mesh_cluster_upstream_rq_total counter\n",
            "mesh_cluster_upstream_rq_total{cluster=\"web\",response_code=\"200\"} 2\n",
            "mesh_cluster_upstream_rq_xx_total{cluster=\"web\",response_code_class=\"2xx\"} 2\n",
            "mesh_cluster_upstream_rq_xx_total{cluster=\"web\",response_code_class=\"5xx\"} 0\n",
            "# TYPE mesh_cluster_upstream_rq_time_seconds histogram\n",
            "mesh_cluster_upstream_rq_time_seconds_bucket{cluster=\"web\",le=\"0.01\"} 0\n",
            "mesh_cluster_upstream_rq_time_seconds_bucket{cluster=\"web\",le=\"0.025\"} 1\n",
            "mesh_cluster_upstream_rq_time_seconds_bucket{cluster=\"web\",le=\"0.25\"} 2\n",
            "mesh_cluster_upstream_rq_time_seconds_bucket{cluster=\"web\",le=\"3600\"} 2\n",
            "mesh_cluster_upstream_rq_time_seconds_bucket{cluster=\"web\",le=\"+Inf\"} 2\n",
            "mesh_cluster_upstream_rq_time_seconds_sum{cluster=\"web\"} 0.22\n",
            "mesh_cluster_upstream_rq_time_seconds_count{cluster=\"web\"} 2\n",
            "mesh_server_config_version 3\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(text.matches("# TYPE mesh_cluster_upstream_rq_total ").count(), 1);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("route", "a\"b\\c\nd".into())]), r#"route="a\"b\\c\nd""#);
    }
}
