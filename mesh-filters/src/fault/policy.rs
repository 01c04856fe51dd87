//! The validated fault policy: Envoy's `HTTPFault` (`delay`, `abort`, `max_active_faults`).

use http::StatusCode;
use std::time::Duration;

/// A fault policy that cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidFault {
    #[error("percentage must be within 0..=100, got {0}")]
    PercentOutOfRange(f64),
    #[error("percentage must be within 0..=1000000 per million, got {0}")]
    PerMillionOutOfRange(u32),
    #[error("abort.http_status must be within 200..600, got {0}")]
    AbortStatusOutOfRange(u16),
    #[error("delay.fixed_delay must be greater than zero")]
    ZeroDelay,
}

/// The share of requests a fault applies to, kept as parts per million (Envoy's finest
/// `FractionalPercent` denominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultPercentage(u32);

impl FaultPercentage {
    pub const MILLION: u32 = 1_000_000;
    /// Never.
    pub const ZERO: Self = Self(0);
    /// Always.
    pub const HUNDRED: Self = Self(Self::MILLION);

    /// `per_million` requests in a million; at most 1 000 000.
    pub fn per_million(per_million: u32) -> Result<Self, InvalidFault> {
        if per_million > Self::MILLION {
            return Err(InvalidFault::PerMillionOutOfRange(per_million));
        }
        Ok(Self(per_million))
    }

    /// `percent` in 0..=100, rounded to the nearest part per million.
    pub fn from_percent(percent: f64) -> Result<Self, InvalidFault> {
        if !(0.0..=100.0).contains(&percent) {
            // NaN lands here too: `contains` is false for it.
            return Err(InvalidFault::PercentOutOfRange(percent));
        }
        // In range by the check above, so the cast neither truncates nor wraps.
        Ok(Self((percent * 10_000.0).round() as u32))
    }

    /// Parts per million.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Where a delay's length comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelaySource {
    /// Envoy's `fixed_delay`.
    Fixed(Duration),
    /// Envoy's `header_delay`: milliseconds from `x-mesh-fault-delay-request`.
    Header,
}

/// Envoy's `delay`: hold a share of requests before forwarding them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayFault {
    source: DelaySource,
    percentage: FaultPercentage,
}

impl DelayFault {
    /// Delay `percentage` of requests by `delay`, which must not be zero.
    pub fn fixed(delay: Duration, percentage: FaultPercentage) -> Result<Self, InvalidFault> {
        if delay.is_zero() {
            return Err(InvalidFault::ZeroDelay);
        }
        Ok(Self {
            source: DelaySource::Fixed(delay),
            percentage,
        })
    }

    /// Delay `percentage` of the requests that ask for it with `x-mesh-fault-delay-request`.
    pub fn header(percentage: FaultPercentage) -> Self {
        Self {
            source: DelaySource::Header,
            percentage,
        }
    }

    pub fn source(&self) -> DelaySource {
        self.source
    }

    pub fn percentage(&self) -> FaultPercentage {
        self.percentage
    }
}

/// What an abort answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbortSource {
    /// Envoy's `http_status`, within 200..600.
    Http(StatusCode),
    /// Envoy's `grpc_status`.
    Grpc(u32),
    /// Envoy's `header_abort`: the status from `x-mesh-fault-abort-request` or
    /// `x-mesh-fault-abort-grpc-request`.
    Header,
}

/// Envoy's `abort`: answer a share of requests locally with an error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortFault {
    source: AbortSource,
    percentage: FaultPercentage,
}

impl AbortFault {
    /// Abort `percentage` of requests with HTTP `status`, which must be within 200..600.
    pub fn http(status: u16, percentage: FaultPercentage) -> Result<Self, InvalidFault> {
        let status = abort_status(status).ok_or(InvalidFault::AbortStatusOutOfRange(status))?;
        Ok(Self {
            source: AbortSource::Http(status),
            percentage,
        })
    }

    /// Abort `percentage` of requests with gRPC status `code`.
    pub fn grpc(code: u32, percentage: FaultPercentage) -> Self {
        Self {
            source: AbortSource::Grpc(code),
            percentage,
        }
    }

    /// Abort `percentage` of the requests that ask for it by header.
    pub fn header(percentage: FaultPercentage) -> Self {
        Self {
            source: AbortSource::Header,
            percentage,
        }
    }

    pub fn source(&self) -> AbortSource {
        self.source
    }

    pub fn percentage(&self) -> FaultPercentage {
        self.percentage
    }
}

/// An HTTP status a fault may abort with: Envoy allows 200..600 (no 1xx: they are not final).
pub(crate) fn abort_status(code: u16) -> Option<StatusCode> {
    (200..600)
        .contains(&code)
        .then(|| StatusCode::from_u16(code).ok())
        .flatten()
}

/// Envoy's `HTTPFault`; see the [module docs](super). The default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPolicy {
    delay: Option<DelayFault>,
    abort: Option<AbortFault>,
    max_active_faults: Option<u32>,
}

impl FaultPolicy {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_delay(mut self, delay: DelayFault) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn with_abort(mut self, abort: AbortFault) -> Self {
        self.abort = Some(abort);
        self
    }

    /// At most `max` requests under a fault at once; unlimited by default. `0` disables
    /// every fault (Envoy's behaviour too).
    pub fn with_max_active_faults(mut self, max: u32) -> Self {
        self.max_active_faults = Some(max);
        self
    }

    pub fn delay(&self) -> Option<&DelayFault> {
        self.delay.as_ref()
    }

    pub fn abort(&self) -> Option<&AbortFault> {
        self.abort.as_ref()
    }

    pub fn max_active_faults(&self) -> Option<u32> {
        self.max_active_faults
    }
}
