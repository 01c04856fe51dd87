//! The shape of a listener's `access_log` entries.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One access log of an HTTP listener (Envoy's file access logger, flattened).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLog {
    /// Required: `/dev/stdout`, or a file to append to (created when missing).
    pub path: Option<String>,
    /// An Envoy format string (`%START_TIME% %REQ(:METHOD)% ...`). Default: Envoy's default line.
    pub format: Option<String>,
    /// One JSON object per line: each key's value is a format string. Excludes `format`.
    pub json_format: Option<BTreeMap<String, String>>,
    /// The share of requests logged, chosen by request ID (`"10%"` or `10`). Default: all.
    pub sampling: Option<Share>,
}

/// A percentage written as `"12.5%"` or as a number.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Share {
    Number(f64),
    Text(String),
}
