//! [`AccessLogSampling`]: which requests get a line.

use crate::request_id::{RequestIdValue, sampled};
use mesh_core::policy::Percent;
use std::fmt;
use std::sync::Arc;

type Decide = dyn Fn(&http::request::Parts) -> bool + Send + Sync;

/// Decides per request whether it is logged; the decision is made once, when the request
/// arrives, so a sampled request always gets its line and an unsampled one costs nothing more.
///
/// [`AccessLogSampling::RequestId`] ties the decision to the request ID, so that access logs
/// of every hop and traces sample the same call chains.
#[derive(Clone, Default)]
pub enum AccessLogSampling {
    /// Every request.
    #[default]
    All,
    /// This share of call chains, decided from the request ID ([`RequestIdValue`], which the
    /// request-ID layer sets) by [`sampled`], the rule traces use: every hop of a chain logs the
    /// same requests. A request without an ID is drawn at random.
    RequestId(Percent),
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
            AccessLogSampling::RequestId(share) => match parts.extensions.get::<RequestIdValue>() {
                Some(id) => sampled(id.0.as_bytes(), *share),
                None => share.admits(rand::random()),
            },
            AccessLogSampling::Custom(decide) => decide(parts),
        }
    }
}

impl fmt::Debug for AccessLogSampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessLogSampling::All => f.write_str("All"),
            AccessLogSampling::RequestId(share) => write!(f, "RequestId({share})"),
            AccessLogSampling::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
