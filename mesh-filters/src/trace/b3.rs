//! Zipkin B3: the single `b3` header (`traceid-spanid[-sampled[-parentspanid]]`) and the
//! multi-header form (`x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled`,
//! `x-b3-flags`).
//!
//! Trace IDs are 16 or 32 hex digits (a 64-bit ID is widened with leading zeros), span IDs
//! 16; either case is read, lowercase written. Sampling: `1` or `d` (debug) is sampled, `0`
//! is not, and legacy `true`/`false` in `x-b3-sampled` are read too; `x-b3-flags: 1` (debug)
//! means sampled. No sampling field: the decision is deferred (`sampled: None`).

use super::{TraceContext, hex};
use http::{HeaderMap, HeaderName, HeaderValue};

pub(super) static B3: HeaderName = HeaderName::from_static("b3");
pub(super) static TRACE_ID: HeaderName = HeaderName::from_static("x-b3-traceid");
pub(super) static SPAN_ID: HeaderName = HeaderName::from_static("x-b3-spanid");
pub(super) static PARENT_SPAN_ID: HeaderName = HeaderName::from_static("x-b3-parentspanid");
pub(super) static SAMPLED: HeaderName = HeaderName::from_static("x-b3-sampled");
pub(super) static FLAGS: HeaderName = HeaderName::from_static("x-b3-flags");

pub(super) fn extract_single(headers: &HeaderMap) -> Option<TraceContext> {
    parse_single(headers.get(&B3)?.as_bytes())
}

pub(super) fn parse_single(text: &[u8]) -> Option<TraceContext> {
    let mut fields = text.split(|&b| b == b'-');
    let trace_id = parse_trace_id(fields.next()?)?;
    let span_id = parse_span_id(fields.next()?)?;
    let sampled = match fields.next() {
        None => None,
        Some(b"1" | b"d") => Some(true),
        Some(b"0") => Some(false),
        Some(_) => return None,
    };
    // The parent span ID is the caller's business; only check its shape.
    if let Some(parent) = fields.next() {
        parse_span_id(parent)?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(TraceContext {
        trace_id,
        span_id,
        sampled,
    })
}

pub(super) fn extract_multi(headers: &HeaderMap) -> Option<TraceContext> {
    let field = |name: &HeaderName| headers.get(name).map(HeaderValue::as_bytes);
    let trace_id = parse_trace_id(field(&TRACE_ID)?)?;
    let span_id = parse_span_id(field(&SPAN_ID)?)?;
    let debug = field(&FLAGS) == Some(b"1");
    let sampled = match field(&SAMPLED) {
        _ if debug => Some(true),
        None => None,
        Some(b"1" | b"true") => Some(true),
        Some(b"0" | b"false") => Some(false),
        Some(_) => return None,
    };
    Some(TraceContext {
        trace_id,
        span_id,
        sampled,
    })
}

fn parse_trace_id(text: &[u8]) -> Option<[u8; 16]> {
    let id = match text.len() {
        16 => {
            let low: [u8; 8] = hex::decode(text, false)?;
            let mut wide = [0u8; 16];
            wide[8..].copy_from_slice(&low);
            wide
        }
        _ => hex::decode(text, false)?,
    };
    (id != [0; 16]).then_some(id)
}

fn parse_span_id(text: &[u8]) -> Option<[u8; 8]> {
    hex::decode(text, false).filter(|id| *id != [0; 8])
}

/// The trace ID as B3 writes it: 64 bits when the high half is zero (it came as 64 bits).
fn trace_id_text(id: &[u8; 16], out: &mut String) {
    match id.split_at(8) {
        ([0, 0, 0, 0, 0, 0, 0, 0], low) => hex::encode(low, out),
        _ => hex::encode(id, out),
    }
}

fn sampled_text(hop: &TraceContext) -> Option<&'static str> {
    hop.sampled.map(|s| if s { "1" } else { "0" })
}

pub(super) fn format_single(hop: &TraceContext, parent_span: [u8; 8]) -> String {
    let mut out = String::with_capacity(32 + 1 + 16 + 3 + 16);
    trace_id_text(&hop.trace_id, &mut out);
    out.push('-');
    hex::encode(&hop.span_id, &mut out);
    if let Some(s) = sampled_text(hop) {
        out.push('-');
        out.push_str(s);
        out.push('-');
        hex::encode(&parent_span, &mut out);
    }
    out
}

pub(super) fn inject_single(headers: &mut HeaderMap, hop: &TraceContext, parent_span: [u8; 8]) {
    if let Ok(value) = HeaderValue::try_from(format_single(hop, parent_span)) {
        headers.insert(B3.clone(), value);
    }
}

pub(super) fn inject_multi(headers: &mut HeaderMap, hop: &TraceContext, parent_span: [u8; 8]) {
    let mut hex_value = |name: &HeaderName, write: &dyn Fn(&mut String)| {
        let mut text = String::with_capacity(32);
        write(&mut text);
        if let Ok(value) = HeaderValue::try_from(text) {
            headers.insert(name.clone(), value);
        }
    };
    hex_value(&TRACE_ID, &|out| trace_id_text(&hop.trace_id, out));
    hex_value(&SPAN_ID, &|out| hex::encode(&hop.span_id, out));
    hex_value(&PARENT_SPAN_ID, &|out| hex::encode(&parent_span, out));
    // Debug was the caller's request; this hop's decision is plain sampled or not.
    headers.remove(&FLAGS);
    match sampled_text(hop) {
        Some(s) => {
            headers.insert(SAMPLED.clone(), HeaderValue::from_static(s));
        }
        None => {
            headers.remove(&SAMPLED);
        }
    }
}
