//! One resolution of a name into addresses and the TTL they are good for, and when to ask again.
//!
//! Policy: `all` asks A and AAAA together and needs both to answer; `v4_only`/`v6_only` ask one;
//! `auto` asks AAAA and, only when that has no records, A. An answer "with no records" (NXDOMAIN
//! or an empty NOERROR) is a good, empty answer, as in Envoy (c-ares' ENOTFOUND/ENODATA complete
//! the resolution with no hosts). Anything else (timeout, SERVFAIL, REFUSED, a network error) is
//! a failure, and so is one family failing under `all`: half an answer would drop the other
//! family's hosts.
//!
//! The resolver's cache is cleared before each resolution: the source decides when to ask again
//! (see [`next_refresh`]), so a re-resolution must reach the nameserver, not the cache.

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::{Resolver, TokioResolver};
use mesh_core::policy::{DnsDiscovery, DnsLookupFamily};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The shortest interval a TTL may set, so that TTL 0 (or 1s records asked over and over) does not
/// become a hot loop against the nameserver.
pub(super) const MIN_TTL_REFRESH: Duration = Duration::from_secs(1);

/// What one good resolution found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    /// Sorted and without repeats, so record order never reads as a change.
    pub(super) addresses: Vec<IpAddr>,
    /// The lowest TTL among the answer records (CNAMEs on the way included); `None` when empty.
    pub(super) min_ttl: Option<Duration>,
}

/// A resolution that failed; the message says what the resolver saw.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {hostname}: {reason}")]
pub(super) struct LookupFailed {
    hostname: String,
    reason: String,
}

/// Why a resolver could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the system's DNS configuration: {0}")]
pub struct ResolverConfigError(#[from] NetError);

/// A resolver for `config`: its `resolvers` (UDP, then TCP for truncated answers) or the system's.
pub(super) fn resolver(
    config: &DnsDiscovery,
    timeout: Duration,
    attempts: usize,
) -> Result<TokioResolver, ResolverConfigError> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = if config.resolvers.is_empty() {
        Resolver::builder(provider)?
    } else {
        let servers = config.resolvers.iter().map(|&addr| name_server(addr)).collect();
        Resolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = timeout;
    options.attempts = attempts;
    Ok(builder.build()?)
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let at_port = |mut connection: ConnectionConfig| {
        connection.port = addr.port();
        connection
    };
    let connections = vec![at_port(ConnectionConfig::udp()), at_port(ConnectionConfig::tcp())];
    NameServerConfig::new(addr.ip(), true, connections)
}

/// Resolves `hostname` once, as `family` says.
pub(super) async fn resolve(
    resolver: &TokioResolver,
    hostname: &str,
    family: DnsLookupFamily,
) -> Result<Answer, LookupFailed> {
    resolver.clear_cache();
    let failed = |e: NetError| LookupFailed {
        hostname: hostname.to_owned(),
        reason: e.to_string(),
    };
    let mut found = Found::default();
    match family {
        DnsLookupFamily::V4Only => found.add(query(resolver, hostname, RecordType::A).await.map_err(failed)?),
        DnsLookupFamily::V6Only => found.add(
            query(resolver, hostname, RecordType::AAAA)
                .await
                .map_err(failed)?,
        ),
        DnsLookupFamily::All => {
            let (v4, v6) = tokio::join!(
                query(resolver, hostname, RecordType::A),
                query(resolver, hostname, RecordType::AAAA)
            );
            found.add(v4.map_err(failed)?);
            found.add(v6.map_err(failed)?);
        }
        DnsLookupFamily::Auto => {
            found.add(
                query(resolver, hostname, RecordType::AAAA)
                    .await
                    .map_err(failed)?,
            );
            if found.addresses.is_empty() {
                found = Found::default();
                found.add(query(resolver, hostname, RecordType::A).await.map_err(failed)?);
            }
        }
    }
    let mut addresses = found.addresses;
    addresses.sort_unstable();
    addresses.dedup();
    let min_ttl = found.min_ttl.map(|s| Duration::from_secs(u64::from(s)));
    Ok(Answer { addresses, min_ttl })
}

/// The records of one query: `Ok(empty)` when the name has none of that type, or does not exist.
async fn query(resolver: &TokioResolver, hostname: &str, kind: RecordType) -> Result<Found, NetError> {
    match resolver.lookup(hostname, kind).await {
        Ok(lookup) => {
            let mut found = Found::default();
            for record in lookup.answers() {
                found.min_ttl = Some(found.min_ttl.map_or(record.ttl, |t| t.min(record.ttl)));
                // A CNAME on the way is not an address; `lookup` already filtered other types.
                found.addresses.extend(record.data.ip_addr());
            }
            Ok(found)
        }
        Err(e) if e.is_no_records_found() => Ok(Found::default()),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default)]
struct Found {
    addresses: Vec<IpAddr>,
    min_ttl: Option<u32>,
}

impl Found {
    fn add(&mut self, other: Found) {
        self.addresses.extend(other.addresses);
        self.min_ttl = match (self.min_ttl, other.min_ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// When to resolve again after a good answer: with `respect_dns_ttl`, the answer's lowest TTL
/// clamped to `[1s, refresh_rate]` (a `refresh_rate` below 1s wins); otherwise, or when the answer
/// had no records, `refresh_rate`.
pub(super) fn next_refresh(respect_ttl: bool, refresh_rate: Duration, min_ttl: Option<Duration>) -> Duration {
    match min_ttl {
        Some(ttl) if respect_ttl => ttl.clamp(MIN_TTL_REFRESH.min(refresh_rate), refresh_rate),
        _ => refresh_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_sets_the_next_refresh_within_one_second_and_the_refresh_rate() {
        let five = Duration::from_secs(5);
        let s = Duration::from_secs;
        assert_eq!(next_refresh(true, five, Some(s(2))), s(2));
        assert_eq!(next_refresh(true, five, Some(s(0))), s(1), "TTL 0 must not spin");
        assert_eq!(
            next_refresh(true, five, Some(s(300))),
            five,
            "a long TTL waits refresh_rate at most"
        );
        assert_eq!(next_refresh(true, five, None), five, "an empty answer has no TTL");
        assert_eq!(next_refresh(false, five, Some(s(2))), five);
        let fast = Duration::from_millis(200);
        assert_eq!(
            next_refresh(true, fast, Some(s(0))),
            fast,
            "a refresh_rate below 1s wins"
        );
    }
}
