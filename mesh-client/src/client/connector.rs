//! Every connection goes to the egress listener, whatever service the request names.
//!
//! The request's URI keeps the service as its authority (so hyper writes `Host` for HTTP/1.1
//! and `:authority` for HTTP/2, and pools connections per service); only the TCP connection is
//! redirected, as an HTTP proxy client would be.

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use std::task::{Context, Poll};
use tower::Service;

#[derive(Debug, Clone)]
pub(crate) struct EgressConnector {
    inner: HttpConnector,
    egress: Uri,
}

impl EgressConnector {
    pub(crate) fn new(egress: Uri) -> EgressConnector {
        let mut inner = HttpConnector::new();
        inner.set_nodelay(true);
        // The proxy is local: a connect that takes this long will not succeed.
        inner.set_connect_timeout(Some(std::time::Duration::from_secs(2)));
        EgressConnector { inner, egress }
    }
}

impl Service<Uri> for EgressConnector {
    type Response = <HttpConnector as Service<Uri>>::Response;
    type Error = <HttpConnector as Service<Uri>>::Error;
    type Future = <HttpConnector as Service<Uri>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, _service: Uri) -> Self::Future {
        self.inner.call(self.egress.clone())
    }
}
