//! Serialisers for `/config_dump`: regexes, header names and statuses as plain strings.

use http::{HeaderName, HeaderValue, Method, StatusCode};
use regex::Regex;
use serde::Serializer;

pub(crate) fn regex<S: Serializer>(r: &Regex, s: S) -> Result<S::Ok, S::Error> {
    // Stored anchored as `^(?:...)$`; dump what the user wrote.
    let text = r.as_str();
    let inner = text
        .strip_prefix("^(?:")
        .and_then(|t| t.strip_suffix(")$"))
        .unwrap_or(text);
    s.serialize_str(inner)
}

pub(crate) fn regex_rewrite<S: Serializer>(r: &Option<(Regex, String)>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some((re, sub)) => s.collect_map([("pattern", re.as_str()), ("substitution", sub.as_str())]),
        None => s.serialize_none(),
    }
}

pub(crate) fn header_name<S: Serializer>(h: &HeaderName, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(h.as_str())
}

pub(crate) fn header_names<S: Serializer>(h: &[HeaderName], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(h.iter().map(HeaderName::as_str))
}

pub(crate) fn header_value<S: Serializer>(v: &HeaderValue, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(v.as_bytes()))
}

pub(crate) fn authority_opt<S: Serializer>(
    a: &Option<http::uri::Authority>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_str(a.as_str()),
        None => s.serialize_none(),
    }
}

pub(crate) fn methods<S: Serializer>(m: &[Method], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter().map(Method::as_str))
}

pub(crate) fn status<S: Serializer>(c: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(c.as_u16())
}

pub(crate) fn bytes<S: Serializer>(b: &bytes::Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}
