//! Health has primacy over discovery: which hosts stay members of a cluster when discovery
//! drops them.
//!
//! Policy (Envoy's, as Lyft ran it: discovery is eventually consistent and may be wrong or
//! late; a host's own answers are not):
//! - Every host discovery lists is a member. One it adds takes traffic only once it passes its
//!   first check, when checks are configured: the [`HealthChecker`](crate::HealthChecker) holds
//!   a new host unhealthy until then.
//! - A member discovery no longer lists **stays** while its active checks pass (Envoy's
//!   `PENDING_DYNAMIC_REMOVAL`); it leaves when it is both absent and failing. A host removed
//!   before its first check passed, or already failing, leaves at once.
//! - Without active checks there is nothing to give primacy to, and with
//!   `ignore_health_on_host_removal` the operator opted out: absent hosts leave at once.
//!
//! Pure: the caller (the proxy's per-cluster membership loop, or any control loop beside a
//! tower balancer) calls [`members`] on every discovery update and every health change, and
//! publishes the result to the health checker, the outlier detector and the balancer.
//!
//! ```
//! use mesh_health::{HealthSnapshot, primacy};
//! let (a, b) = ("10.0.0.1:80".parse()?, "10.0.0.2:80".parse()?);
//! // Discovery dropped `b`; with no health checks configured it leaves at once.
//! let kept = primacy::members(&[a], &[a, b], None, false);
//! assert_eq!(kept, vec![a]);
//! // With checks configured but `b` not (or no longer) passing them, it leaves too.
//! let kept = primacy::members(&[a], &[a, b], Some(&HealthSnapshot::default()), false);
//! assert_eq!(kept, vec![a]);
//! # Ok::<(), std::net::AddrParseError>(())
//! ```

use crate::HealthSnapshot;
use std::collections::HashSet;
use std::net::SocketAddr;

/// The cluster's members after an update: every host in `discovered` (in its order, duplicates
/// once), then the hosts of `previous` that discovery dropped but that `health` reports healthy
/// (in their order). `health` is `None` when the cluster has no active checks.
pub fn members(
    discovered: &[SocketAddr],
    previous: &[SocketAddr],
    health: Option<&HealthSnapshot>,
    ignore_health_on_host_removal: bool,
) -> Vec<SocketAddr> {
    let mut seen = HashSet::with_capacity(discovered.len() + previous.len());
    let mut out: Vec<SocketAddr> = discovered.iter().copied().filter(|a| seen.insert(*a)).collect();
    if let Some(health) = health.filter(|_| !ignore_health_on_host_removal) {
        out.extend(
            previous
                .iter()
                .copied()
                .filter(|a| health.is_healthy(a) && seen.insert(*a)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::HostStatus;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn health(healthy: &[SocketAddr], unhealthy: &[SocketAddr]) -> HealthSnapshot {
        let now = tokio::time::Instant::now();
        let mut snap = HealthSnapshot::default();
        for (list, ok) in [(healthy, true), (unhealthy, false)] {
            for a in list {
                let mut status = HostStatus::new(1, now);
                status.healthy = ok;
                snap.hosts.insert(*a, status);
            }
        }
        snap
    }

    #[test]
    fn a_dropped_host_that_passes_its_checks_stays_after_the_discovered_ones() {
        let (a, b, c) = (addr(1), addr(2), addr(3));
        let snap = health(&[a, b, c], &[]);
        assert_eq!(members(&[c, a], &[a, b, c], Some(&snap), false), vec![c, a, b]);
    }

    #[test]
    fn a_dropped_host_leaves_once_it_fails_or_never_passed() {
        let (a, b, c) = (addr(1), addr(2), addr(3));
        // b failing, c never checked (not in the snapshot yet).
        let snap = health(&[a], &[b]);
        assert_eq!(members(&[a], &[a, b, c], Some(&snap), false), vec![a]);
    }

    #[test]
    fn without_checks_or_with_the_opt_out_absent_hosts_leave_at_once() {
        let (a, b) = (addr(1), addr(2));
        let snap = health(&[a, b], &[]);
        assert_eq!(members(&[a], &[a, b], None, false), vec![a]);
        assert_eq!(members(&[a], &[a, b], Some(&snap), true), vec![a]);
    }

    #[test]
    fn added_hosts_join_and_duplicates_count_once() {
        let (a, b) = (addr(1), addr(2));
        let snap = health(&[a], &[]);
        assert_eq!(members(&[a, b, b], &[a], Some(&snap), false), vec![a, b]);
    }

    #[test]
    fn a_host_discovery_lists_again_is_a_plain_member() {
        let (a, b) = (addr(1), addr(2));
        let snap = health(&[a, b], &[]);
        let kept = members(&[a], &[a, b], Some(&snap), false);
        assert_eq!(members(&[a, b], &kept, Some(&snap), false), vec![a, b]);
    }
}
