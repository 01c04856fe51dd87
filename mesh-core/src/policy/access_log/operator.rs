//! The command operators a format string may use, and how one `%NAME(ARG):LEN%` is compiled.

use super::error::Reason;
use http::HeaderName;

/// One command operator, validated at parse time so rendering never fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    StartTime,
    Req(Header),
    Resp(Header),
    Trailer(Header),
    Protocol,
    ResponseCode,
    ResponseFlags,
    BytesReceived,
    BytesSent,
    Duration,
    ResponseDuration,
    UpstreamHost,
    UpstreamCluster,
    DownstreamRemoteAddress,
}

/// `X?Y`: the first header that is present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub main: HeaderRef,
    pub alt: Option<HeaderRef>,
}

impl Header {
    pub fn refs(&self) -> impl Iterator<Item = &HeaderRef> {
        std::iter::once(&self.main).chain(self.alt.as_ref())
    }
}

/// A header name, or one of the HTTP/2 pseudo-headers that mesh keeps outside the header map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderRef {
    Method,
    Path,
    Authority,
    Scheme,
    Name(HeaderName),
}

/// Compiles `NAME`, its optional `(ARG)` and optional `:LEN` (already split by the caller).
pub(crate) fn compile(name: &str, arg: Option<&str>) -> Result<Operator, Reason> {
    let simple = |op: Operator, label: &'static str| match arg {
        None => Ok(op),
        Some(_) => Err(Reason::UnexpectedArgument(label)),
    };
    let named = |label: &'static str| match arg {
        None => Err(Reason::MissingArgument(label)),
        Some(text) => header(text),
    };
    match name {
        "START_TIME" => match arg {
            None => Ok(Operator::StartTime),
            Some(pattern) => Err(Reason::StartTimePattern(pattern.to_owned())),
        },
        "REQ" => named("REQ").map(Operator::Req),
        "RESP" => named("RESP").map(Operator::Resp),
        "TRAILER" => named("TRAILER").map(Operator::Trailer),
        // Envoy's `%REQUEST_ID%` is the `x-request-id` header, which the request-id layer sets.
        "REQUEST_ID" => simple(Operator::Req(header("x-request-id")?), "REQUEST_ID"),
        "PROTOCOL" => simple(Operator::Protocol, "PROTOCOL"),
        "RESPONSE_CODE" => simple(Operator::ResponseCode, "RESPONSE_CODE"),
        "RESPONSE_FLAGS" => simple(Operator::ResponseFlags, "RESPONSE_FLAGS"),
        "BYTES_RECEIVED" => simple(Operator::BytesReceived, "BYTES_RECEIVED"),
        "BYTES_SENT" => simple(Operator::BytesSent, "BYTES_SENT"),
        "DURATION" => simple(Operator::Duration, "DURATION"),
        "RESPONSE_DURATION" => simple(Operator::ResponseDuration, "RESPONSE_DURATION"),
        "UPSTREAM_HOST" => simple(Operator::UpstreamHost, "UPSTREAM_HOST"),
        "UPSTREAM_CLUSTER" => simple(Operator::UpstreamCluster, "UPSTREAM_CLUSTER"),
        "DOWNSTREAM_REMOTE_ADDRESS" => simple(Operator::DownstreamRemoteAddress, "DOWNSTREAM_REMOTE_ADDRESS"),
        other => Err(Reason::UnknownOperator(other.to_owned())),
    }
}

fn header(text: &str) -> Result<Header, Reason> {
    let mut names = text.split('?');
    let main = names.next().map(header_ref).transpose()?;
    let alt = names.next().map(header_ref).transpose()?;
    if names.next().is_some() {
        return Err(Reason::TooManyAlternatives);
    }
    let main = main.ok_or_else(|| Reason::BadHeader(text.to_owned()))?;
    Ok(Header { main, alt })
}

fn header_ref(name: &str) -> Result<HeaderRef, Reason> {
    let bad = || Reason::BadHeader(name.to_owned());
    if let Some(pseudo) = name.strip_prefix(':') {
        return match pseudo.to_ascii_lowercase().as_str() {
            "method" => Ok(HeaderRef::Method),
            "path" => Ok(HeaderRef::Path),
            "authority" => Ok(HeaderRef::Authority),
            "scheme" => Ok(HeaderRef::Scheme),
            _ => Err(bad()),
        };
    }
    // `HeaderName::from_bytes` lowercases, so `USER-AGENT` and `user-agent` are the same header.
    HeaderName::from_bytes(name.as_bytes())
        .map(HeaderRef::Name)
        .map_err(|_| bad())
}
