//! Validated request mirroring (a route's `request_mirror_policies`).
//!
//! Envoy's semantics: a copy of the request goes to the mirror cluster with `-shadow`
//! appended to its host; the mirror's response is discarded and never delays or
//! changes the one the client gets (fire and forget).

use super::errors::{Issues, Path};
use super::percent::Percent;
use super::{ClusterIndex, ClusterRef};
use crate::config;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MirrorPolicy {
    pub cluster: ClusterRef,
    /// Share of the route's requests mirrored. Default 100.
    pub percentage: Percent,
}

pub(crate) fn build(
    raw: &[config::MirrorPolicy],
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
) -> Vec<MirrorPolicy> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let p = path.idx(i);
        let cluster = issues
            .required(&m.cluster, &p.key("cluster"))
            .and_then(|c| clusters.resolve(c, &p.key("cluster"), issues));
        let percentage = match m.percentage {
            None => Some(Percent::HUNDRED),
            Some(v) => issues.check(&p.key("percentage"), Percent::new(v)),
        };
        if let (Some(cluster), Some(percentage)) = (cluster, percentage) {
            out.push(MirrorPolicy { cluster, percentage });
        }
    }
    out
}
