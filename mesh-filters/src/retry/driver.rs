//! One request's attempts: send, judge, wait, send again; hedge on a per-try timeout.
//!
//! ```text
//!   start ──► in flight ──┬─ response, not retriable ─────────────► return it; drop the others
//!     ▲                   ├─ failure, retry granted ──────────────► pending (backoff)
//!     │                   ├─ failure, nothing in flight or pending ► return it
//!     │                   └─ hedging: per-try timer, retry granted ► pending; this attempt runs on
//!     └─────── backoff elapsed ◄── pending
//! ```
//! A retry is granted when retries are left, the body can be replayed, the circuit breaker
//! admits it and the budget pays for it, in that order (the admission slot is the only
//! step that can be undone).

use super::body::{Recording, ReplayBody};
use super::hosts::{AttemptHost, PreviousHosts};
use super::policy::ErrorClass;
use super::service::Settings;
use super::{ATTEMPT_COUNT, retry_after};
use crate::admission::RetryAdmission;
use crate::timeout::PerTryTimeout;
use futures_util::stream::{FuturesUnordered, StreamExt};
use http::{HeaderValue, Request, Response, request::Parts};
use mesh_core::BoxError;
use rand::{SeedableRng, rngs::SmallRng};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::{Sleep, sleep, timeout};
use tower::{Service, ServiceExt};

type Outcome<RB> = Result<Response<RB>, BoxError>;
type InFlight<RB> = Pin<Box<dyn Future<Output = (u32, Outcome<RB>)> + Send>>;

/// The circuit breaker's retry slot, released when the attempt (or its backoff) ends,
/// however it ends.
struct AdmissionSlot(Arc<dyn RetryAdmission>);

impl Drop for AdmissionSlot {
    fn drop(&mut self) {
        self.0.end_retry();
    }
}

/// A granted retry waiting out its backoff.
struct Pending {
    timer: Pin<Box<Sleep>>,
    slot: AdmissionSlot,
}

/// The loop's state apart from what is in flight.
struct Attempts<S, B, K> {
    /// The service `Retry` polled ready, for the first attempt: a clone would not hold
    /// what readiness reserved (a concurrency permit, a buffer slot).
    ready: Option<S>,
    /// Cloned for each retry.
    service: S,
    settings: Arc<Settings>,
    parts: Parts,
    recording: Recording<B>,
    hosts: Vec<AttemptHost<K>>,
    started: u32,
    retries: u32,
    rng: SmallRng,
}

pub(super) async fn run<S, B, RB, K>(
    service: S,
    settings: Arc<Settings>,
    req: Request<B>,
    seed: u64,
) -> Outcome<RB>
where
    S: Service<Request<ReplayBody<B>>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    RB: Send + 'static,
    K: Clone + PartialEq + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let recording = Recording::new(body, settings.policy.buffer_limit);
    settings.budget.deposit();
    let clones = service.clone();
    let mut attempts: Attempts<S, B, K> = Attempts {
        ready: Some(service),
        service: clones,
        settings,
        parts,
        recording,
        hosts: Vec::new(),
        started: 0,
        retries: 0,
        rng: SmallRng::seed_from_u64(seed),
    };
    let mut in_flight = FuturesUnordered::new();
    in_flight.push(attempts.start(None));
    let mut hedge_timer = attempts.hedge_timer();
    let mut pending: Option<Pending> = None;
    let mut last: Option<Outcome<RB>> = None;
    loop {
        tokio::select! {
            Some((attempt, outcome)) = in_flight.next(), if !in_flight.is_empty() => {
                let (retriable, hint) = attempts.judge(&outcome);
                if !retriable && (outcome.is_ok() || in_flight.is_empty()) {
                    if attempt > 1 && outcome.is_ok() {
                        attempts.settings.stats.record_success_after_retry();
                    }
                    return outcome;
                }
                last = Some(outcome);
                if retriable && pending.is_none() {
                    pending = attempts.grant(!in_flight.is_empty(), hint);
                }
                if pending.is_none() && in_flight.is_empty() {
                    break;
                }
            }
            () = elapsed(hedge_timer.as_mut()), if hedge_timer.is_some() => {
                hedge_timer = None;
                if pending.is_none() {
                    pending = attempts.grant(true, None);
                }
            }
            () = elapsed(pending.as_mut().map(|p| &mut p.timer)), if pending.is_some() => {
                let slot = pending.take().map(|p| p.slot);
                in_flight.push(attempts.start(slot));
                hedge_timer = attempts.hedge_timer();
            }
            else => break,
        }
    }
    last.unwrap_or_else(|| Err(NoOutcome.into()))
}

