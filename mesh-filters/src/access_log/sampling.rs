//! [`AccessLogSampling`]: which requests get a line.

use std::fmt;
use std::sync::Arc;

type Decide = dyn Fn(&http::request::Parts) -> bool + Send + Sync;

/// Decides per request whether it is logged; the decision is made once, when the request
/// arrives, so a sampled request always gets its line and an unsampled one costs nothing more.
///
/// Tie the custom form to the request ID (the request-id layer's sampling decision) so that
/// the access log, traces and stats sample the same requests.
#[derive(Clone, Default)]
pub enum AccessLogSampling {
    /// Every request.
    #[default]
    All,
    /// Requests for which the function returns `true`.
    Custom(Arc<Decide>),
}

impl AccessLogSampling {
    pub fn custom<F>(decide: F) -> Self
    where
        F: Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    {
        AccessLogSampling::Custom(Arc::new(decide))
    }

    pub(crate) fn sampled(&self, parts: &http::request::Parts) -> bool {
        match self {
            AccessLogSampling::All => true,
            AccessLogSampling::Custom(decide) => decide(parts),
        }
    }
}

impl fmt::Debug for AccessLogSampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessLogSampling::All => f.write_str("All"),
            AccessLogSampling::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
