//! Why a format string was refused.

use std::fmt;

/// A format string could not be compiled; `position` is the byte offset of the offending `%`
/// (or of the text that is wrong) in the format string, so a config error can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}at byte {position}: {reason}", key_prefix(.key))]
pub struct FormatError {
    /// The JSON key whose value was refused; `None` for a text format.
    pub key: Option<String>,
    pub position: usize,
    pub reason: Reason,
}

fn key_prefix(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!("json key {k:?}: "))
        .unwrap_or_default()
}

/// The condition that made a format string invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A `%` opens a command that never closes with a `%`.
    Unterminated,
    /// A `%NAME%` that is not a known operator.
    UnknownOperator(String),
    /// The operator needs an argument in parentheses (`%REQ(USER-AGENT)%`).
    MissingArgument(&'static str),
    /// The operator takes no argument.
    UnexpectedArgument(&'static str),
    /// The argument is not a header name, or not one of the supported pseudo-headers.
    BadHeader(String),
    /// `%REQ(A?B?C)%`: only one alternative is allowed, as in Envoy.
    TooManyAlternatives,
    /// The text after `:` is not a length.
    BadMaxLength(String),
    /// `%START_TIME(...)%` with a strftime-like pattern.
    StartTimePattern(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unterminated => write!(f, "command operator not closed by '%'"),
            Reason::UnknownOperator(name) => write!(f, "unknown command operator %{name}%"),
            Reason::MissingArgument(op) => write!(f, "%{op}(...)% needs an argument"),
            Reason::UnexpectedArgument(op) => write!(f, "%{op}% takes no argument"),
            Reason::BadHeader(name) => write!(f, "{name:?} is not a supported header name"),
            Reason::TooManyAlternatives => write!(f, "at most one '?' alternative header is allowed"),
            Reason::BadMaxLength(text) => write!(f, "max length {text:?} is not a positive integer"),
            Reason::StartTimePattern(pattern) => write!(
                f,
                "%START_TIME({pattern})% is not supported: START_TIME renders RFC 3339 UTC with milliseconds"
            ),
        }
    }
}
