//! A cluster's balancer: the mesh-lb picker its `lb_policy` names, over the
//! indices of the cluster's current members.
//!
//! Pickers are built once per endpoint set and shared by every worker thread; a pick
//! is a few atomic reads (and, for round robin, one relaxed add). Consistent-hashing
//! policies use the route's request hash; a request that yields none (no hash
//! policy, or none of its inputs present) gets a random point, as in Envoy.

use super::hosts::Member;
use mesh_core::policy::{Cluster, LbPolicy};
use mesh_lb::{
    EwmaConfig, LeastRequest, LeastRequestConfig, Load, Maglev, MaglevConfig, PeakEwma, Random, RingHash,
    RingHashConfig, WeightedRoundRobin,
};
use std::num::NonZeroU32;
use std::sync::Arc;

/// A balancer could not be built from a (validated) cluster: a duplicate endpoint
/// address under a hashing policy, or a table too small for the hosts.
#[derive(Debug, thiserror::Error)]
#[error("cluster {cluster:?}: cannot build its {policy} balancer: {reason}")]
pub struct BalancerError {
    cluster: String,
    policy: &'static str,
    reason: String,
}

#[derive(Debug)]
pub(crate) enum Balancer {
    RoundRobin(WeightedRoundRobin<usize>),
    Random(Random<usize>),
    LeastRequest(LeastRequest<usize>),
    PeakEwma(PeakEwma<usize>),
    RingHash(RingHash<usize>),
    Maglev(Maglev<usize>),
}

/// The per-endpoint load record for a cluster's policy (peak-EWMA needs its knobs).
pub(crate) fn load_for(policy: &LbPolicy) -> Arc<Load> {
    match policy {
        LbPolicy::PeakEwma { decay, default_rtt } => match EwmaConfig::new(*decay, *default_rtt) {
            Ok(config) => Arc::new(Load::with_config(config)),
            // mesh-core already refused a zero decay; the default is the safe fallback.
            Err(_) => Arc::new(Load::new()),
        },
        _ => Arc::new(Load::new()),
    }
}

impl Balancer {
    /// Builds the picker for `cluster` over `eligible` members, each an index into
    /// `members` with its effective weight (slow start may lower it).
    pub(crate) fn build(
        cluster: &Cluster,
        members: &[Member],
        eligible: &[(usize, NonZeroU32)],
    ) -> Result<Self, BalancerError> {
        let weights = || eligible.iter().copied().filter(|(i, _)| *i < members.len());
        let with_load = || weights().map(|(i, w)| (i, w, members[i].endpoint.load.clone()));
        // Hashing policies key hosts by address, so a host keeps its ring points while
        // others come and go.
        let keyed = || weights().map(|(i, w)| (i, members[i].spec.address.to_string(), w));
        let err = |policy: &'static str, reason: String| BalancerError {
            cluster: cluster.name.clone(),
            policy,
            reason,
        };
        Ok(match &cluster.lb_policy {
            LbPolicy::RoundRobin => Balancer::RoundRobin(WeightedRoundRobin::new(weights())),
            LbPolicy::Random => Balancer::Random(Random::new(weights())),
            LbPolicy::LeastRequest {
                choice_count,
                active_request_bias,
            } => {
                let config = LeastRequestConfig {
                    choice_count: *choice_count,
                    active_request_bias: *active_request_bias,
                };
                let picker = LeastRequest::new(with_load(), config)
                    .map_err(|e| err("least_request", e.to_string()))?;
                Balancer::LeastRequest(picker)
            }
            LbPolicy::PeakEwma { .. } => Balancer::PeakEwma(PeakEwma::new(with_load())),
            LbPolicy::RingHash {
                minimum_ring_size,
                maximum_ring_size,
            } => {
                let config = RingHashConfig::new(*minimum_ring_size, *maximum_ring_size)
                    .map_err(|e| err("ring_hash", e.to_string()))?;
                Balancer::RingHash(
                    RingHash::new(keyed(), config).map_err(|e| err("ring_hash", e.to_string()))?,
                )
            }
            LbPolicy::Maglev { table_size } => {
                let config = MaglevConfig::new(*table_size).map_err(|e| err("maglev", e.to_string()))?;
                Balancer::Maglev(Maglev::new(keyed(), config).map_err(|e| err("maglev", e.to_string()))?)
            }
        })
    }

    /// The index of the endpoint for a request with `hash` (used by hashing policies only).
    pub(crate) fn pick(&self, hash: Option<u64>) -> Option<usize> {
        let mut rng = rand::rng();
        let point = || hash.unwrap_or_else(rand::random);
        let picked = match self {
            Balancer::RoundRobin(b) => b.pick(),
            Balancer::Random(b) => b.pick(&mut rng),
            Balancer::LeastRequest(b) => b.pick(&mut rng),
            Balancer::PeakEwma(b) => b.pick(&mut rng, tokio::time::Instant::now().into_std()),
            Balancer::RingHash(b) => b.pick(point()),
            Balancer::Maglev(b) => b.pick(point()),
        };
        picked.copied()
    }
}
