//! Follows the global version in Redis, so that long polls on this replica wake for changes
//! made through any replica.
//!
//! Two paths, because neither is enough alone: every change script publishes the new version
//! on the `changes` channel, which this task subscribes to (prompt, but pub/sub delivers at most
//! once and drops whatever is published while the subscriber is disconnected); and the counter
//! is read every `poll_interval` and once after every (re)subscription (slow, but it cannot
//! miss a change for long). A pub/sub connection that ends is reopened with backoff from 100 ms
//! up to `poll_interval`, polling meanwhile.
//!
//! The watch takes whatever value it is told last, even a lower one: after a Redis restart the
//! counter starts again from 0, and readers compare for "not N", never "above N". A poll reply
//! overtaken by a newer message can set an older value for a moment; that only wakes readers once
//! for nothing (they re-read, find their version unchanged, and wait again).
//!
//! States: `subscribing` → `following` (messages + polls) → on end or error `backing off` →
//! `subscribing`. The task runs until the store is dropped (it is aborted then).

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval, sleep, timeout};
use tracing::debug;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub(super) struct Follower {
    pub client: redis::Client,
    pub conn: ConnectionManager,
    pub version_key: String,
    pub channel: String,
    pub poll_interval: Duration,
    pub timeout: Duration,
    pub versions: watch::Sender<u64>,
}

impl Follower {
    pub async fn run(self) {
        let mut ticks = interval(self.poll_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut backoff = FIRST_BACKOFF;
        loop {
            debug!(channel = %self.channel, "subscribing");
            let subscribed = timeout(self.timeout, self.subscribe()).await;
            // Whatever happened while unsubscribed is only in the counter.
            self.poll().await;
            let mut pubsub = match subscribed {
                Ok(Ok(pubsub)) => pubsub,
                Ok(Err(e)) => {
                    debug!(?backoff, "backing off: subscribe failed: {e}");
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(self.poll_interval);
                    continue;
                }
                Err(_) => {
                    debug!(?backoff, "backing off: subscribe timed out");
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(self.poll_interval);
                    continue;
                }
            };
            debug!("following");
            backoff = FIRST_BACKOFF;
            let mut messages = pubsub.on_message();
            loop {
                tokio::select! {
                    message = messages.next() => match message {
                        Some(message) => match message.get_payload::<u64>() {
                            Ok(version) => self.publish(version),
                            Err(e) => debug!("ignoring a change message that is not a version: {e}"),
                        },
                        None => break,
                    },
                    _ = ticks.tick() => self.poll().await,
                }
            }
            debug!("subscription ended");
        }
    }

    async fn subscribe(&self) -> redis::RedisResult<redis::aio::PubSub> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(&self.channel).await?;
        Ok(pubsub)
    }

    /// Reads the counter; an unreachable Redis leaves the watch as it is.
    async fn poll(&self) {
        let mut conn = self.conn.clone();
        let mut get = redis::cmd("GET");
        get.arg(&self.version_key);
        match timeout(self.timeout, get.query_async::<Option<u64>>(&mut conn)).await {
            Ok(Ok(version)) => self.publish(version.unwrap_or(0)),
            Ok(Err(e)) => debug!("version poll failed: {e}"),
            Err(_) => debug!("version poll timed out"),
        }
    }

    fn publish(&self, version: u64) {
        publish(&self.versions, version);
    }
}

/// Sets the watch to `version`, waking its readers only if that is news.
pub(super) fn publish(versions: &watch::Sender<u64>, version: u64) {
    versions.send_if_modified(|current| {
        let news = *current != version;
        *current = version;
        news
    });
}
