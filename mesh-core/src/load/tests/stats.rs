//! Stats keys: `stats_flush_interval` and `track_cluster_stats`.

use super::*;

const BASE: &str = r#"
clusters:
  - name: web
    endpoints: [ { address: "127.0.0.1:8081" } ]
"#;

#[test]
fn stats_flush_interval_defaults_to_envoys_5s_and_takes_a_duration() {
    assert_eq!(valid(BASE).stats_flush_interval, Duration::from_secs(5));
    let cfg = valid(&format!("stats_flush_interval: 250ms\n{BASE}"));
    assert_eq!(cfg.stats_flush_interval, Duration::from_millis(250));
}

#[test]
fn stats_flush_interval_out_of_range_or_unparsable_names_the_key() {
    only_error(
        &format!("stats_flush_interval: 0s\n{BASE}"),
        "stats_flush_interval",
        "from 1ms to 5m",
    );
    only_error(
        &format!("stats_flush_interval: 10m\n{BASE}"),
        "stats_flush_interval",
        "from 1ms to 5m",
    );
    let errs = errors(&format!("stats_flush_interval: soon\n{BASE}"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "stats_flush_interval");
}

#[test]
fn per_endpoint_stats_is_off_unless_a_cluster_asks() {
    assert!(!valid(BASE).clusters[0].per_endpoint_stats);
    let on = valid(&format!(
        "{BASE}    track_cluster_stats: {{ per_endpoint_stats: true }}\n"
    ));
    assert!(on.clusters[0].per_endpoint_stats);
    let errs = errors(&format!("{BASE}    track_cluster_stats: {{ per_host: true }}\n"));
    assert!(
        errs.iter()
            .any(|(p, m)| p.contains("track_cluster_stats") || m.contains("per_host")),
        "{errs:?}"
    );
}
