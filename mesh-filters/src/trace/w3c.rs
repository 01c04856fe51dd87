//! W3C Trace Context `traceparent`: `version-traceid-parentid-flags`, lowercase hex.
//!
//! Version `00` is exactly 55 characters. A later version is read as `00` when its first
//! four fields have the same shape and anything after them starts with `-` (the spec's
//! forward compatibility); version `ff` is invalid. All-zero IDs are invalid.

use super::{TraceContext, hex};
use http::{HeaderMap, HeaderName, HeaderValue};

pub(super) static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

const LEN: usize = 55;

pub(super) fn extract(headers: &HeaderMap) -> Option<TraceContext> {
    // Several traceparent headers cannot be told apart: W3C says to treat them as invalid.
    let mut all = headers.get_all(&TRACEPARENT).iter();
    let (value, None) = (all.next()?, all.next()) else {
        return None;
    };
    parse(value.as_bytes())
}

pub(super) fn parse(text: &[u8]) -> Option<TraceContext> {
    let head = text.get(..LEN)?;
    let version: [u8; 1] = hex::decode(head.get(..2)?, true)?;
    match (version[0], text.len()) {
        (0xff, _) => return None,
        (0, LEN) => {}
        (0, _) => return None,
        (_, LEN) => {}
        (_, _) if text.get(LEN) == Some(&b'-') => {}
        _ => return None,
    }
    if [2, 35, 52].iter().any(|&i| head.get(i) != Some(&b'-')) {
        return None;
    }
    let trace_id: [u8; 16] = hex::decode(head.get(3..35)?, true)?;
    let span_id: [u8; 8] = hex::decode(head.get(36..52)?, true)?;
    let [flags]: [u8; 1] = hex::decode(head.get(53..55)?, true)?;
    if trace_id == [0; 16] || span_id == [0; 8] {
        return None;
    }
    Some(TraceContext {
        trace_id,
        span_id,
        sampled: Some(flags & 1 == 1),
    })
}

pub(super) fn format(hop: &TraceContext) -> String {
    let mut out = String::with_capacity(LEN);
    out.push_str("00-");
    hex::encode(&hop.trace_id, &mut out);
    out.push('-');
    hex::encode(&hop.span_id, &mut out);
    out.push_str(if hop.sampled == Some(true) { "-01" } else { "-00" });
    out
}

pub(super) fn inject(headers: &mut HeaderMap, hop: &TraceContext) {
    // Hex and dashes only: always a valid header value.
    if let Ok(value) = HeaderValue::try_from(format(hop)) {
        headers.insert(TRACEPARENT.clone(), value);
    }
}
