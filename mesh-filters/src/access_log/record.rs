//! [`Record`]: one request's log line in the making, written exactly once.
//!
//! The record travels from the layer's call into the response future and then into the
//! response body. Whoever finishes it writes the line; if it is dropped unfinished (the client
//! went away before the body ended) its `Drop` writes the line with flag `DC`.

use super::entry::Entry;
use super::extensions::{
    DownstreamAddress, RESPONSE_FLAGS_HEADER, ResponseFlags, UpstreamCluster, UpstreamHost,
};
use super::{Format, Sink};
use http::{HeaderMap, HeaderName};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use tokio::time::Instant;

/// What every [`AccessLog`](super::AccessLog) clone shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) format: Format,
    pub(crate) sink: Sink,
    /// Request, response and trailer headers the format shows.
    names: [Vec<HeaderName>; 3],
}

impl Shared {
    pub(crate) fn new(format: Format, sink: Sink) -> Self {
        let names = format.header_names();
        Self { format, sink, names }
    }
}

#[derive(Debug)]
pub(crate) struct Record {
    // `None` for unsampled requests and once the line is written.
    state: Option<Box<State>>,
}

#[derive(Debug)]
struct State {
    shared: Arc<Shared>,
    entry: Entry,
    started: Instant,
    received: Arc<AtomicU64>,
}

impl Record {
    pub(crate) fn off() -> Self {
        Record { state: None }
    }

    pub(crate) fn start(shared: Arc<Shared>, parts: &http::request::Parts, received: Arc<AtomicU64>) -> Self {
        let uri = &parts.uri;
        // HTTP/1 requests carry the authority in `Host`; Envoy shows it as `:authority` too.
        let authority = uri.authority().map(|a| a.to_string()).or_else(|| {
            let host = parts.headers.get(http::header::HOST)?;
            Some(String::from_utf8_lossy(host.as_bytes()).into_owned())
        });
        let entry = Entry {
            start_time: SystemTime::now(),
            method: Some(parts.method.clone()),
            path: uri.path_and_query().map(|p| p.to_string()),
            authority,
            scheme: uri.scheme_str().map(str::to_owned),
            protocol: Some(parts.version),
            request_headers: copy(&parts.headers, &shared.names[0]),
            downstream_remote: parts.extensions.get::<DownstreamAddress>().map(|a| a.0),
            ..Entry::default()
        };
        let started = Instant::now();
        Record {
            state: Some(Box::new(State {
                shared,
                entry,
                started,
                received,
            })),
        }
    }

    /// Notes the response headers and what the proxy attached to them.
    pub(crate) fn response<B>(&mut self, response: &http::Response<B>) {
        let Some(state) = self.state.as_mut() else { return };
        let e = &mut state.entry;
        e.response_code = Some(response.status());
        e.response_duration = Some(state.started.elapsed());
        e.response_headers = copy(response.headers(), &state.shared.names[1]);
        let ext = response.extensions();
        e.response_flags = match ext.get::<ResponseFlags>() {
            Some(flags) => flags.0.clone(),
            None => response
                .headers()
                .get(&RESPONSE_FLAGS_HEADER)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default(),
        };
        e.upstream_host = ext.get::<UpstreamHost>().map(|h| h.0);
        e.upstream_cluster = ext.get::<UpstreamCluster>().map(|c| c.0.clone());
    }

    pub(crate) fn sent(&mut self, bytes: usize) {
        if let Some(state) = self.state.as_mut() {
            state.entry.bytes_sent += bytes as u64;
        }
    }

    pub(crate) fn trailers(&mut self, trailers: &HeaderMap) {
        if let Some(state) = self.state.as_mut() {
            state.entry.response_trailers = copy(trailers, &state.shared.names[2]);
        }
    }

    /// Writes the line now; later calls (and the drop) do nothing.
    pub(crate) fn finish(&mut self) {
        if let Some(state) = self.state.take() {
            state.write();
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if let Some(mut state) = self.state.take() {
            state.entry.add_flag("DC");
            state.write();
        }
    }
}

impl State {
    fn write(mut self: Box<Self>) {
        self.entry.duration = Some(self.started.elapsed());
        self.entry.bytes_received = self.received.load(Ordering::Relaxed);
        self.shared.sink.write(self.shared.format.render(&self.entry));
    }
}

/// Only the headers the format shows: copying whole maps per request would be wasted work.
fn copy(headers: &HeaderMap, names: &[HeaderName]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in names {
        for value in headers.get_all(name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}
