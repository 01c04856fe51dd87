//! `retry_on`: which outcomes of an attempt are retried, as Envoy's comma list
//! (`"5xx,reset,connect-failure"`) parsed once into a small bitset.
//!
//! The retry layer asks [`RetryOn::contains`] per condition; what each condition covers
//! is documented on [`Condition`], with Envoy's semantics.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// One retry condition of Envoy's `retry_on` (HTTP and gRPC conditions together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `5xx`: any 5xx response, and every attempt that got no response at all (reset,
    /// disconnect, connect failure, refused stream, per-try timeout).
    FiveXx,
    /// `gateway-error`: 502, 503 and 504, and, as `5xx`, every attempt without a response.
    GatewayError,
    /// `reset`: every attempt without a response, as `5xx` counts them, but no status.
    /// Envoy retries every reset under `5xx`, `gateway-error` and `reset`, connect
    /// failures and refused streams included.
    Reset,
    /// `connect-failure`: no connection could be made (refused, connect timeout, TLS failure).
    ConnectFailure,
    /// `retriable-4xx`: 409 Conflict, the only 4xx Envoy retries.
    Retriable4xx,
    /// `refused-stream`: HTTP/2 `REFUSED_STREAM`, a promise that the request was not processed.
    RefusedStream,
    /// `retriable-status-codes`: the statuses listed in `retriable_status_codes`.
    RetriableStatusCodes,
    /// `cancelled`: gRPC status 1 in the response headers.
    Cancelled,
    /// `deadline-exceeded`: gRPC status 4.
    DeadlineExceeded,
    /// `internal`: gRPC status 13.
    Internal,
    /// `resource-exhausted`: gRPC status 8.
    ResourceExhausted,
    /// `unavailable`: gRPC status 14.
    Unavailable,
}

impl Condition {
    /// Every condition, in the order [`RetryOn`] displays them.
    pub const ALL: [Condition; 12] = [
        Condition::FiveXx,
        Condition::GatewayError,
        Condition::Reset,
        Condition::ConnectFailure,
        Condition::Retriable4xx,
        Condition::RefusedStream,
        Condition::RetriableStatusCodes,
        Condition::Cancelled,
        Condition::DeadlineExceeded,
        Condition::Internal,
        Condition::ResourceExhausted,
        Condition::Unavailable,
    ];

    /// Envoy's name for the condition, as written in `retry_on`.
    pub const fn name(self) -> &'static str {
        match self {
            Condition::FiveXx => "5xx",
            Condition::GatewayError => "gateway-error",
            Condition::Reset => "reset",
            Condition::ConnectFailure => "connect-failure",
            Condition::Retriable4xx => "retriable-4xx",
            Condition::RefusedStream => "refused-stream",
            Condition::RetriableStatusCodes => "retriable-status-codes",
            Condition::Cancelled => "cancelled",
            Condition::DeadlineExceeded => "deadline-exceeded",
            Condition::Internal => "internal",
            Condition::ResourceExhausted => "resource-exhausted",
            Condition::Unavailable => "unavailable",
        }
    }

    /// The condition Envoy spells `name` (exactly, lower case), if any.
    pub fn from_name(name: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The gRPC status code a gRPC condition matches; `None` for HTTP conditions.
    pub const fn grpc_status(self) -> Option<u8> {
        match self {
            Condition::Cancelled => Some(1),
            Condition::DeadlineExceeded => Some(4),
            Condition::ResourceExhausted => Some(8),
            Condition::Internal => Some(13),
            Condition::Unavailable => Some(14),
            _ => None,
        }
    }

    /// The gRPC condition that matches status `code`, if any.
    pub fn from_grpc_status(code: u8) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.grpc_status() == Some(code))
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Condition`]s: Envoy's `retry_on`, validated.
///
/// Parsing accepts Envoy's comma list with blanks around names; an unknown name is an
/// error naming it and listing the known ones (Envoy ignores unknown names, which turns
/// a typo into "never retry"). `Display` writes the canonical list back, so
/// `RetryOn::parse(&r.to_string()) == Ok(r)`.
///
/// ```
/// use mesh_core::policy::{Condition, RetryOn};
///
/// let on = RetryOn::parse("5xx, connect-failure,unavailable")?;
/// assert!(on.contains(Condition::ConnectFailure) && !on.contains(Condition::Reset));
/// assert_eq!(on.to_string(), "5xx,connect-failure,unavailable");
/// assert!(RetryOn::parse("5xxx").unwrap_err().contains("\"5xxx\""));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RetryOn(u16);

impl RetryOn {
    /// No condition: nothing is retried.
    pub const NONE: RetryOn = RetryOn(0);

    /// Parses Envoy's comma list. Empty entries (`"5xx,,reset"`, `""`) are skipped.
    pub fn parse(list: &str) -> Result<RetryOn, String> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .try_fold(RetryOn::NONE, |set, name| match Condition::from_name(name) {
                Some(c) => Ok(set.with(c)),
                None => Err(format!(
                    "{name:?} is not a retry_on condition (known: {})",
                    RetryOn::known_names()
                )),
            })
    }

    /// Every known name, comma-separated, for error messages.
    pub fn known_names() -> String {
        Condition::ALL.map(Condition::name).join(", ")
    }

    pub const fn contains(self, c: Condition) -> bool {
        self.0 & c.bit() != 0
    }

    /// `self` with `c` added.
    #[must_use]
    pub const fn with(self, c: Condition) -> RetryOn {
        RetryOn(self.0 | c.bit())
    }

    #[must_use]
    pub const fn union(self, other: RetryOn) -> RetryOn {
        RetryOn(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The conditions in the set, in [`Condition::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Condition> {
        Condition::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl From<Condition> for RetryOn {
    fn from(c: Condition) -> Self {
        RetryOn::NONE.with(c)
    }
}

impl FromIterator<Condition> for RetryOn {
    fn from_iter<I: IntoIterator<Item = Condition>>(iter: I) -> Self {
        iter.into_iter().fold(RetryOn::NONE, RetryOn::with)
    }
}

impl FromStr for RetryOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RetryOn::parse(s)
    }
}

impl fmt::Display for RetryOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(c.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for RetryOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RetryOn({self})")
    }
}

/// Dumped as the comma list it was written as (`/config_dump`).
impl Serialize for RetryOn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests;
