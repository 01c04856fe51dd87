//! The validated parameters of a [`Load`](super::Load)'s peak-EWMA estimate.

use std::time::Duration;

/// Peak-EWMA parameters: how fast the estimate forgets (`decay`) and what it assumes before the
/// first sample (`default_rtt`). Built by [`EwmaConfig::new`], which refuses a zero decay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EwmaConfig {
    decay: Duration,
    default_rtt: Duration,
}

impl EwmaConfig {
    /// Linkerd's default decay time constant.
    pub const DEFAULT_DECAY: Duration = Duration::from_secs(10);
    /// Linkerd's default latency estimate for a host with no sample yet.
    pub const DEFAULT_RTT: Duration = Duration::from_millis(30);

    /// `decay` is the time constant: after `decay` without samples the estimate has fallen to
    /// `1/e` of its value, and a sample arriving `decay` after the previous one carries weight
    /// `1 − 1/e`. `default_rtt` is the estimate before any sample.
    pub fn new(decay: Duration, default_rtt: Duration) -> Result<Self, ZeroDecay> {
        if decay.is_zero() {
            return Err(ZeroDecay);
        }
        Ok(Self { decay, default_rtt })
    }

    /// The decay time constant.
    pub fn decay(&self) -> Duration {
        self.decay
    }

    /// The estimate before any sample.
    pub fn default_rtt(&self) -> Duration {
        self.default_rtt
    }
}

impl Default for EwmaConfig {
    /// `decay` 10 s, `default_rtt` 30 ms.
    fn default() -> Self {
        Self {
            decay: Self::DEFAULT_DECAY,
            default_rtt: Self::DEFAULT_RTT,
        }
    }
}

/// A peak-EWMA `decay` of zero: the estimate would forget every sample at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("peak-EWMA decay must be greater than zero")]
pub struct ZeroDecay;
