//! Per-request controls a trusted caller sets in headers (the thin client does):
//! Envoy's `x-envoy-upstream-rq-timeout-ms`, `x-envoy-upstream-rq-per-try-timeout-ms`,
//! `x-envoy-max-retries`, `x-envoy-retry-on` and `x-envoy-retry-grpc-on`, as `x-mesh-*`.
//!
//! Only trusted peers' headers reach this point: the router removes every `x-mesh-*`
//! header of other peers before routing. The headers are consumed here (removed before
//! the request goes upstream): they steer this hop. As in Envoy, retry conditions from
//! headers are added to the route's, `x-mesh-max-retries` counts only when some condition
//! is set, `0` ms disables a timeout, and a value that does not parse is ignored.

use http::HeaderMap;
use mesh_core::policy::{Forward, RetryOn, RetryPolicy};
use std::borrow::Cow;
use std::time::Duration;

const RQ_TIMEOUT: &str = "x-mesh-upstream-rq-timeout-ms";
const PER_TRY_TIMEOUT: &str = "x-mesh-upstream-rq-per-try-timeout-ms";
const MAX_RETRIES: &str = "x-mesh-max-retries";
const RETRY_ON: &str = "x-mesh-retry-on";
const RETRY_GRPC_ON: &str = "x-mesh-retry-grpc-on";

/// What a request runs under: the route's settings with the caller's overrides. The
/// route's retry policy is borrowed; only a request that overrides it gets a copy.
#[derive(Debug)]
pub(crate) struct Effective<'a> {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Cow<'a, RetryPolicy>>,
}

impl<'a> Effective<'a> {
    /// The route's own settings.
    pub(crate) fn route(fwd: &'a Forward) -> Self {
        Effective {
            timeout: fwd.timeout,
            retry: fwd.retry_policy.as_ref().map(Cow::Borrowed),
        }
    }
}

/// Takes the control headers out of `headers` and applies them to the route's settings.
pub(crate) fn take<'a>(headers: &mut HeaderMap, fwd: &'a Forward) -> Effective<'a> {
    let mut take = |name: &str| {
        headers
            .remove(name)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    };
    let millis = |v: Option<String>| {
        v.and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    let timeout = millis(take(RQ_TIMEOUT));
    let per_try = millis(take(PER_TRY_TIMEOUT));
    let max_retries = take(MAX_RETRIES).and_then(|v| v.trim().parse::<u32>().ok());
    let extra_on = [take(RETRY_ON), take(RETRY_GRPC_ON)]
        .into_iter()
        .flatten()
        // Unknown names are skipped, as Envoy does for these headers.
        .flat_map(|list| {
            list.split(',')
                .filter_map(|n| RetryOn::parse(n).ok())
                .collect::<Vec<_>>()
        })
        .fold(RetryOn::NONE, RetryOn::union);

    let mut retry = fwd.retry_policy.as_ref().map(Cow::Borrowed);
    // A per-try timeout bounds the single try of a route without retries too.
    if !extra_on.is_empty() || per_try.is_some() {
        let policy = retry
            .get_or_insert_with(|| Cow::Owned(RetryPolicy::default()))
            .to_mut();
        policy.retry_on = policy.retry_on.union(extra_on);
    }
    if (max_retries.is_some() || per_try.is_some())
        && let Some(policy) = retry.as_mut().map(Cow::to_mut)
    {
        if let Some(n) = max_retries.filter(|_| !policy.retry_on.is_empty()) {
            policy.num_retries = n;
        }
        if let Some(per_try) = per_try {
            policy.per_try_timeout = Some(per_try).filter(|d| !d.is_zero());
        }
    }
    let timeout = match timeout {
        Some(d) => Some(d).filter(|d| !d.is_zero()),
        None => fwd.timeout,
    };
    Effective { timeout, retry }
}
