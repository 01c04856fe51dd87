//! Request IDs and access logs on a listener's request path: mesh-filters' `request_id` and
//! `access_log` logic, applied by the router around its dispatch rather than as a tower stack
//! (the router is an async fn borrowing its configuration, so a stack would cost a boxed
//! future and an `Arc` clone per request for nothing).
//!
//! Policy: a request from a peer in `trusted_cidrs` is marked [`TrustedPeer`] and keeps its
//! `x-request-id` (the same peers whose `x-mesh-*` headers count); any other gets a new UUIDv4
//! unless `preserve_external_request_id`. The chosen ID goes upstream as the header's only
//! value, and later stages read it as the [`RequestIdValue`] extension (with [`Sampled`], the
//! trace-sampling decision taken from it). With `always_set_request_id_in_response` it is
//! echoed on every response, local replies included, unless the upstream set its own.
//!
//! Each access log decides on arrival whether it logs the request (by request ID when it has
//! `sampling`), after the ID is chosen, so every hop of a chain logs the same requests. The
//! line is written when the response body ends (or, dropped first, with `DC`) and shows the
//! final response: a local reply with its flag, or the upstream's with the flags this proxy
//! set (`DI` delayed by a fault, `URX` retries exhausted, `UT`/`SI` when the route timeout or
//! idle timeout cuts the body off after the headers), never the flags header an upstream proxy
//! sent, which describe its own hop.
//!
//! Cost: with no access log, the ID's header and two extensions; a request no log samples
//! allocates nothing more.

use super::ConnInfo;
use crate::body::{ProxyBody, boxed};
use http::{HeaderName, HeaderValue, Request, Response};
use hyper::body::Incoming;
use mesh_core::policy::HttpOptions;
use mesh_filters::access_log::{
    AccessLogSampling, AccessLogs, Format, Record, RequestBody, ResponseFlags, Sink,
};
use mesh_filters::fault::InjectedDelay;
use mesh_filters::request_id::{self, RequestIdPolicy, TrustedPeer};

#[cfg(doc)]
use mesh_filters::request_id::{RequestIdValue, Sampled};

/// The downstream request body as the router sees it: counted for `%BYTES_RECEIVED%` when
/// logged.
pub(crate) type DownstreamBody = RequestBody<Incoming>;

/// A listener's request-ID policy and access logs, built once per configuration.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    request_id: RequestIdPolicy,
    logs: AccessLogs,
}

/// What a request carries from arrival to its response.
pub(crate) struct Arrival {
    echo: Option<(HeaderName, HeaderValue)>,
    record: Record,
}

impl RequestLog {
    /// `sink` gives each configured log path its (shared) sink.
    pub(crate) fn new<'a>(
        options: &HttpOptions,
        sink: impl Fn(&mesh_core::policy::LogPath) -> Option<&'a Sink>,
    ) -> Self {
        let logs = options.access_log.iter().filter_map(|log| {
            let sampling = log
                .sampling
                .map_or(AccessLogSampling::All, AccessLogSampling::RequestId);
            Some((
                Format::from(log.format.clone()),
                sink(&log.path)?.clone(),
                sampling,
            ))
        });
        RequestLog {
            request_id: RequestIdPolicy::from(options.request_id),
            logs: AccessLogs::new(logs),
        }
    }

    /// Whether any access log may show what the proxy learns on the way (upstream cluster).
    pub(crate) fn logging(&self) -> bool {
        !self.logs.is_empty()
    }

    /// Chooses the request's ID and starts its log record.
    pub(crate) fn arrive(
        &self,
        req: Request<Incoming>,
        conn: &ConnInfo,
    ) -> (Request<DownstreamBody>, Arrival) {
        let mut req = req;
        if conn.trusted {
            req.extensions_mut().insert(TrustedPeer);
        }
        let echo = request_id::assign(&self.request_id, &mut req);
        let (mut parts, body) = req.into_parts();
        let mut record = self.logs.start(&parts);
        record.downstream(conn.peer);
        if let Some(late) = record.late_flag() {
            parts.extensions.insert(late);
        }
        let req = Request::from_parts(parts, record.request_body(body));
        (req, Arrival { echo, record })
    }

    /// The response as sent: the ID echoed, the record handed to the body. `local` is the
    /// flag of a local reply.
    pub(crate) fn depart(
        &self,
        arrival: Arrival,
        mut response: Response<ProxyBody>,
        local: Option<&'static str>,
    ) -> Response<ProxyBody> {
        let Arrival { echo, mut record } = arrival;
        if let Some((name, id)) = echo {
            // An upstream that answers with its own ID is the better witness; keep it.
            response.headers_mut().entry(name).or_insert(id);
        }
        if !record.is_on() {
            return response;
        }
        record.response(&response);
        match local {
            Some(flag) => record.flags(flag),
            None => record.flags(&proxied_flags(&response)),
        }
        response.map(|body| boxed(record.body(body)))
    }
}

/// The flags of a proxied response: `DI` when a fault delayed it, then what forwarding set.
fn proxied_flags<B>(response: &Response<B>) -> String {
    let ext = response.extensions();
    let delayed = ext.get::<InjectedDelay>().map(|_| "DI");
    let set = ext.get::<ResponseFlags>().map(|f| f.0.as_str());
    delayed.into_iter().chain(set).collect::<Vec<_>>().join(",")
}
