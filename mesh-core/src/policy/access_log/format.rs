//! [`LogFormat`]: an access log format compiled from its text (or JSON map), so a bad format is
//! a configuration error and rendering never fails.

use super::error::FormatError;
use super::parse::{self, Segment};
use serde::Serialize;
use std::collections::BTreeMap;

/// Envoy's default access log format, with mesh's upstream service-time header.
pub const ENVOY_DEFAULT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% \
%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% \
%RESP(X-MESH-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \
\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

/// A compiled access log format: text (Envoy's `text_format`) or JSON (`json_format`). It
/// serialises as the source it was compiled from (for `/config_dump`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogFormat {
    #[serde(flatten)]
    source: Source,
    #[serde(skip)]
    kind: FormatKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Source {
    Format(String),
    JsonFormat(BTreeMap<String, String>),
}

/// What a compiled format is made of: literal text and command operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatKind {
    Text(Vec<Segment>),
    /// One JSON object per line, its keys in order.
    Json(Vec<(String, Vec<Segment>)>),
}

impl LogFormat {
    /// Compiles a text format; errors name the byte position of the bad command.
    pub fn parse(text: &str) -> Result<LogFormat, FormatError> {
        let segments = parse::segments(text).map_err(|(position, reason)| FormatError {
            key: None,
            position,
            reason,
        })?;
        Ok(LogFormat {
            source: Source::Format(text.to_owned()),
            kind: FormatKind::Text(segments),
        })
    }

    /// Compiles a JSON format: each value a format string; errors name the key.
    pub fn json(fields: BTreeMap<String, String>) -> Result<LogFormat, FormatError> {
        let kind = fields
            .iter()
            .map(|(key, text)| match parse::segments(text) {
                Ok(segments) => Ok((key.clone(), segments)),
                Err((position, reason)) => Err(FormatError {
                    key: Some(key.clone()),
                    position,
                    reason,
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(LogFormat {
            source: Source::JsonFormat(fields),
            kind: FormatKind::Json(kind),
        })
    }

    /// Envoy's default text format ([`ENVOY_DEFAULT`]).
    pub fn envoy_default() -> LogFormat {
        LogFormat {
            source: Source::Format(ENVOY_DEFAULT.to_owned()),
            kind: FormatKind::Text(parse::segments(ENVOY_DEFAULT).unwrap_or_default()),
        }
    }

    pub fn kind(&self) -> &FormatKind {
        &self.kind
    }
}

impl Default for LogFormat {
    fn default() -> Self {
        LogFormat::envoy_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_compiles() {
        let FormatKind::Text(segments) = LogFormat::envoy_default().kind else {
            panic!("text");
        };
        assert_eq!(parse::segments(ENVOY_DEFAULT), Ok(segments));
    }
}
