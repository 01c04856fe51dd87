//! Validated fault injection (a route's `fault`, Envoy's `envoy.filters.http.fault`).
//!
//! A delay holds the request before it goes upstream; an abort answers it without going
//! upstream. Each applies to `percentage` of the route's requests, drawn per request.
//! With `header_control`, trusted callers choose each fault per request with the
//! `x-mesh-fault-*` headers instead (Envoy's `header_delay` / `header_abort`); the
//! percentages still apply to the requests that ask.

use super::errors::{Issues, Path};
use super::percent::Percent;
use super::serde_helpers as ser;
use crate::config;
use crate::duration::serde_str;
use http::StatusCode;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub delay: Option<FaultDelay>,
    pub abort: Option<FaultAbort>,
    /// Most requests being delayed or aborted at once on this route; a request over the
    /// limit gets no fault. `None`: no limit.
    pub max_active_faults: Option<u32>,
}

impl Fault {
    /// Milliseconds to delay the request (Envoy's `x-envoy-fault-delay-request`).
    pub const DELAY_HEADER: &'static str = "x-mesh-fault-delay-request";
    /// HTTP status to abort with (Envoy's `x-envoy-fault-abort-request`).
    pub const ABORT_HEADER: &'static str = "x-mesh-fault-abort-request";
    /// gRPC status to abort with (Envoy's `x-envoy-fault-abort-grpc-request`).
    pub const ABORT_GRPC_HEADER: &'static str = "x-mesh-fault-abort-grpc-request";
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultDelay {
    pub source: DelaySource,
    /// Share of the route's requests delayed (of those that ask, with `Header`).
    pub percentage: Percent,
}

/// Where a delay's length comes from (Envoy's `fault_delay_secifier` oneof).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DelaySource {
    /// `fixed_delay`, greater than zero.
    #[serde(rename = "fixed_delay", serialize_with = "serde_str::serialize")]
    Fixed(Duration),
    /// Milliseconds from [`Fault::DELAY_HEADER`]; a request without it is not delayed.
    #[serde(rename = "header_delay")]
    Header,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultAbort {
    pub source: AbortSource,
    /// Share of the route's requests aborted (of those that ask, with `Header`).
    pub percentage: Percent,
}

/// What an aborted request is answered with (Envoy's `error_type` oneof).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortSource {
    /// An HTTP status in `200..=599`.
    #[serde(serialize_with = "ser::status")]
    HttpStatus(StatusCode),
    /// A gRPC status in `0..=16`, sent as a trailers-only response (HTTP 200).
    GrpcStatus(u8),
    /// The status from [`Fault::ABORT_HEADER`], else the gRPC status from
    /// [`Fault::ABORT_GRPC_HEADER`]; a request with neither is not aborted.
    #[serde(rename = "header_abort")]
    Header,
}

pub(crate) fn build(raw: &config::Fault, path: &Path, issues: &mut Issues) -> Option<Fault> {
    let before = issues.0.len();
    let header_control = raw.header_control.unwrap_or(false);
    if raw.delay.is_none() && raw.abort.is_none() && !header_control {
        issues.push(path, "injects nothing: set delay, abort or header_control: true");
    }
    // With header_control both kinds come from the headers, as Envoy's header_delay and
    // header_abort, and a block only sets its percentage; a fixed value would be ignored.
    let no_block = config::FaultDelay::default();
    let delay = match (&raw.delay, header_control) {
        (None, false) => None,
        (d, true) => delay(d.as_ref().unwrap_or(&no_block), true, &path.key("delay"), issues),
        (Some(d), false) => delay(d, false, &path.key("delay"), issues),
    };
    let no_block = config::FaultAbort::default();
    let abort = match (&raw.abort, header_control) {
        (None, false) => None,
        (a, true) => abort(a.as_ref().unwrap_or(&no_block), true, &path.key("abort"), issues),
        (Some(a), false) => abort(a, false, &path.key("abort"), issues),
    };
    (issues.0.len() == before).then_some(())?;
    Some(Fault {
        delay,
        abort,
        max_active_faults: raw.max_active_faults,
    })
}

fn delay(raw: &config::FaultDelay, header: bool, path: &Path, issues: &mut Issues) -> Option<FaultDelay> {
    let fixed_path = path.key("fixed_delay");
    let source = match (&raw.fixed_delay, header) {
        (Some(_), true) => {
            issues.push(
                &fixed_path,
                "not with header_control: x-mesh-fault-delay-request sets the delay",
            );
            None
        }
        (None, true) => Some(DelaySource::Header),
        (None, false) => {
            issues.push(&fixed_path, "is required (or header_control: true)");
            None
        }
        (Some(t), false) => match issues.check(&fixed_path, crate::duration::parse(t)) {
            Some(d) if d.is_zero() => {
                issues.push(&fixed_path, "must be greater than 0s");
                None
            }
            d => d.map(DelaySource::Fixed),
        },
    };
    let percentage = percentage(raw.percentage, path, issues);
    Some(FaultDelay {
        source: source?,
        percentage,
    })
}

fn abort(raw: &config::FaultAbort, header: bool, path: &Path, issues: &mut Issues) -> Option<FaultAbort> {
    let source = match (raw.http_status, raw.grpc_status, header) {
        (None, None, true) => Some(AbortSource::Header),
        (_, _, true) => {
            issues.push(
                path,
                "takes no http_status or grpc_status with header_control: the headers set them",
            );
            None
        }
        (Some(code), None, false) => super::route_build::status(code, &[], &path.key("http_status"), issues)
            .map(AbortSource::HttpStatus),
        (None, Some(code), false) => match u8::try_from(code).ok().filter(|c| *c <= 16) {
            Some(c) => Some(AbortSource::GrpcStatus(c)),
            None => {
                issues.push(
                    &path.key("grpc_status"),
                    format!("{code} is not a gRPC status in 0..=16"),
                );
                None
            }
        },
        _ => {
            issues.push(path, "needs exactly one of http_status, grpc_status");
            None
        }
    };
    let percentage = percentage(raw.percentage, path, issues);
    Some(FaultAbort {
        source: source?,
        percentage,
    })
}

/// Default 100: a configured fault is meant to happen (Envoy's proto default is 0%).
fn percentage(v: Option<f64>, path: &Path, issues: &mut Issues) -> Percent {
    match v {
        None => Percent::HUNDRED,
        Some(p) => issues
            .check(&path.key("percentage"), Percent::new(p))
            .unwrap_or(Percent::HUNDRED),
    }
}
