//! The per-hop sampling rule: parent-based, else the request ID.

use super::TraceContext;
use crate::request_id::sampled;
use mesh_core::policy::Percent;

/// Whether this hop records its span.
///
/// - A parent with a decision (`sampled` set) is followed: the root decided for the chain.
/// - Otherwise the request ID decides with [`sampled`] at `percent`, the same at every hop.
/// - Without a request ID either, `draw` (uniform in `0.0..1.0`) decides; this hop then
///   passes its decision on in the context it injects, so the next hops still agree.
pub fn decide(
    parent: Option<&TraceContext>,
    request_id: Option<&[u8]>,
    percent: Percent,
    draw: impl FnOnce() -> f64,
) -> bool {
    match (parent.and_then(|p| p.sampled), request_id) {
        (Some(decided), _) => decided,
        (None, Some(id)) => sampled(id, percent),
        (None, None) => percent.admits(draw()),
    }
}
