//! Graceful drain: one signal fanned out to every accept loop and connection.
//!
//! States: `Serving` → `Draining` (stop accepting; HTTP connections finish their
//! in-flight requests and close) → `Closing` (the drain timeout ran out: whatever is
//! left is dropped). Every task that must finish before the proxy exits holds a
//! [`Watch`]; [`Signal::drain`] completes when all of them are gone.

use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Serving,
    Draining,
    Closing,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Every connection finished within the drain timeout.
    Complete,
    /// The timeout ran out; remaining connections were closed.
    TimedOut,
}

/// The owner's side: starts the drain.
#[derive(Debug)]
pub(crate) struct Signal(watch::Sender<State>);

/// A task's side: held for as long as the task must be waited for.
#[derive(Debug, Clone)]
pub(crate) struct Watch(watch::Receiver<State>);

pub(crate) fn channel() -> (Signal, Watch) {
    let (tx, rx) = watch::channel(State::Serving);
    (Signal(tx), Watch(rx))
}

impl Signal {
    /// Asks everything to drain, waits up to `timeout` for every [`Watch`] to be
    /// dropped, then tells the stragglers to close and waits for them to go.
    pub(crate) async fn drain(self, timeout: Duration) -> DrainOutcome {
        tracing::debug!(?timeout, "drain: serving -> draining");
        self.0.send_replace(State::Draining);
        if tokio::time::timeout(timeout, self.0.closed()).await.is_ok() {
            return DrainOutcome::Complete;
        }
        tracing::debug!("drain: draining -> closing");
        self.0.send_replace(State::Closing);
        self.0.closed().await;
        DrainOutcome::TimedOut
    }
}

impl Watch {
    /// Resolves once draining has begun.
    pub(crate) async fn draining(&mut self) {
        let _ = self.0.wait_for(|s| *s >= State::Draining).await;
    }

    /// Resolves once the drain timeout has run out and the task must stop now.
    pub(crate) async fn closing(&mut self) {
        let _ = self.0.wait_for(|s| *s >= State::Closing).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn completes_when_every_watch_is_dropped() {
        let (signal, mut watch) = channel();
        let task = tokio::spawn(async move {
            watch.draining().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            drop(watch);
        });
        assert_eq!(signal.drain(Duration::from_secs(5)).await, DrainOutcome::Complete);
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_then_closes_stragglers() {
        let (signal, mut watch) = channel();
        let task = tokio::spawn(async move {
            watch.closing().await;
        });
        let started = tokio::time::Instant::now();
        assert_eq!(signal.drain(Duration::from_secs(5)).await, DrainOutcome::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        task.await.unwrap();
    }
}
