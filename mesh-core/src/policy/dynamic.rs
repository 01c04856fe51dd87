//! Validated `dynamic_resources`: where the xDS client finds its management server.
//!
//! Policy: only ADS (Envoy's `ads_config` with LDS, CDS and, through them, RDS and EDS on one
//! gRPC stream). Default `initial_fetch_timeout` 15s, Envoy's: how long a new cluster or
//! listener waits for its endpoints or routes before it is used anyway. Clusters that take
//! their endpoints from EDS (`discovery.eds`) need it.

use super::errors::{Issues, Path};
use super::{Cluster, Discovery};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_INITIAL_FETCH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamicResources {
    pub ads: AdsSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdsSource {
    /// The management server (gRPC over plaintext HTTP/2).
    pub address: SocketAddr,
    #[serde(with = "serde_str")]
    pub initial_fetch_timeout: Duration,
}

pub(crate) fn build(raw: &config::Bootstrap, issues: &mut Issues) -> Option<DynamicResources> {
    let d = raw.dynamic_resources.as_ref()?;
    let path = Path::root().key("dynamic_resources").key("ads");
    let Some(ads) = &d.ads else {
        issues.push(
            &path,
            "is required under dynamic_resources (the only source it supports)",
        );
        return None;
    };
    let address = issues.required(&ads.address, &path.key("address")).and_then(|a| {
        let parsed = a.parse().map_err(|_| {
            format!("{a:?} is not a socket address (expected ip:port, e.g. \"127.0.0.1:18000\")")
        });
        issues.check(&path.key("address"), parsed)
    });
    let timeout_path = path.key("initial_fetch_timeout");
    let initial_fetch_timeout = issues.duration(
        &ads.initial_fetch_timeout,
        &timeout_path,
        DEFAULT_INITIAL_FETCH_TIMEOUT,
    );
    if initial_fetch_timeout.is_zero() {
        issues.push(&timeout_path, "must be greater than 0s");
    }
    Some(DynamicResources {
        ads: AdsSource {
            address: address?,
            initial_fetch_timeout,
        },
    })
}

/// EDS clusters need a management server to get their endpoints from.
pub(crate) fn check_eds(clusters: &[Cluster], raw: &config::Bootstrap, issues: &mut Issues) {
    if raw.dynamic_resources.is_some() {
        return;
    }
    for (i, c) in clusters.iter().enumerate() {
        if matches!(c.discovery, Discovery::Eds(_)) {
            let path = Path::root().key("clusters").idx(i).key("discovery").key("eds");
            issues.push(
                &path,
                "needs dynamic_resources.ads: the endpoints come from the management server",
            );
        }
    }
}
