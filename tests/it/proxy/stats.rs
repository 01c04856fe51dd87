//! The proxy's stats as a user reads them: exact counters after a known mix of outcomes,
//! latency histograms and quantiles that reflect injected backend delays, and the three
//! admin views (`/stats/prometheus`, `/stats`, `/stats?format=json`) agreeing.

mod agreement;
mod counters;
mod latency;

use mesh_tests::proxy::admin_get;
use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

/// The value of series `name` with exactly `labels` in `/stats/prometheus` (float), `None` when
/// it is not exported. The future borrows nothing, so closures can build `labels` in place.
fn prom(admin: SocketAddr, name: &str, labels: &[(&str, &str)]) -> impl Future<Output = Option<f64>> + use<> {
    let (name, want) = (name.to_owned(), label_set(labels));
    async move {
        let text = admin_get(admin, "/stats/prometheus").await.text();
        find(&text, &name, &want)
    }
}

/// [`prom`] on an exposition already fetched.
fn prom_in(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    find(text, name, &label_set(labels))
}

fn label_set(labels: &[(&str, &str)]) -> BTreeSet<String> {
    labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect()
}

fn find(text: &str, name: &str, want: &BTreeSet<String>) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, have) = match series.split_once('{') {
            Some((m, rest)) => (
                m,
                rest.trim_end_matches('}').split(',').map(str::to_owned).collect(),
            ),
            None => (series, BTreeSet::new()),
        };
        (metric == name && &have == want).then(|| value.parse().unwrap_or(f64::NAN))
    })
}

/// `GET /stats?format=json`, parsed.
async fn json(admin: SocketAddr) -> serde_json::Value {
    let reply = admin_get(admin, "/stats?format=json").await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.text()))
}

/// The `/stats` text as `name -> value`.
async fn text(admin: SocketAddr, query: &str) -> std::collections::BTreeMap<String, String> {
    let reply = admin_get(admin, &format!("/stats{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .text()
        .lines()
        .map(|l| match l.split_once(": ") {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => panic!("not `name: value`: {l:?}"),
        })
        .collect()
}