/// Waits out `timer`; without one, forever (its `select!` branch is disabled then anyway).
async fn elapsed(timer: Option<&mut Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Unreachable by construction (the loop ends only after an attempt finished); a typed
/// error instead of a panic all the same.
#[derive(Debug, thiserror::Error)]
#[error("retry layer ended with no attempt finished")]
struct NoOutcome;

impl<S, B, RB, K> Attempts<S, B, K>
where
    S: Service<Request<ReplayBody<B>>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    RB: Send + 'static,
    K: Clone + PartialEq + Send + Sync + 'static,
{
    /// Builds and sends attempt `started + 1`. Without hedging the per-try timeout bounds
    /// the attempt itself (readiness included); with hedging it only arms `hedge_timer`.
    fn start(&mut self, slot: Option<AdmissionSlot>) -> InFlight<RB> {
        self.started += 1;
        let attempt = self.started;
        let mut req = Request::new(self.recording.body());
        *req.method_mut() = self.parts.method.clone();
        *req.uri_mut() = self.parts.uri.clone();
        *req.version_mut() = self.parts.version;
        *req.headers_mut() = self.parts.headers.clone();
        *req.extensions_mut() = self.parts.extensions.clone();
        req.headers_mut()
            .insert(ATTEMPT_COUNT, HeaderValue::from(attempt));
        if self.settings.policy.avoid_previous_hosts {
            let mut previous = PreviousHosts::new();
            for host in self.hosts.iter().filter_map(AttemptHost::get) {
                if !previous.contains(host) {
                    previous.push(host.clone());
                }
            }
            let reporter = AttemptHost::<K>::new();
            self.hosts.push(reporter.clone());
            req.extensions_mut().insert(previous);
            req.extensions_mut().insert(reporter);
        }
        let policy = &self.settings.policy;
        let limit = policy
            .per_try_timeout
            .filter(|_| !policy.hedge_on_per_try_timeout);
        let mut service = self.ready.take().unwrap_or_else(|| self.service.clone());
        let stats = limit.map(|_| self.settings.stats.clone());
        Box::pin(async move {
            let _slot = slot;
            let call = async move {
                // Already ready for the first attempt; polling again is allowed and cheap.
                let ready = service.ready().await.map_err(Into::into)?;
                ready.call(req).await.map_err(Into::into)
            };
            let outcome = match limit {
                Some(limit) => timeout(limit, call).await.unwrap_or_else(|_| {
                    if let Some(stats) = &stats {
                        stats.record_per_try_timeout();
                    }
                    Err(PerTryTimeout { after: limit }.into())
                }),
                None => call.await,
            };
            (attempt, outcome)
        })
    }

    fn hedge_timer(&self) -> Option<Pin<Box<Sleep>>> {
        let policy = &self.settings.policy;
        policy
            .per_try_timeout
            .filter(|_| policy.hedge_on_per_try_timeout)
            .map(|t| Box::pin(sleep(t)))
    }

    /// Whether an outcome is retriable, and the wait its `Retry-After` asks for.
    fn judge(&self, outcome: &Outcome<RB>) -> (bool, Option<Duration>) {
        let policy = &self.settings.policy;
        match outcome {
            Ok(response) if policy.retries_response(response) => {
                let hint = policy.retry_after.and_then(|cap| {
                    let value = response.headers().get(http::header::RETRY_AFTER)?;
                    retry_after::parse(value, SystemTime::now()).filter(|wait| *wait <= cap)
                });
                (true, hint)
            }
            Ok(_) => (false, None),
            Err(error) => {
                // Our own timeout is judged here so a custom classifier need not know it.
                let class = if error.is::<PerTryTimeout>() {
                    ErrorClass::Timeout
                } else {
                    (policy.classify)(error)
                };
                (super::policy::retries_error(policy.retry_on, class), None)
            }
        }
    }

    /// Grants a retry and starts its backoff, or refuses (counting why). While other
    /// attempts are in flight (`beside_others`) the body must already be fully copied,
    /// since one of them may still be streaming the original.
    fn grant(&mut self, beside_others: bool, hint: Option<Duration>) -> Option<Pending> {
        let settings = self.settings.clone();
        if self.retries >= settings.policy.num_retries {
            return None;
        }
        if !self.recording.can_replay(beside_others) {
            return None;
        }
        if !settings.admission.try_begin_retry() {
            settings.stats.record_overflow();
            return None;
        }
        let slot = AdmissionSlot(settings.admission.clone());
        if !settings.budget.try_withdraw() {
            // Dropping `slot` gives the breaker its room back; a budget deposit cannot be.
            settings.stats.record_budget_exhausted();
            return None;
        }
        self.retries += 1;
        settings.stats.record_retry();
        let wait = hint.unwrap_or_else(|| settings.policy.backoff.delay(self.retries, &mut self.rng));
        Some(Pending {
            timer: Box::pin(sleep(wait)),
            slot,
        })
    }
}
