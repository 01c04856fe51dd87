//! Trace context: W3C `traceparent` and Zipkin B3 read from a request and written onto the
//! request sent upstream, and the per-hop sampling rule. The proxy records the span itself
//! (`mesh-proxy`'s `otel` module); this module knows only headers and decisions.
//!
//! Extract ([`extract`]): the first valid context wins, in this order: W3C `traceparent`,
//! B3 single (`b3`), B3 multi (`x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags`).
//! An invalid header is ignored as if absent (W3C: "restart the trace"), never an error.
//! `tracestate` is not parsed: the proxy leaves that header as it came, which W3C allows for a
//! participant that adds no entry of its own.
//!
//! Inject ([`inject`]): `traceparent` always (version `00`, flags `01` or `00`); B3 too, in the
//! style the request came with (single or multi, also when it rode along a W3C context), with
//! the caller's span as the B3 parent, so a B3-only service downstream still joins the trace. A 64-bit B3 trace ID is widened with zeros
//! to 128 bits, as W3C and B3 both prescribe, and written back as 64 bits.
//!
//! Sampling ([`decide`]): parent-based. A caller's sampled flag is followed (the decision was
//! taken at the root); without one, the request ID decides through
//! [`request_id::sampled`](crate::request_id::sampled), which every hop computes alike, so a
//! sampled call chain is traced whole.
//!
//! Failure: none; malformed input is dropped, the request goes on.
//!
//! Placement: first thing on a request the proxy has accepted (after the request ID is
//! chosen), before routing rewrites headers; the injected headers then travel with the request.
//! Not covered: B3's sampling-only forms (`b3: 0`, `x-b3-sampled` without IDs) are ignored.
//!
//! ```
//! use http::HeaderMap;
//! use mesh_core::policy::Percent;
//! use mesh_filters::trace::{self, TraceContext};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
//! let parent = trace::extract(&headers).unwrap();
//! assert_eq!(parent.context.sampled, Some(true));
//!
//! // The caller sampled this chain: follow it, whatever the request ID says.
//! assert!(trace::decide(Some(&parent.context), Some(b"ffffffff-id"), Percent::ZERO, || 0.5));
//!
//! // This hop's span is a child in the same trace; the next hop sees it as its parent.
//! let hop = TraceContext { span_id: [7; 8], ..parent.context };
//! trace::inject(&mut headers, &hop, Some(&parent));
//! assert_eq!(headers["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-0707070707070707-01");
//! ```

mod b3;
mod hex;
mod sampling;
#[cfg(test)]
mod tests;
mod w3c;

pub use sampling::decide;

use http::HeaderMap;
use rand::Rng;

/// One position in a trace: the trace, the span, and the sampling decision if one was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// Never all zeros (invalid in both W3C and B3).
    pub trace_id: [u8; 16],
    /// Never all zeros.
    pub span_id: [u8; 8],
    /// `None`: B3's deferred decision (no `x-b3-sampled`); W3C always carries one.
    pub sampled: Option<bool>,
}

impl TraceContext {
    /// A fresh root context with random IDs: what an unsampled request without a parent
    /// carries upstream, so the next hops agree not to sample it.
    pub fn random(sampled: bool) -> Self {
        let mut rng = rand::rng();
        let mut trace_id: [u8; 16] = rng.random();
        let mut span_id: [u8; 8] = rng.random();
        // All zeros is invalid; one chance in 2^64 or 2^128, but cheap to rule out.
        trace_id[15] |= u8::from(trace_id == [0; 16]);
        span_id[7] |= u8::from(span_id == [0; 8]);
        TraceContext {
            trace_id,
            span_id,
            sampled: Some(sampled),
        }
    }
}

/// How a context travelled: the style [`inject`] answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    W3c,
    /// The single `b3` header.
    B3Single,
    /// The `x-b3-*` headers.
    B3Multi,
}

/// A context read from a request, with the style it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    pub context: TraceContext,
    pub from: Propagation,
}

/// The request's trace context, if it carries a valid one; see the [module docs](self) for
/// the order of precedence.
pub fn extract(headers: &HeaderMap) -> Option<Extracted> {
    let found = |from: Propagation| move |context| Extracted { context, from };
    w3c::extract(headers)
        .map(found(Propagation::W3c))
        .or_else(|| b3::extract_single(headers).map(found(Propagation::B3Single)))
        .or_else(|| b3::extract_multi(headers).map(found(Propagation::B3Multi)))
}

/// Writes `hop` (this hop's span) onto `headers` for the next hop: `traceparent`, and B3 in
/// the style `parent` came in, naming the parent's span as the B3 parent span. B3 headers that
/// rode along a W3C parent (a proxy before this one wrote both) are rewritten too, so no stale
/// B3 context reaches the next hop.
pub fn inject(headers: &mut HeaderMap, hop: &TraceContext, parent: Option<&Extracted>) {
    w3c::inject(headers, hop);
    let Some(parent) = parent else { return };
    let parent_span = parent.context.span_id;
    if parent.from == Propagation::B3Single || headers.contains_key(&b3::B3) {
        b3::inject_single(headers, hop, parent_span);
    }
    if parent.from == Propagation::B3Multi || headers.contains_key(&b3::TRACE_ID) {
        b3::inject_multi(headers, hop, parent_span);
    }
}
