//! Stats intervals: every `stats_flush_interval` (Envoy's, default 5 s) a background task
//! snapshots every histogram and keeps what was recorded since the previous flush, which
//! `/stats` and `/stats?format=json` report as interval quantiles.
//!
//! Placement: off the request path, which only ever adds to the cumulative histograms.
//! The task holds the stats weakly and ends once the proxy that owns them is gone. A stats
//! interval's quantiles are `nan`/`null` until the first interval closes.

use super::store::Store;
use std::sync::Weak;
use std::time::Duration;

pub(crate) fn spawn(store: Weak<Store>, interval: Duration) {
    tokio::spawn(async move {
        // Validation keeps it at 1ms or more; an embedder's zero must not panic `interval`.
        let mut tick = tokio::time::interval(interval.max(Duration::from_millis(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate: the first interval starts now.
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(store) = store.upgrade() else { return };
            for timer in store.timers() {
                timer.flush();
            }
        }
    });
}
