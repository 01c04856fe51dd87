//! Building a listener's [`RouteFilters`] from its validated policy: one bucket per
//! configured `local_rate_limit`, one fault filter per route with a `fault`.

use super::{FilterStats, Filters, Release, RouteFilters};
use crate::stats::{Stats, names};
use mesh_core::policy::{self, HttpListener};
use mesh_filters::fault::{
    AbortFault, DelayFault, FaultInjection, FaultPercentage, FaultPolicy, InvalidFault,
};
use mesh_filters::rate_limit::TokenBucket;
use metrics::Counter;
use std::sync::Arc;

/// A validated key that mesh-filters refuses. mesh-core checks the same bounds, so this only
/// happens if the two ever disagree; the proxy then refuses to start rather than drop the key.
#[derive(Debug, thiserror::Error)]
#[error("{scope}: {key}: {reason}")]
pub(crate) struct InvalidFilter {
    /// Where the key is, e.g. `listener "web" virtual host "all" route 0`.
    pub(crate) scope: String,
    pub(crate) key: &'static str,
    pub(crate) reason: String,
}

impl From<InvalidFilter> for crate::StartError {
    fn from(e: InvalidFilter) -> Self {
        crate::StartError::NotEnforced {
            scope: format!("{} ({})", e.scope, e.reason),
            key: e.key,
        }
    }
}

impl RouteFilters {
    /// The filters of HTTP listener `name`, counted in `stats` under its name.
    pub(crate) fn build(name: &str, policy: &HttpListener, stats: &Stats) -> Result<Self, InvalidFilter> {
        let invalid =
            |scope: String, key: &'static str| move |reason: String| InvalidFilter { scope, key, reason };
        let listener_scope = || format!("listener {name:?}");
        let listener_bucket = bucket(policy.options.local_rate_limit.as_ref())
            .map_err(invalid(listener_scope(), "local_rate_limit"))?;
        let (mut any_bucket, mut any_fault) = (listener_bucket.is_some(), false);
        let mut hosts = Vec::new();
        for vh in policy.virtual_hosts.iter() {
            let vh_scope = format!("{} virtual host {:?}", listener_scope(), vh.name);
            let vh_bucket = bucket(vh.local_rate_limit.as_ref())
                .map_err(invalid(vh_scope.clone(), "local_rate_limit"))?;
            any_bucket |= vh_bucket.is_some();
            let mut routes = Vec::with_capacity(vh.routes.len());
            for (i, route) in vh.routes.iter().enumerate() {
                let scope = || format!("{vh_scope} route {i}");
                let own =
                    bucket(route.local_rate_limit.as_ref()).map_err(invalid(scope(), "local_rate_limit"))?;
                let fault = route
                    .fault
                    .as_ref()
                    .map(fault_policy)
                    .transpose()
                    .map_err(|e| invalid(scope(), "fault")(e.to_string()))?;
                any_bucket |= own.is_some();
                any_fault |= fault.is_some();
                // The most specific bucket wins; the others are never consulted for this route.
                let bucket = own
                    .or_else(|| vh_bucket.clone())
                    .or_else(|| listener_bucket.clone());
                routes.push(Filters {
                    bucket,
                    fault: fault.map(|p| FaultInjection::new(Release, p)),
                });
            }
            hosts.push(routes);
        }
        // Series only for the filters a listener has, as Envoy creates a filter's stats with it.
        let counter = |on: bool, metric: &'static str| match on {
            true => stats.plain(metric, ("listener", name)),
            false => Counter::noop(),
        };
        let stats = FilterStats {
            rate_limit_ok: counter(any_bucket, names::HTTP_LOCAL_RATE_LIMIT_OK),
            rate_limited: counter(any_bucket, names::HTTP_LOCAL_RATE_LIMITED),
            delays_injected: counter(any_fault, names::HTTP_FAULT_DELAYS_INJECTED),
            aborts_injected: counter(any_fault, names::HTTP_FAULT_ABORTS_INJECTED),
        };
        Ok(RouteFilters { hosts, stats })
    }
}

/// The runtime bucket of a validated one; starts full now.
fn bucket(policy: Option<&policy::TokenBucket>) -> Result<Option<Arc<TokenBucket>>, String> {
    policy
        .map(|b| TokenBucket::new(b.max_tokens(), b.tokens_per_fill(), b.fill_interval()))
        .transpose()
        .map(|b| b.map(Arc::new))
        .map_err(|e| e.to_string())
}

/// mesh-core's `fault` as mesh-filters' policy; percentages become parts per million.
fn fault_policy(fault: &policy::Fault) -> Result<FaultPolicy, InvalidFault> {
    let percent = |p: policy::Percent| FaultPercentage::from_percent(p.get());
    let mut out = FaultPolicy::new();
    if let Some(d) = &fault.delay {
        let percentage = percent(d.percentage)?;
        out = out.with_delay(match d.source {
            policy::DelaySource::Fixed(length) => DelayFault::fixed(length, percentage)?,
            policy::DelaySource::Header => DelayFault::header(percentage),
        });
    }
    if let Some(a) = &fault.abort {
        let percentage = percent(a.percentage)?;
        out = out.with_abort(match a.source {
            policy::AbortSource::HttpStatus(status) => AbortFault::http(status.as_u16(), percentage)?,
            policy::AbortSource::GrpcStatus(code) => AbortFault::grpc(u32::from(code), percentage),
            policy::AbortSource::Header => AbortFault::header(percentage),
        });
    }
    if let Some(max) = fault.max_active_faults {
        out = out.with_max_active_faults(max);
    }
    Ok(out)
}
