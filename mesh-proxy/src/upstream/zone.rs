//! Envoy's zone-aware routing: keep traffic in the caller's zone while that zone's
//! upstream capacity matches its share of callers, and spill only the excess.
//!
//! Inputs are host counts per zone: the local service's (from the cluster named by
//! `cluster_manager.local_cluster_name`) and the upstream cluster's healthy hosts. If
//! the local zone holds at least as large a share of the upstream as of the callers,
//! every request stays local. Otherwise `upstream% / local%` of requests stay local and
//! the rest go to the other zones in proportion to their residual capacity
//! (`upstream% − local%` where positive). The membership code turns it off below
//! `min_cluster_size` hosts, in panic mode, and for the share of requests outside
//! `routing_enabled`.

use super::ZoneContext;
use super::balancer::{Balancer, BalancerError};
use super::hosts::Member;
use mesh_core::policy::Cluster;
use std::num::NonZeroU32;

/// How requests of one cluster divide between zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZonePlan {
    /// Everything stays in the local zone.
    Local,
    /// `local_bp` of 10 000 requests stay local; the others go to `residual[i].0` (an
    /// index into the upstream zones) with cumulative weights `residual[i].1`.
    Spill {
        local_bp: u64,
        residual: Vec<(usize, u64)>,
    },
}

/// `local` and `upstream` are `(zone, hosts)`; `upstream_local` is the index of the
/// caller's zone in `upstream`. `None` when there is nothing to route by.
pub(crate) fn plan(
    local: &[(&str, usize)],
    local_zone: &str,
    upstream: &[(&str, usize)],
) -> Option<ZonePlan> {
    let local_total: usize = local.iter().map(|(_, n)| n).sum();
    let upstream_total: usize = upstream.iter().map(|(_, n)| n).sum();
    let here = upstream.iter().position(|(z, n)| *z == local_zone && *n > 0)?;
    let callers_here = local.iter().find(|(z, _)| *z == local_zone).map(|(_, n)| *n)?;
    if local_total == 0 || upstream_total == 0 || callers_here == 0 {
        return None;
    }
    // Shares in basis points of 10 000, as Envoy computes them.
    let bp = |n: usize, total: usize| (n * 10_000 / total) as u64;
    let local_share = |zone: &str| {
        local
            .iter()
            .find(|(z, _)| *z == zone)
            .map_or(0, |(_, n)| bp(*n, local_total))
    };
    let up_here = bp(upstream[here].1, upstream_total);
    let callers = local_share(local_zone);
    if up_here >= callers {
        return Some(ZonePlan::Local);
    }
    let mut residual = Vec::new();
    let mut cumulative = 0;
    for (i, (zone, n)) in upstream.iter().enumerate() {
        let spare = bp(*n, upstream_total).saturating_sub(local_share(zone));
        if i != here && spare > 0 {
            cumulative += spare;
            residual.push((i, cumulative));
        }
    }
    if residual.is_empty() {
        // No zone has spare capacity by these counts: spread by upstream share instead.
        for (i, (_, n)) in upstream.iter().enumerate() {
            if i != here && *n > 0 {
                cumulative += *n as u64;
                residual.push((i, cumulative));
            }
        }
    }
    Some(ZonePlan::Spill {
        local_bp: up_here * 10_000 / callers,
        residual,
    })
}

impl ZonePlan {
    /// The upstream zone for a request, from two uniform draws `r1 < 10 000` and
    /// `r2 < u64::MAX`.
    pub(crate) fn zone(&self, here: usize, r1: u64, r2: u64) -> usize {
        match self {
            ZonePlan::Local => here,
            ZonePlan::Spill { local_bp, residual } => {
                let total = residual.last().map_or(0, |(_, c)| *c);
                if r1 < *local_bp || total == 0 {
                    return here;
                }
                let point = r2 % total;
                residual
                    .iter()
                    .find(|(_, c)| point < *c)
                    .map_or(here, |(z, _)| *z)
            }
        }
    }
}

/// A level's zone split: the plan and a balancer per upstream zone.
#[derive(Debug)]
pub(crate) struct Zoned {
    plan: ZonePlan,
    /// The caller's zone, as an index into `by_zone`.
    here: usize,
    by_zone: Vec<Balancer>,
    /// Percent of requests routed by zone (`routing_enabled`).
    enabled: u8,
}

