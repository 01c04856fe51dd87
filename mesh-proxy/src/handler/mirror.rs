//! Request mirroring in the router: each of the route's `request_mirror_policies` becomes
//! a shadow [`Attempt`] at its mirror cluster, and mesh-filters' [`copy_to`] draws, tees
//! the body and sends the copies (fire and forget; see `mesh_filters::mirror`).
//!
//! A shadow goes through the mirror cluster's own balancer and circuit breakers, with the
//! primary's rewritten head and `-shadow` on its host, without retries, under the route
//! timeout.

use super::attempt::{Attempt, Plan};
use crate::upstream::Upstreams;
use bytes::Bytes;
use http::Request;
use http_body::Body;
use mesh_core::policy::MirrorPolicy;
use mesh_filters::mirror::{Tee, copy_to, shadow_authority};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The primary request, its body feeding the copies the draws chose.
pub(crate) fn mirror<B>(
    upstreams: &Arc<Upstreams>,
    policies: &[MirrorPolicy],
    plan: &Plan,
    timeout: Option<Duration>,
    req: Request<B>,
) -> Request<Tee<B>>
where
    B: Body<Data = Bytes>,
{
    let shadows: Vec<(Attempt, _)> = policies
        .iter()
        .map(|policy| {
            let shadow = Plan {
                cluster: policy.cluster.index,
                hash: plan.hash,
                priority: plan.priority,
                authority: plan.authority.as_ref().map(shadow_authority),
                path_and_query: plan.path_and_query.clone(),
                downstream: plan.downstream,
                upgrade: false,
                reselect: 1,
                timed_out: AtomicBool::new(false),
                // Nobody sees a shadow's response.
                traced: false,
            };
            let attempt = Attempt {
                upstreams: upstreams.clone(),
                plan: Arc::new(shadow),
            };
            (attempt, policy.percentage)
        })
        .collect();
    copy_to(&shadows, timeout, req)
}
