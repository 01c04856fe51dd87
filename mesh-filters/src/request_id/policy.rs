//! What the request-ID layer does: Envoy's HTTP connection manager knobs plus the sampling share.

use http::HeaderName;
use mesh_core::policy::{Percent, RequestIdOptions};

/// The header a request ID travels in, by default.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request-ID policy; every field is valid on its own, so they are public.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestIdPolicy {
    /// Envoy's `generate_request_id` (default on): give a request without a usable ID a new
    /// UUIDv4. Off, the layer never writes the header and vouches only for kept IDs.
    pub generate: bool,
    /// Envoy's `preserve_external_request_id` (default off): keep a usable ID even from a peer
    /// without [`TrustedPeer`](super::TrustedPeer). Off, an edge proxy replaces it, so a client
    /// cannot choose its ID (nor, through it, its sampling decision).
    pub preserve_external: bool,
    /// Envoy's `always_set_request_id_in_response` (default off): copy the ID onto the response
    /// unless the upstream already set that header.
    pub echo_in_response: bool,
    /// Where the ID travels (default `x-request-id`).
    pub header: HeaderName,
    /// The share of call chains traced (default 1%), decided by [`sampled`](super::sampled).
    pub sampling: Percent,
}

impl RequestIdPolicy {
    /// Envoy's defaults, sampling 1% of call chains.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Default for RequestIdPolicy {
    fn default() -> Self {
        Self {
            generate: true,
            preserve_external: false,
            echo_in_response: false,
            header: X_REQUEST_ID.clone(),
            // 1.0 is within 0..=100, so the fallback is never taken; `Percent` has no
            // const constructor outside mesh-core. A test pins the default at 1%.
            sampling: Percent::new(1.0).unwrap_or(Percent::ZERO),
        }
    }
}

impl From<RequestIdOptions> for RequestIdPolicy {
    /// A listener's configured knobs, with the default header and sampling share.
    fn from(options: RequestIdOptions) -> Self {
        RequestIdPolicy {
            generate: options.generate,
            preserve_external: options.preserve_external,
            echo_in_response: options.always_set_in_response,
            ..RequestIdPolicy::default()
        }
    }
}
