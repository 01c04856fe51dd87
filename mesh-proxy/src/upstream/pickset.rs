//! What the request path reads for one cluster: a balancer per priority level that
//! takes traffic, built from the members' health, ejections and slow-start ramps.
//!
//! Endpoint priorities and Envoy's panic threshold apply as [`priority`] describes:
//! traffic stays on priority 0 while enough of it is healthy and fails over as it is
//! not; a level with too few healthy hosts balances across all of them (a partly-broken
//! level beats one overloaded survivor), and every request picked that way is counted
//! in `lb_healthy_panic`.

use super::balancer::{Balancer, BalancerError};
use super::hosts::Member;
use super::priority::{self, LevelHealth};
use super::{ZoneContext, slow_start, zone};
use mesh_core::policy::Cluster;
use mesh_health::{EjectionSnapshot, HealthSnapshot};
use std::sync::Arc;

#[derive(Debug, Default)]
pub(crate) struct Pickset {
    /// One balancer per priority level that takes traffic, highest priority first, each
    /// with the cumulative share (percent) it covers: `levels[i].0` is the upper bound.
    levels: Vec<(u32, Level)>,
}

#[derive(Debug)]
struct Level {
    balancer: Balancer,
    /// Balancing across every host of the level because too few are healthy.
    panic: bool,
    /// Zone-aware routing for this level, when it applies.
    zoned: Option<zone::Zoned>,
}

/// A new pickset and what the membership loop needs to know about it.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) pickset: Pickset,
    pub(crate) healthy: usize,
    /// A member is still ramping up under slow start: rebuild again soon.
    pub(crate) ramping: bool,
}

impl Pickset {
    /// The member index for this request (the level by a uniform draw when traffic is
    /// split) and whether it was picked in panic mode.
    pub(crate) fn pick(&self, hash: Option<u64>) -> Option<(usize, bool)> {
        let level = match self.levels.as_slice() {
            [] => return None,
            [(_, only)] => only,
            levels => {
                let r = rand::random_range(0..100u32);
                let (_, level) = levels
                    .iter()
                    .find(|(upper, _)| r < *upper)
                    .unwrap_or(&levels[levels.len() - 1]);
                level
            }
        };
        let balancer = level
            .zoned
            .as_ref()
            .and_then(zone::Zoned::balancer)
            .unwrap_or(&level.balancer);
        balancer.pick(hash).map(|i| (i, level.panic))
    }

    /// Lays out `members` (`None` snapshots: no checks / no detection, all eligible).
    pub(crate) fn build(
        policy: &Cluster,
        zones: Option<&ZoneContext>,
        members: &[Member],
        health: Option<&Arc<HealthSnapshot>>,
        ejections: Option<&Arc<EjectionSnapshot>>,
    ) -> Result<Built, BalancerError> {
        let total = members.len();
        let is_healthy = |i: usize| {
            let addr = &members[i].endpoint.addr;
            health.is_none_or(|h| h.is_healthy(addr)) && ejections.is_none_or(|e| !e.is_ejected(addr))
        };
        let mut priorities: Vec<u32> = members.iter().map(|m| m.spec.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let in_level = |p: u32| (0..total).filter(move |&i| members[i].spec.priority == p);
        let health_by_level: Vec<LevelHealth> = priorities
            .iter()
            .map(|&p| LevelHealth {
                total: in_level(p).count(),
                healthy: in_level(p).filter(|&i| is_healthy(i)).count(),
            })
            .collect();

        // Slow start: when did each member last (re)join — join the running cluster, turn
        // healthy again, come back from an ejection — and how far along its ramp is it?
        let now = tokio::time::Instant::now();
        let rejoined = |i: usize| {
            let e = &members[i].endpoint;
            let healthy_since = health
                .and_then(|h| h.get(&e.addr))
                .filter(|s| s.healthy)
                .map(|s| s.since)
                .filter(|since| e.joined.is_some() || e.first_healthy.get_or_init(|| *since) != since);
            let returned = ejections.and_then(|s| s.get(&e.addr)).and_then(|s| s.returned_at);
            healthy_since.max(returned).max(e.joined)
        };
        let mut ramping = false;
        let mut weight = |i: usize| {
            let configured = members[i].spec.weight;
            let Some(config) = &policy.slow_start else {
                return configured;
            };
            let factor =
                rejoined(i).and_then(|t| slow_start::factor(now.saturating_duration_since(t), config));
            ramping |= factor.is_some();
            slow_start::weight(configured, factor)
        };

        let threshold = policy.common_lb.healthy_panic_threshold.get();
        let mut levels = Vec::new();
        let mut upper = 0;
        for (&p, share) in priorities
            .iter()
            .zip(priority::loads(&health_by_level, threshold))
        {
            if share.percent == 0 {
                continue;
            }
            upper += share.percent;
            let eligible: Vec<_> = in_level(p)
                .filter(|&i| share.panic || is_healthy(i))
                .map(|i| (i, weight(i)))
                .collect();
            if share.panic {
                tracing::debug!(cluster = %policy.name, priority = p, "membership: level in panic mode");
            }
            // Envoy routes by zone only at the highest priority, outside panic, and
            // only for clusters of at least `min_cluster_size` hosts.
            let min_hosts = policy.common_lb.zone_min_cluster_size as usize;
            let zoned = match zones {
                Some(ctx) if levels.is_empty() && !share.panic && total >= min_hosts => {
                    zone::Zoned::build(policy, ctx, members, &eligible)?
                }
                _ => None,
            };
            let balancer = Balancer::build(policy, members, &eligible)?;
            levels.push((
                upper,
                Level {
                    balancer,
                    panic: share.panic,
                    zoned,
                },
            ));
        }
        Ok(Built {
            pickset: Pickset { levels },
            healthy: health_by_level.iter().map(|l| l.healthy).sum(),
            ramping,
        })
    }
}
