//! Validated token buckets (Envoy's `type.v3.TokenBucket`) for local rate limits:
//! `local_rate_limit` on routes, virtual hosts and http listeners, and
//! `connection_rate_limit` on listeners.
//!
//! Envoy's semantics: the bucket starts full with `max_tokens`; every `fill_interval`
//! it gains `tokens_per_fill`, never above `max_tokens`; each request (or connection)
//! takes one token, and one that finds the bucket empty is refused.

use super::errors::{Issues, Path};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::num::NonZeroU32;
use std::time::Duration;

/// A token bucket. Fields are private so every bucket went through [`TokenBucket::new`]
/// (or the config loader's equivalent checks).
///
/// ```
/// use mesh_core::policy::TokenBucket;
/// use std::time::Duration;
///
/// let b = TokenBucket::new(100, 10, Duration::from_secs(1))?;
/// assert_eq!((b.max_tokens(), b.tokens_per_fill()), (100, 10));
/// assert!(TokenBucket::new(100, 10, Duration::from_millis(10)).is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenBucket {
    max_tokens: NonZeroU32,
    tokens_per_fill: NonZeroU32,
    #[serde(with = "serde_str")]
    fill_interval: Duration,
}

impl TokenBucket {
    /// Envoy refuses faster refills: a timer per bucket below 50 ms costs more than it limits.
    pub const MIN_FILL_INTERVAL: Duration = Duration::from_millis(50);
    pub const DEFAULT_FILL_INTERVAL: Duration = Duration::from_secs(1);

    pub fn new(max_tokens: u32, tokens_per_fill: u32, fill_interval: Duration) -> Result<Self, String> {
        let max_tokens = NonZeroU32::new(max_tokens).ok_or("max_tokens must be at least 1")?;
        let tokens_per_fill = NonZeroU32::new(tokens_per_fill).ok_or("tokens_per_fill must be at least 1")?;
        if fill_interval < Self::MIN_FILL_INTERVAL {
            return Err(fill_interval_error(fill_interval));
        }
        Ok(TokenBucket {
            max_tokens,
            tokens_per_fill,
            fill_interval,
        })
    }

    /// The bucket's size, and what it holds at start.
    pub fn max_tokens(&self) -> u32 {
        self.max_tokens.get()
    }

    pub fn tokens_per_fill(&self) -> u32 {
        self.tokens_per_fill.get()
    }

    pub fn fill_interval(&self) -> Duration {
        self.fill_interval
    }
}

fn fill_interval_error(d: Duration) -> String {
    format!("{} is shorter than the 50ms minimum", crate::duration::format(d))
}

pub(crate) fn token_bucket(
    raw: &config::TokenBucket,
    path: &Path,
    issues: &mut Issues,
) -> Option<TokenBucket> {
    let before = issues.0.len();
    let max_tokens = issues
        .required(&raw.max_tokens, &path.key("max_tokens"))
        .copied()
        .and_then(|n| {
            let n = NonZeroU32::new(n);
            if n.is_none() {
                issues.push(&path.key("max_tokens"), "must be at least 1");
            }
            n
        });
    let tokens_per_fill = NonZeroU32::new(raw.tokens_per_fill.unwrap_or(1));
    if tokens_per_fill.is_none() {
        issues.push(&path.key("tokens_per_fill"), "must be at least 1");
    }
    let fill_path = path.key("fill_interval");
    let fill_interval = issues.duration(&raw.fill_interval, &fill_path, TokenBucket::DEFAULT_FILL_INTERVAL);
    if fill_interval < TokenBucket::MIN_FILL_INTERVAL {
        issues.push(&fill_path, fill_interval_error(fill_interval));
    }
    (issues.0.len() == before).then_some(())?;
    Some(TokenBucket {
        max_tokens: max_tokens?,
        tokens_per_fill: tokens_per_fill?,
        fill_interval,
    })
}

/// A listener's `max_connections`: at least 1 (0 would refuse every connection).
pub(crate) fn max_connections(raw: Option<u32>, path: &Path, issues: &mut Issues) -> Option<NonZeroU32> {
    let n = raw?;
    let nz = NonZeroU32::new(n);
    if nz.is_none() {
        issues.push(path, "must be at least 1");
    }
    nz
}
