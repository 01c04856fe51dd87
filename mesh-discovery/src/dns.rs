//! A cluster's endpoints from DNS: [`DnsSource`], Envoy's STRICT_DNS cluster.
//!
//! Policy: every address of `hostname` that `lookup_family` allows is an endpoint on `port`
//! (weight 1, priority 0, no zone), sorted by address, so a reordered answer is no change. The
//! name is resolved again after each answer: with `respect_dns_ttl` (the default here) when the
//! answer's lowest TTL runs out, but never sooner than 1s (TTL 0 must not become a hot loop) and
//! never later than `refresh_rate` (5s by default: a long TTL does not hide a change for long);
//! without it, or after an empty answer, every `refresh_rate`. A set is published only when its
//! addresses differ from the last published; its `version` counts the sets published ("1", "2"…).
//!
//! Start: [`DnsSource::start`] does not wait for DNS. Until the first good answer the receiver
//! holds an empty set with `version: None` (a consumer that must not serve before discovery
//! answers waits for `version.is_some()`), like the registry source: a nameserver that is slow
//! or down at start must not stop the proxy, whose other clusters and routes work without it.
//!
//! States:
//!
//! ```text
//!   Resolving ── answer ──▶ Waiting(next_refresh(TTL)) ──▶ Resolving   (publish if changed)
//!   Resolving ── failure ─▶ Backoff(n) ── jittered min(base·2ⁿ, max) ──▶ Resolving
//! ```
//!
//! Failure, as in Envoy: **a failed lookup never empties a cluster.** A timeout, SERVFAIL,
//! REFUSED or network error (and under `lookup_family: all`, either family failing) keeps the
//! last good set published; the error is logged at `warn`, counted in
//! [`SourceStats::rejected`] once per distinct error, and retried after a backoff drawn
//! uniformly from the upper half of `min(base_interval·2ⁿ, max_interval)` (1s doubling to 10s
//! by default; the lower half is left out so that a struggling nameserver is not asked again
//! at once). [`SourceStats::staleness`] says how long the set has gone unconfirmed. A *good*
//! answer with no addresses (NXDOMAIN, or NOERROR with no records) is what DNS says the cluster
//! is: it empties the cluster, as Envoy's does. Dropping the [`SourceHandle`] or every receiver
//! stops the task.
//!
//! Each query waits [`DnsSourceOptions::timeout`] (5s) and is retried
//! [`DnsSourceOptions::attempts`] (2) more times, hickory's defaults; a whole resolution is also
//! cut off after `timeout × (attempts + 2)` (one timeout of slack over the resolver's own
//! limit), so one stuck lookup cannot stall the loop.

mod lookup;
#[cfg(any(test, feature = "test-support"))]
pub mod test_server;
#[cfg(test)]
mod tests;

pub use lookup::ResolverConfigError;

use crate::{SourceHandle, SourceStats};
use hickory_resolver::TokioResolver;
use lookup::{Answer, next_refresh};
use mesh_core::policy::{DnsBackoff, DnsDiscovery, Endpoint, EndpointSet};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// How a [`DnsSource`] talks to its nameservers; the config file does not set these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSourceOptions {
    /// How long one query waits for its answer. Default 5s.
    pub timeout: Duration,
    /// How many more times a failed query is tried. Default 2.
    pub attempts: usize,
}

impl Default for DnsSourceOptions {
    fn default() -> Self {
        DnsSourceOptions {
            timeout: Duration::from_secs(5),
            attempts: 2,
        }
    }
}

/// Why a DNS source could not start.
#[derive(Debug, thiserror::Error)]
pub enum DnsStartError {
    #[error("cannot start the DNS source: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
    #[error(transparent)]
    Resolver(#[from] ResolverConfigError),
}

/// The addresses of one DNS name, followed as its records change.
#[derive(Debug, Clone)]
pub struct DnsSource {
    config: DnsDiscovery,
    options: DnsSourceOptions,
}

impl DnsSource {
    pub fn new(config: DnsDiscovery, options: DnsSourceOptions) -> Self {
        DnsSource { config, options }
    }

