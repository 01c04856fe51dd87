//! Validated access logs of an HTTP listener: where lines go, their format, which requests.
//!
//! Policy: `path` is required (`/dev/stdout` or a file, opened for appending by the proxy);
//! `format` (an Envoy format string) or `json_format` (a map of format strings), never both,
//! Envoy's default line when neither is given; `sampling` is the share of requests logged,
//! decided from the request ID so every hop of a call chain logs the same requests (default:
//! all). Format strings are compiled here, so a bad one is a configuration error naming the
//! key and the byte where it went wrong.

mod error;
mod format;
mod operator;
mod parse;

pub use error::{FormatError, Reason};
pub use format::{ENVOY_DEFAULT, FormatKind, LogFormat};
pub use operator::{Header, HeaderRef, Operator};
pub use parse::Segment;

use super::Percent;
use super::errors::{Issues, Path};
use crate::config;
use serde::{Serialize, Serializer};
use std::path::PathBuf;

/// One access log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessLog {
    pub path: LogPath,
    #[serde(flatten)]
    pub format: LogFormat,
    /// `None`: every request.
    pub sampling: Option<Percent>,
}

/// Where an access log's lines go. Logs with equal paths share one writer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogPath {
    /// `/dev/stdout`: the process's standard output.
    Stdout,
    File(PathBuf),
}

const STDOUT: &str = "/dev/stdout";

impl Serialize for LogPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LogPath::Stdout => s.serialize_str(STDOUT),
            LogPath::File(path) => path.serialize(s),
        }
    }
}

/// Most access logs one listener may have.
pub const MAX_ACCESS_LOGS: usize = 64;

pub(crate) fn build(raw: &[config::AccessLog], path: &Path, issues: &mut Issues) -> Vec<AccessLog> {
    if raw.len() > MAX_ACCESS_LOGS {
        issues.push(
            path,
            format!("at most {MAX_ACCESS_LOGS} access logs per listener"),
        );
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, log)| one(log, &path.idx(i), issues))
        .collect()
}

fn one(raw: &config::AccessLog, path: &Path, issues: &mut Issues) -> Option<AccessLog> {
    let log_path = issues
        .required(&raw.path, &path.key("path"))
        .and_then(|p| match p.as_str() {
            "" => {
                issues.push(&path.key("path"), "must not be empty");
                None
            }
            STDOUT => Some(LogPath::Stdout),
            file => Some(LogPath::File(PathBuf::from(file))),
        });
    let format = match (&raw.format, &raw.json_format) {
        (Some(_), Some(_)) => {
            issues.push(&path.key("json_format"), "cannot be set together with format");
            None
        }
        (Some(text), None) => compiled(LogFormat::parse(text), &path.key("format"), issues),
        (None, Some(fields)) => compiled(LogFormat::json(fields.clone()), &path.key("json_format"), issues),
        (None, None) => Some(LogFormat::envoy_default()),
    };
    let sampling = raw
        .sampling
        .as_ref()
        .and_then(|s| share(s, &path.key("sampling"), issues));
    let sampling_ok = raw.sampling.is_none() || sampling.is_some();
    match (log_path, format, sampling_ok) {
        (Some(path), Some(format), true) => Some(AccessLog {
            path,
            format,
            sampling,
        }),
        _ => None,
    }
}

fn compiled(result: Result<LogFormat, FormatError>, path: &Path, issues: &mut Issues) -> Option<LogFormat> {
    result.map_err(|e| issues.push(path, e.to_string())).ok()
}

/// `"12.5%"`, `"12.5"` or `12.5`, within 0..=100.
fn share(raw: &config::Share, path: &Path, issues: &mut Issues) -> Option<Percent> {
    let value = match raw {
        config::Share::Number(n) => Ok(*n),
        config::Share::Text(text) => {
            let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim_end();
            number
                .parse::<f64>()
                .map_err(|_| format!("{text:?} is not a percentage like \"10%\""))
        }
    };
    issues.check(path, value.and_then(Percent::new))
}

#[cfg(test)]
mod tests;
