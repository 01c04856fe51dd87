//! Keeps one host registered: Lyft's once-a-minute check-in, as a background task.
//!
//! Policy: registers at once, then again every `interval` (the registry's TTL is three
//! intervals by default, so two beats may be lost before the host expires). A failed beat is
//! retried sooner, with jittered backoff from 1s up to the interval, so a registry restart is
//! noticed within seconds rather than a minute later.
//!
//! Failure: beats that fail are logged at `warn` (the first of a run) and counted; the task
//! never gives up. [`HeartbeatHandle::shutdown`] stops the beats and deregisters the host, so
//! consumers drop it at once rather than a TTL later; dropping the handle only stops the beats
//! (the host then expires after the TTL), which is what a crash looks like too.

use super::call::{self, CallError, HttpClient};
use super::model::{Instance, ServiceName};
use super::wire;
use http::{Method, StatusCode};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

/// How long one registry call may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Registers `instance` under `service` at the registry `registry`, every `interval`.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    registry: SocketAddr,
    service: ServiceName,
    instance: Instance,
    interval: Duration,
}

/// Why the heartbeat could not start or deregister.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    #[error("cannot start the heartbeat: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
    #[error("cannot deregister: {0}")]
    Deregister(#[from] CallError),
}

impl Heartbeat {
    /// A zero `interval` is raised to 1ms.
    pub fn new(registry: SocketAddr, service: ServiceName, instance: Instance, interval: Duration) -> Self {
        Heartbeat {
            registry,
            service,
            instance,
            interval: interval.max(Duration::from_millis(1)),
        }
    }

    /// Starts beating from a task on the current runtime. Errors: there is no tokio runtime.
    pub fn start(self) -> Result<HeartbeatHandle, HeartbeatError> {
        let runtime = tokio::runtime::Handle::try_current()?;
        let url = format!(
            "http://{}/v1/services/{}/instances/{}",
            self.registry,
            self.service,
            wire::address_segment(self.instance.address)
        );
        let i = &self.instance;
        let body = json!({
            "id": i.id, "zone": i.zone, "tags": i.tags, "weight": i.weight, "health_check": i.health_check,
        });
        let client = call::client();
        let stats = Arc::new(HeartbeatStats::default());
        let beater = Beater {
            url: url.clone(),
            body: body.to_string().into_bytes(),
            interval: self.interval,
            client: client.clone(),
            stats: Arc::clone(&stats),
            rng: SmallRng::from_os_rng(),
        };
        Ok(HeartbeatHandle {
            task: runtime.spawn(beater.run()),
            url,
            client,
            stats,
        })
    }
}

/// Counters of a running heartbeat.
#[derive(Debug, Default)]
pub struct HeartbeatStats {
    beats: AtomicU64,
    failures: AtomicU64,
}

impl HeartbeatStats {
    /// Registrations the registry accepted (the first included).
    pub fn beats(&self) -> u64 {
        self.beats.load(Ordering::Relaxed)
    }

    /// Registrations that failed (each attempt).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// A running heartbeat: [`shutdown`](Self::shutdown) to leave gracefully; drop to just stop.
#[derive(Debug)]
pub struct HeartbeatHandle {
    task: JoinHandle<()>,
    url: String,
    client: HttpClient,
    stats: Arc<HeartbeatStats>,
}

impl HeartbeatHandle {
    pub fn stats(&self) -> Arc<HeartbeatStats> {
        Arc::clone(&self.stats)
    }

    /// Stops the beats, then deregisters the host. A host the registry no longer knows (it
    /// expired, or the registry restarted) is already gone, so a 404 is success too.
    pub async fn shutdown(self) -> Result<(), HeartbeatError> {
        self.task.abort();
        match call::call(&self.client, Method::DELETE, &self.url, None, CALL_TIMEOUT).await {
            Ok(_) => {}
            Err(CallError::Status { status, .. }) if status == StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e.into()),
        }
        info!(url = %self.url, "deregistered");
        Ok(())
    }
}

impl Drop for HeartbeatHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The background half of a [`Heartbeat`].
struct Beater {
    url: String,
    body: Vec<u8>,
    interval: Duration,
    client: HttpClient,
    stats: Arc<HeartbeatStats>,
    rng: SmallRng,
}

impl Beater {
    async fn run(mut self) {
        let mut failing = 0u32;
        loop {
            let beat = call::call(
                &self.client,
                Method::PUT,
                &self.url,
                Some(self.body.clone()),
                CALL_TIMEOUT,
            );
            let pause = match beat.await {
                Ok(_) => {
                    if failing > 0 {
                        info!(url = %self.url, "registered again after {failing} failed beats");
                    }
                    debug!(url = %self.url, "heartbeat");
                    failing = 0;
                    self.stats.beats.fetch_add(1, Ordering::Relaxed);
                    self.interval
                }
                Err(e) => {
                    if failing == 0 {
                        warn!(url = %self.url, "heartbeat failed, retrying: {e}");
                    }
                    failing = failing.saturating_add(1);
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    self.retry_after(failing)
                }
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Full jitter under `min(interval, 1s·2ⁿ⁻¹)`, never below a millisecond.
    fn retry_after(&mut self, failing: u32) -> Duration {
        let ceiling = Duration::from_secs(1)
            .saturating_mul(2u32.saturating_pow(failing.saturating_sub(1).min(20)))
            .min(self.interval);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(self.rng.random_range(1..=millis))
    }
}
