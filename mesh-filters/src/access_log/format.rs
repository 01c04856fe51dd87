//! [`Format`]: a compiled text or JSON access log format, and how it renders an [`Entry`].

use super::entry::{Entry, protocol_name};
use super::time::rfc3339_millis;
use http::{HeaderMap, HeaderName};
use mesh_core::policy::access_log::{FormatError, FormatKind, HeaderRef, LogFormat, Operator, Segment};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A compiled text or JSON access log format (mesh-core's [`LogFormat`], which configuration
/// validation compiles), and how it renders an [`Entry`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Format {
    compiled: LogFormat,
}

/// One rendered command before it is spelled as text or JSON.
enum Value<'a> {
    Missing,
    Text(Cow<'a, str>),
    Number(u64),
}

impl From<LogFormat> for Format {
    fn from(compiled: LogFormat) -> Self {
        Format { compiled }
    }
}

impl Format {
    /// Compiles a text format; errors name the byte position of the bad command.
    pub fn parse(text: &str) -> Result<Format, FormatError> {
        LogFormat::parse(text).map(Format::from)
    }

    /// Compiles a JSON format: one object per line, each value a format string. A value that is
    /// a single numeric command (`%RESPONSE_CODE%`, `%BYTES_SENT%`, `%DURATION%` ...) renders
    /// as a JSON number, a single missing value as `null`, anything else as a string.
    pub fn json(fields: BTreeMap<String, String>) -> Result<Format, FormatError> {
        LogFormat::json(fields).map(Format::from)
    }

    /// Envoy's default text format ([`ENVOY_DEFAULT`](super::ENVOY_DEFAULT)).
    pub fn envoy_default() -> Format {
        Format::from(LogFormat::envoy_default())
    }

    /// One line, ending in `\n` (added when a text format lacks it).
    pub fn render(&self, entry: &Entry) -> String {
        let mut line = match self.compiled.kind() {
            FormatKind::Text(segments) => text(segments, entry),
            FormatKind::Json(fields) => {
                let object = fields
                    .iter()
                    .map(|(key, segments)| (key.clone(), json_value(segments, entry)))
                    .collect::<serde_json::Map<_, _>>();
                serde_json::Value::Object(object).to_string()
            }
        };
        if !line.ends_with('\n') {
            line.push('\n');
        }
        line
    }

    fn operators(&self) -> impl Iterator<Item = &Operator> {
        let lists: Vec<&Vec<Segment>> = match self.compiled.kind() {
            FormatKind::Text(segments) => vec![segments],
            FormatKind::Json(fields) => fields.iter().map(|(_, s)| s).collect(),
        };
        lists.into_iter().flatten().filter_map(|s| match s {
            Segment::Command { op, .. } => Some(op),
            Segment::Text(_) => None,
        })
    }

    /// The request, response and trailer header names this format shows, so the layer copies
    /// only those rather than whole header maps.
    pub(crate) fn header_names(&self) -> [Vec<HeaderName>; 3] {
        let mut names: [Vec<HeaderName>; 3] = Default::default();
        for op in self.operators() {
            let (slot, header) = match op {
                Operator::Req(h) => (0, h),
                Operator::Resp(h) => (1, h),
                Operator::Trailer(h) => (2, h),
                _ => continue,
            };
            for r in header.refs() {
                if let HeaderRef::Name(name) = r
                    && !names[slot].contains(name)
                {
                    names[slot].push(name.clone());
                }
            }
        }
        names
    }
}

fn text(segments: &[Segment], entry: &Entry) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Command { op, max_len } => match value(op, *max_len, entry) {
                Value::Missing => out.push('-'),
                Value::Text(text) => out.push_str(&text),
                Value::Number(n) => {
                    let _ = write!(out, "{n}");
                }
            },
        }
    }
    out
}

fn json_value(segments: &[Segment], entry: &Entry) -> serde_json::Value {
    match segments {
        [Segment::Command { op, max_len }] => match value(op, *max_len, entry) {
            Value::Missing => serde_json::Value::Null,
            Value::Text(text) => serde_json::Value::String(text.into_owned()),
            Value::Number(n) => serde_json::Value::from(n),
        },
        _ => serde_json::Value::String(text(segments, entry)),
    }
}

fn value<'a>(op: &Operator, max_len: Option<usize>, e: &'a Entry) -> Value<'a> {
    let owned = |s: Option<String>| s.map_or(Value::Missing, |s| Value::Text(Cow::Owned(s)));
    let millis = |d: Option<std::time::Duration>| {
        d.map_or(Value::Missing, |d| {
            Value::Number(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        })
    };
    let value = match op {
        Operator::StartTime => Value::Text(Cow::Owned(rfc3339_millis(e.start_time))),
        Operator::Req(h) => first(h.refs().map(|r| request_header(r, e))),
        Operator::Resp(h) => first(h.refs().map(|r| header(r, &e.response_headers))),
        Operator::Trailer(h) => first(h.refs().map(|r| header(r, &e.response_trailers))),
        Operator::Protocol => e
            .protocol
            .and_then(protocol_name)
            .map_or(Value::Missing, |p| Value::Text(Cow::Borrowed(p))),
        Operator::ResponseCode => Value::Number(e.response_code.map_or(0, |c| u64::from(c.as_u16()))),
        Operator::ResponseFlags if e.response_flags.is_empty() => Value::Missing,
        Operator::ResponseFlags => Value::Text(Cow::Borrowed(&e.response_flags)),
        Operator::BytesReceived => Value::Number(e.bytes_received),
        Operator::BytesSent => Value::Number(e.bytes_sent),
        Operator::Duration => millis(e.duration),
        Operator::ResponseDuration => millis(e.response_duration),
        Operator::UpstreamHost => owned(e.upstream_host.map(|a| a.to_string())),
        Operator::UpstreamCluster => e
            .upstream_cluster
            .as_deref()
            .map_or(Value::Missing, |c| Value::Text(Cow::Borrowed(c))),
        Operator::DownstreamRemoteAddress => owned(e.downstream_remote.map(|a| a.to_string())),
    };
    match (value, max_len) {
        (Value::Text(text), Some(max)) if text.chars().count() > max => {
            Value::Text(Cow::Owned(text.chars().take(max).collect()))
        }
        (value, _) => value,
    }
}

fn first<'a>(mut candidates: impl Iterator<Item = Option<Cow<'a, str>>>) -> Value<'a> {
    candidates.find_map(|c| c).map_or(Value::Missing, Value::Text)
}

fn request_header<'a>(r: &HeaderRef, e: &'a Entry) -> Option<Cow<'a, str>> {
    match r {
        HeaderRef::Method => e.method.as_ref().map(|m| Cow::Borrowed(m.as_str())),
        HeaderRef::Path => e.path.as_deref().map(Cow::Borrowed),
        HeaderRef::Authority => e.authority.as_deref().map(Cow::Borrowed),
        HeaderRef::Scheme => e.scheme.as_deref().map(Cow::Borrowed),
        HeaderRef::Name(_) => header(r, &e.request_headers),
    }
}

/// A header's value; bytes that are not UTF-8 are replaced rather than dropping the value.
fn header<'a>(r: &HeaderRef, headers: &'a HeaderMap) -> Option<Cow<'a, str>> {
    match r {
        HeaderRef::Name(name) => headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes())),
        _ => None,
    }
}