impl Zoned {
    /// The zone split of a level's `eligible` endpoints, if the caller's zone has any.
    pub(crate) fn build(
        policy: &Cluster,
        ctx: &ZoneContext,
        members: &[Member],
        eligible: &[(usize, NonZeroU32)],
    ) -> Result<Option<Zoned>, BalancerError> {
        let zone_of = |i: usize| members[i].spec.zone.as_deref().unwrap_or("");
        let mut zones: Vec<(&str, usize)> = Vec::new();
        for &(i, _) in eligible {
            match zones.iter_mut().find(|(z, _)| *z == zone_of(i)) {
                Some((_, n)) => *n += 1,
                None => zones.push((zone_of(i), 1)),
            }
        }
        let callers: Vec<(&str, usize)> = ctx.callers.iter().map(|(z, n)| (z.as_str(), *n)).collect();
        let Some(plan) = plan(&callers, &ctx.local_zone, &zones) else {
            return Ok(None);
        };
        let Some(here) = zones.iter().position(|(z, _)| *z == ctx.local_zone) else {
            return Ok(None);
        };
        let by_zone = zones
            .iter()
            .map(|(zone, _)| {
                let in_zone: Vec<_> = eligible
                    .iter()
                    .copied()
                    .filter(|(i, _)| zone_of(*i) == *zone)
                    .collect();
                Balancer::build(policy, members, &in_zone)
            })
            .collect::<Result<_, _>>()?;
        let enabled = policy.common_lb.zone_routing_enabled.get();
        Ok(Some(Zoned {
            plan,
            here,
            by_zone,
            enabled,
        }))
    }

    /// The balancer of the zone this request goes to; `None` when the request falls
    /// outside `routing_enabled` (the level's whole balancer applies then).
    pub(crate) fn balancer(&self) -> Option<&Balancer> {
        if rand::random_range(0..100u8) >= self.enabled {
            return None;
        }
        self.by_zone.get(
            self.plan
                .zone(self.here, rand::random_range(0..10_000), rand::random()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_local_capacity_keeps_everything_local() {
        // Callers 50/50 in a/b, upstream 3/3: a holds 50% of both.
        assert_eq!(
            plan(&[("a", 2), ("b", 2)], "a", &[("a", 3), ("b", 3)]),
            Some(ZonePlan::Local)
        );
        // More upstream than callers in a: still local.
        assert_eq!(
            plan(&[("a", 1), ("b", 3)], "a", &[("a", 3), ("b", 3)]),
            Some(ZonePlan::Local)
        );
    }

    #[test]
    fn short_local_capacity_spills_the_excess_by_residual_capacity() {
        // Callers 50% in a, upstream only 1 of 6 (16.66%) in a: a third stays local.
        let got = plan(&[("a", 2), ("b", 2)], "a", &[("a", 1), ("b", 5)]).unwrap();
        let ZonePlan::Spill { local_bp, residual } = &got else {
            panic!("{got:?}")
        };
        assert_eq!(*local_bp, 1666 * 10_000 / 5000);
        // Zone b: 5/6 of upstream (8333 bp, floored) minus 50% of callers.
        assert_eq!(residual.as_slice(), [(1, 8333 - 5000)]);
        assert_eq!(got.zone(0, 0, 0), 0);
        assert_eq!(got.zone(0, 9_999, 7), 1);
    }

    #[test]
    fn residual_goes_to_zones_with_spare_capacity_only() {
        // Callers a/b/c = 50/25/25; upstream a/b/c = 1/1/2 → c has spare (50% − 25%), b none.
        let got = plan(
            &[("a", 2), ("b", 1), ("c", 1)],
            "a",
            &[("a", 1), ("b", 1), ("c", 2)],
        )
        .unwrap();
        let ZonePlan::Spill { residual, .. } = &got else {
            panic!("{got:?}")
        };
        assert_eq!(residual.iter().map(|(z, _)| *z).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn unknown_or_empty_local_zones_turn_it_off() {
        assert_eq!(plan(&[("a", 1)], "z", &[("a", 3)]), None);
        assert_eq!(plan(&[("a", 1)], "a", &[("a", 0), ("b", 3)]), None);
        assert_eq!(plan(&[], "a", &[("a", 3)]), None);
    }
}
