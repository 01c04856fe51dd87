//! Reading a running proxy's admin listener: pages, and counters from `/stats/prometheus`.

use crate::client::{self, Reply};
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// `GET {path}` on the admin listener at `admin`; panics if it cannot be fetched.
pub async fn admin_get(admin: SocketAddr, path: &str) -> Reply {
    client::get(admin, "admin", path)
        .await
        .unwrap_or_else(|e| panic!("admin GET {path}: {e}"))
}

/// `POST {path}` (empty body) on the admin listener at `admin`; panics if it cannot be sent.
pub async fn admin_post(admin: SocketAddr, path: &str) -> Reply {
    let req = client::request(http::Method::POST, "admin", path, client::body::empty());
    let mut conn = client::Connection::http1(admin)
        .await
        .unwrap_or_else(|e| panic!("admin POST {path}: {e}"));
    conn.send(req)
        .await
        .unwrap_or_else(|e| panic!("admin POST {path}: {e}"))
}

/// The value of counter `name` with exactly `labels` in `/stats/prometheus`, 0 when not exported
/// (counters appear on first use). Panics if the series is exported twice.
pub async fn counter<const N: usize>(admin: SocketAddr, name: &str, labels: [(&str, &str); N]) -> u64 {
    let want: BTreeSet<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let text = admin_get(admin, "/stats/prometheus").await.text();
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (metric, have) = match series.split_once('{') {
            Some((metric, rest)) => (
                metric,
                rest.trim_end_matches('}').split(',').map(str::to_owned).collect(),
            ),
            None => (series, BTreeSet::new()),
        };
        if metric == name && have == want {
            assert!(found.is_none(), "{name}{want:?} exported twice:\n{text}");
            found = Some(value.parse::<f64>().unwrap_or_else(|e| panic!("{line}: {e}")) as u64);
        }
    }
    found.unwrap_or(0)
}
