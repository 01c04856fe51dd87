//! A cluster's endpoints from the registry: [`RegistrySource`], the consumer side of the API.
//!
//! Policy: one long poll at a time, `GET /v1/services/{service}?wait_version=V&wait=30s`, with
//! `V` the version of the last good answer; the first request asks without waiting. A reply is
//! published only when its set (endpoints and registry version) differs from the one published.
//!
//! Start: [`RegistrySource::start`] does not wait for the registry. Until the first good answer
//! the receiver holds an empty set with `version: None`; a consumer that must not serve before
//! discovery answers waits for `version.is_some()`. Refusing to start because the registry is
//! briefly down would couple every proxy's start to the registry's, which is worse: static
//! routes and other clusters work without it.
//!
//! States:
//!
//! ```text
//!   Polling ── good reply ──▶ Polling (publish if changed, stats.contacted)
//!   Polling ── error ───────▶ Backoff(n) ── sleep full-jitter(base·2ⁿ, max) ──▶ Polling
//! ```
//!
//! Failure: **errors never empty a cluster.** An unreachable registry, a non-2xx status, a
//! timeout, or a reply that is not valid JSON or not a valid set (weight 0, a repeated address)
//! keeps the last good set published; the error is logged at `warn` and counted in
//! [`SourceStats::rejected`] once per distinct error, and retried with jittered exponential
//! backoff (100 ms doubling to 10 s by default). [`SourceStats::staleness`] says how long the
//! set has gone unconfirmed. Only a good reply listing no instances empties a cluster.
//! Dropping the [`SourceHandle`] or every receiver stops the task.

use super::call::{self, CallError, HttpClient};
use super::model::ServiceName;
use super::wire::{self, ServiceReply};
use crate::{SourceHandle, SourceStats};
use http::Method;
use mesh_core::policy::EndpointSet;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// How a [`RegistrySource`] polls. The defaults suit a registry on the same network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySourceOptions {
    /// How long each long poll may wait on the server (capped there at 5 min). Default 30s.
    pub wait: Duration,
    /// Added to `wait` for the request deadline, for the network and a busy server. Default 5s.
    pub timeout_margin: Duration,
    /// The first retry's backoff ceiling after an error. Default 100ms.
    pub backoff_base: Duration,
    /// The highest backoff ceiling. Default 10s.
    pub backoff_max: Duration,
}

impl Default for RegistrySourceOptions {
    fn default() -> Self {
        RegistrySourceOptions {
            wait: Duration::from_secs(30),
            timeout_margin: Duration::from_secs(5),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// Why a source could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the registry source: {0}")]
pub struct StartError(#[from] tokio::runtime::TryCurrentError);

/// The endpoints of one service, followed in the registry at `registry` (host:port of its API).
#[derive(Debug, Clone)]
pub struct RegistrySource {
    registry: SocketAddr,
    service: ServiceName,
    options: RegistrySourceOptions,
}

impl RegistrySource {
    pub fn new(registry: SocketAddr, service: ServiceName, options: RegistrySourceOptions) -> Self {
        RegistrySource {
            registry,
            service,
            options,
        }
    }

    /// Follows the service from a task on the current runtime; see the module doc for what the
    /// receiver holds before the first answer. Errors: there is no tokio runtime.
    pub fn start(self) -> Result<(watch::Receiver<Arc<EndpointSet>>, SourceHandle), StartError> {
        let runtime = tokio::runtime::Handle::try_current()?;
        let (tx, rx) = watch::channel(Arc::new(EndpointSet::default()));
        let stats = Arc::new(SourceStats::default());
        let poller = Poller {
            url: format!("http://{}/v1/services/{}", self.registry, self.service),
            service: self.service,
            options: self.options,
            client: call::client(),
            tx,
            stats: Arc::clone(&stats),
            failing: None,
            rng: SmallRng::from_os_rng(),
        };
        Ok((rx, SourceHandle::new(runtime.spawn(poller.run()), stats)))
    }
}

/// The background half of a [`RegistrySource`].
struct Poller {
    url: String,
    service: ServiceName,
    options: RegistrySourceOptions,
    client: HttpClient,
    tx: watch::Sender<Arc<EndpointSet>>,
    stats: Arc<SourceStats>,
    /// The error now in effect, so each distinct one is logged and counted once.
    failing: Option<String>,
    rng: SmallRng,
}

impl Poller {
    async fn run(mut self) {
        let mut known: Option<u64> = None;
        let mut failures: u32 = 0;
        loop {
            let (url, timeout) = match known {
                Some(v) => {
                    let wait = self.options.wait;
                    let url = format!("{}?wait_version={v}&wait={}ms", self.url, wait.as_millis());
                    (url, wait + self.options.timeout_margin)
                }
                None => (self.url.clone(), self.options.timeout_margin),
            };
            let result = tokio::select! {
                () = self.tx.closed() => break,
                result = fetch(&self.client, &url, timeout) => result,
            };
            match result {
                Ok(reply) => {
                    failures = 0;
                    known = Some(reply.version);
                    self.stats.contacted();
                    match wire::endpoint_set(reply) {
                        Ok(set) => self.accept(set),
                        Err(e) => self.reject(format!("the registry's reply is not a valid set: {e}")),
                    }
                }
                Err(e) => {
                    self.reject(e.to_string());
                    let pause = self.backoff(failures);
                    failures = failures.saturating_add(1);
                    tokio::select! {
                        () = self.tx.closed() => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        debug!(service = %self.service, "no receivers left; stopped following the registry");
    }

    /// Full jitter: uniform in `[0, min(max, base·2ⁿ)]`, so that proxies cut off together do
    /// not come back together.
    fn backoff(&mut self, failures: u32) -> Duration {
        let ceiling = self
            .options
            .backoff_base
            .saturating_mul(2u32.saturating_pow(failures.min(20)))
            .min(self.options.backoff_max);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(self.rng.random_range(0..=millis))
    }

    fn accept(&mut self, set: EndpointSet) {
        if self.failing.take().is_some() {
            info!(service = %self.service, "the registry answers again");
        }
        let (version, endpoints) = (set.version.clone(), set.endpoints.len());
        let mut first = false;
        let changed = self.tx.send_if_modified(|current| {
            let changed = **current != set;
            if changed {
                first = current.version.is_none();
                *current = Arc::new(set);
            }
            changed
        });
        // As for a file, `updates` counts the sets after the first.
        if first {
            self.stats.loaded();
        } else if changed {
            self.stats.updated();
        }
        if changed {
            debug!(service = %self.service, ?version, endpoints, "published a new endpoint set");
        }
    }

    fn reject(&mut self, text: String) {
        if self.failing.as_deref() == Some(text.as_str()) {
            return;
        }
        warn!(service = %self.service, "keeping the last good endpoints: {text}");
        self.stats.rejected_with(&text);
        self.failing = Some(text);
    }
}

async fn fetch(client: &HttpClient, url: &str, timeout: Duration) -> Result<ServiceReply, CallError> {
    let (_, body) = call::call(client, Method::GET, url, None, timeout).await?;
    serde_json::from_slice(&body).map_err(|e| CallError::Invalid(e.to_string()))
}
