//! What the proxy tells the access log through request and response extensions.
//!
//! The proxy knows things no header shows: which host answered, which cluster it belongs to,
//! why a reply was local. It inserts these extensions; the access log only reads them.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// The response header carrying Envoy's response flags on local replies; read when the response
/// has no [`ResponseFlags`] extension.
pub static RESPONSE_FLAGS_HEADER: http::HeaderName = http::HeaderName::from_static("x-mesh-response-flags");

/// Envoy's response flags for this response, comma separated (`UH`, `UF,URX`); a response
/// extension. Common flags: `UH` no healthy upstream, `UF` upstream connect failure, `UO`
/// overflow (circuit breaker), `UT` upstream timeout, `URX` retries exhausted, `DC` downstream
/// disconnect (added by the access log itself), `RL` rate limited, `FI` fault injected (delay),
/// `DI` fault injected (abort), `NR` no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFlags(pub String);

/// The upstream host that answered (`%UPSTREAM_HOST%`); a response extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamHost(pub SocketAddr);

/// The cluster the answering host belongs to (`%UPSTREAM_CLUSTER%`); a response extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamCluster(pub String);

/// The downstream peer's address (`%DOWNSTREAM_REMOTE_ADDRESS%`); a request extension the
/// listener inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownstreamAddress(pub SocketAddr);

/// A flag learned after the response headers went out (Envoy's `UT` when the route timeout cuts
/// the body off), added to the line when it is written; a request extension the record hands
/// out ([`Record::late_flag`](super::Record::late_flag)) to whoever may see that condition. The
/// first flag set wins.
#[derive(Debug, Clone, Default)]
pub struct LateFlag(Arc<OnceLock<&'static str>>);

impl LateFlag {
    pub fn set(&self, flag: &'static str) {
        let _ = self.0.set(flag);
    }

    pub(crate) fn get(&self) -> Option<&'static str> {
        self.0.get().copied()
    }
}
