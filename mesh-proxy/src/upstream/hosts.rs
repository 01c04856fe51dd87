//! A cluster's members at one moment and the balancer over them, published together
//! so that the index a request picks always names the member it was built from.
//!
//! The membership loop makes a new [`HostSet`] on every discovery update, health or
//! ejection change; members that stay keep their [`Endpoint`] (pools, load, outcomes),
//! new addresses get a fresh one.

use super::endpoint::Endpoint;
use super::pickset::Pickset;
use mesh_core::policy::{self, EndpointSet};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) endpoint: Arc<Endpoint>,
    /// Weight, priority, zone and metadata, as discovery last gave them.
    pub(crate) spec: policy::Endpoint,
    /// Discovery dropped this host; it stays while it passes its health checks
    /// (Envoy's `PENDING_DYNAMIC_REMOVAL`).
    pub(crate) pending_removal: bool,
}

#[derive(Debug, Default)]
pub(crate) struct HostSet {
    /// The discovery version in force (an endpoints file's `version`).
    pub(crate) version: Option<String>,
    pub(crate) members: Vec<Member>,
    pub(crate) pickset: Pickset,
}

impl HostSet {
    pub(crate) fn addrs(&self) -> Vec<SocketAddr> {
        self.members.iter().map(|m| m.endpoint.addr).collect()
    }

    /// The members for `addrs` (the discovered hosts plus those health primacy keeps):
    /// each spec from `discovered`, or from the previous member when discovery dropped
    /// it; each endpoint reused by address, or made by `build`.
    pub(crate) fn next_members(
        &self,
        discovered: &EndpointSet,
        addrs: &[SocketAddr],
        mut build: impl FnMut(SocketAddr) -> Endpoint,
    ) -> Vec<Member> {
        let previous: HashMap<SocketAddr, &Member> =
            self.members.iter().map(|m| (m.endpoint.addr, m)).collect();
        let specs: HashMap<SocketAddr, &policy::Endpoint> =
            discovered.endpoints.iter().map(|e| (e.address, e)).collect();
        addrs
            .iter()
            .filter_map(|addr| {
                let before = previous.get(addr);
                let (spec, pending_removal) = match specs.get(addr) {
                    Some(spec) => ((*spec).clone(), false),
                    None => (before?.spec.clone(), true),
                };
                let endpoint = match before {
                    Some(m) => m.endpoint.clone(),
                    None => Arc::new(build(*addr)),
                };
                Some(Member {
                    endpoint,
                    spec,
                    pending_removal,
                })
            })
            .collect()
    }
}