    /// Follows the name from a task on the current runtime; see the module doc for what the
    /// receiver holds before the first answer. Errors: there is no tokio runtime, or `resolvers`
    /// is not set and the system's DNS configuration (`/etc/resolv.conf`) cannot be read.
    pub fn start(self) -> Result<(watch::Receiver<Arc<EndpointSet>>, SourceHandle), DnsStartError> {
        let runtime = tokio::runtime::Handle::try_current()?;
        let resolver = lookup::resolver(&self.config, self.options.timeout, self.options.attempts)?;
        let (tx, rx) = watch::channel(Arc::new(EndpointSet::default()));
        let stats = Arc::new(SourceStats::default());
        let attempts = u32::try_from(self.options.attempts).unwrap_or(u32::MAX);
        let follower = Follower {
            deadline: self.options.timeout.saturating_mul(attempts.saturating_add(2)),
            config: self.config,
            resolver,
            tx,
            stats: Arc::clone(&stats),
            published: 0,
            failing: None,
            rng: SmallRng::from_os_rng(),
        };
        Ok((rx, SourceHandle::new(runtime.spawn(follower.run()), stats)))
    }
}

/// The background half of a [`DnsSource`].
struct Follower {
    config: DnsDiscovery,
    resolver: TokioResolver,
    /// The longest one resolution may take.
    deadline: Duration,
    tx: watch::Sender<Arc<EndpointSet>>,
    stats: Arc<SourceStats>,
    /// Sets published so far: the next one's `version`.
    published: u64,
    /// The error now in effect, so each distinct one is logged and counted once.
    failing: Option<String>,
    rng: SmallRng,
}

impl Follower {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            let hostname = self.config.hostname.as_str();
            let lookup = lookup::resolve(&self.resolver, hostname, self.config.lookup_family);
            let result = tokio::select! {
                () = self.tx.closed() => break,
                result = tokio::time::timeout(self.deadline, lookup) => result,
            };
            let pause = match result {
                Ok(Ok(answer)) => {
                    failures = 0;
                    self.stats.contacted();
                    let pause = next_refresh(
                        self.config.respect_dns_ttl,
                        self.config.refresh_rate,
                        answer.min_ttl,
                    );
                    self.accept(answer);
                    pause
                }
                Ok(Err(e)) => self.fail(e.to_string(), &mut failures),
                Err(_) => {
                    let text = format!(
                        "cannot resolve {hostname}: timed out (no answer within {:?})",
                        self.deadline
                    );
                    self.fail(text, &mut failures)
                }
            };
            tokio::select! {
                () = self.tx.closed() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        debug!(hostname = %self.config.hostname, "no receivers left; stopped resolving");
    }

    fn fail(&mut self, text: String, failures: &mut u32) -> Duration {
        self.reject(text);
        let pause = backoff(self.config.failure_refresh_rate, *failures, &mut self.rng);
        *failures = failures.saturating_add(1);
        pause
    }

    fn accept(&mut self, answer: Answer) {
        if self.failing.take().is_some() {
            info!(hostname = %self.config.hostname, "DNS answers again");
        }
        let endpoints = endpoints(&answer, self.config.port);
        let version = Some((self.published + 1).to_string());
        let mut first = false;
        let changed = self.tx.send_if_modified(|current| {
            // The first answer is news even when empty: it says discovery has spoken.
            let changed = current.version.is_none() || current.endpoints != endpoints;
            if changed {
                first = current.version.is_none();
                *current = Arc::new(EndpointSet { version, endpoints });
            }
            changed
        });
        if !changed {
            return;
        }
        self.published += 1;
        // As for the other sources, `updates` counts the sets after the first.
        if first {
            self.stats.loaded();
        } else {
            self.stats.updated();
        }
        debug!(hostname = %self.config.hostname, addresses = ?answer.addresses, "published a new endpoint set");
    }

    fn reject(&mut self, text: String) {
        if self.failing.as_deref() == Some(text.as_str()) {
            return;
        }
        warn!(hostname = %self.config.hostname, "keeping the last good endpoints: {text}");
        self.stats.rejected_with(&text);
        self.failing = Some(text);
    }
}

/// The pause after `failures` failures in a row (0 for the first): uniform in `[c/2, c]` with
/// `c = min(max_interval, base_interval·2ⁿ)`.
fn backoff(bounds: DnsBackoff, failures: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = bounds
        .base_interval
        .saturating_mul(2u32.saturating_pow(failures.min(20)))
        .min(bounds.max_interval);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(millis / 2..=millis))
}

/// The answer's addresses as endpoints on `port`, in the answer's (sorted) order.
fn endpoints(answer: &Answer, port: u16) -> Vec<Endpoint> {
    answer
        .addresses
        .iter()
        .map(|&ip| Endpoint {
            address: SocketAddr::new(ip, port),
            weight: NonZeroU32::MIN,
            priority: 0,
            zone: None,
            metadata: Default::default(),
        })
        .collect()
}
