//! The request filters of one HTTP listener's routes: the local rate limit and fault
//! injection, built once when the listener starts and only read on the request path.
//!
//! Order, as in docs/config.md ("Resilience") and Envoy's filter chain, where both filters run
//! before the router: once a route is chosen, the request takes a token from the most specific
//! `local_rate_limit` bucket (the route's, else its virtual host's, else the listener's); then
//! the route's `fault` may delay it and may abort it; only then does the route's action run.
//! Both apply to every action (forward, redirect, direct response). A request that matches no
//! route is answered 404 without taking a token: the bucket is chosen by the route.
//!
//! The algorithms are mesh-filters': [`TokenBucket`] (lock-free) for the limit, and
//! [`FaultInjection`] for faults, wrapped around [`Release`], a service that hands the request
//! back, so the draws, header control, `max_active_faults` and delay-then-abort are the
//! filter's own and the proxy's async dispatch goes on with the request afterwards.

mod from_policy;
#[cfg(test)]
mod tests;

pub(crate) use from_policy::InvalidFilter;

use super::local_reply::ProxyError;
use http::{Request, Response, StatusCode};
use mesh_core::policy::{Route, VirtualHost, VirtualHosts};
use mesh_filters::fault::{FaultAbort, FaultInjection, InjectedDelay};
use mesh_filters::rate_limit::TokenBucket;
use metrics::Counter;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Service, ServiceExt};

/// Per virtual host (in the policy's order), per route (in its virtual host's order): the
/// filters that apply to the route's requests.
#[derive(Debug, Default)]
pub(crate) struct RouteFilters {
    hosts: Vec<Vec<Filters>>,
    stats: FilterStats,
}

#[derive(Debug, Default)]
struct Filters {
    /// The most specific bucket, shared (one `Arc`) by every route that falls back to it.
    bucket: Option<Arc<TokenBucket>>,
    fault: Option<FaultInjection<Release>>,
}

/// Per-listener counters; no-ops on listeners that configure neither filter.
#[derive(Debug)]
struct FilterStats {
    rate_limit_ok: Counter,
    rate_limited: Counter,
    delays_injected: Counter,
    aborts_injected: Counter,
}

impl Default for FilterStats {
    fn default() -> Self {
        FilterStats {
            rate_limit_ok: Counter::noop(),
            rate_limited: Counter::noop(),
            delays_injected: Counter::noop(),
            aborts_injected: Counter::noop(),
        }
    }
}

/// What the filters let through: the request, and the delay injected before it, if any.
pub(crate) struct Admitted<B> {
    pub(crate) request: Request<B>,
    pub(crate) delayed: Option<InjectedDelay>,
}

impl RouteFilters {
    /// Runs `route`'s rate limit and then its fault on `request`; `vhost` and `route` must be
    /// what `hosts` selected. An empty bucket is [`ProxyError::RateLimited`], an injected abort
    /// [`ProxyError::FaultAbort`].
    pub(crate) async fn apply<B>(
        &self,
        hosts: &VirtualHosts,
        vhost: &VirtualHost,
        route: &Route,
        request: Request<B>,
    ) -> Result<Admitted<B>, ProxyError> {
        let Some(filters) = self.lookup(hosts, vhost, route) else {
            // Unreachable while `hosts` is the policy these filters were built from.
            tracing::error!(vhost = %vhost.name, "route filters not found; request not filtered");
            return Ok(Admitted {
                request,
                delayed: None,
            });
        };
        if let Some(bucket) = &filters.bucket {
            match bucket.try_acquire() {
                Ok(()) => self.stats.rate_limit_ok.increment(1),
                Err(limited) => {
                    self.stats.rate_limited.increment(1);
                    return Err(ProxyError::RateLimited(limited));
                }
            }
        }
        match &filters.fault {
            Some(fault) => self.inject(fault, request).await,
            None => Ok(Admitted {
                request,
                delayed: None,
            }),
        }
    }

    async fn inject<B>(
        &self,
        fault: &FaultInjection<Release>,
        request: Request<B>,
    ) -> Result<Admitted<B>, ProxyError> {
        // A clone per request is three `Arc` bumps; it gives the call its own `&mut` service.
        match fault.clone().oneshot(request).await {
            Ok(released) => {
                let delayed = released.extensions().get::<InjectedDelay>().copied();
                if delayed.is_some() {
                    self.stats.delays_injected.increment(1);
                }
                Ok(Admitted {
                    request: released.into_body(),
                    delayed,
                })
            }
            Err(error) => {
                let abort = match error.downcast::<FaultAbort>() {
                    Ok(abort) => *abort,
                    // `Release` cannot fail, so the filter's only error is its abort; should
                    // that change, failing the request beats forwarding one it consumed.
                    Err(other) => {
                        tracing::error!(error = %other, "fault filter failed");
                        FaultAbort {
                            status: Some(StatusCode::INTERNAL_SERVER_ERROR),
                            grpc_status: None,
                            delayed: None,
                        }
                    }
                };
                if abort.delayed.is_some() {
                    self.stats.delays_injected.increment(1);
                }
                self.stats.aborts_injected.increment(1);
                Err(ProxyError::FaultAbort(abort))
            }
        }
    }

    fn lookup(&self, hosts: &VirtualHosts, vhost: &VirtualHost, route: &Route) -> Option<&Filters> {
        let h = index_of(hosts.iter(), vhost)?;
        let r = index_of(vhost.routes.iter(), route)?;
        self.hosts.get(h)?.get(r)
    }
}

/// Where `item` sits among `items`, from its address. Routing lends references into the
/// policy's vectors rather than positions, and a scan would cost O(n) per request; slice
/// iterators skip ahead in O(1). Checked with `ptr::eq`, so a reference from anywhere else
/// gives `None`, never another item's slot.
fn index_of<'a, T: 'a>(mut items: impl Iterator<Item = &'a T>, item: &T) -> Option<usize> {
    let first = items.next()?;
    let offset = (item as *const T as usize).checked_sub(first as *const T as usize)?;
    let size = size_of::<T>();
    if size == 0 || offset % size != 0 {
        return None;
    }
    let i = offset / size;
    let found = match i {
        0 => first,
        _ => items.nth(i - 1)?,
    };
    std::ptr::eq(found, item).then_some(i)
}

/// The service behind the fault filter here: it answers with the request itself, so a request
/// the filter lets through (perhaps after a delay) comes back to the proxy to be routed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Release;

impl<B> Service<Request<B>> for Release {
    type Response = Response<Request<B>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(Response::new(request)))
    }
}
