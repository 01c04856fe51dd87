//! [`AccessLogs`] and [`Record`]: one request's log lines in the making, each written exactly once.
//!
//! The record travels from the request into the response and then into the response body.
//! Whoever finishes it writes the lines; if it is dropped unfinished (the client went away
//! before the body ended) its `Drop` writes them with flag `DC`. One [`Entry`] serves every log
//! that sampled the request.

use super::entry::Entry;
use super::extensions::{
    DownstreamAddress, LateFlag, RESPONSE_FLAGS_HEADER, ResponseFlags, UpstreamCluster, UpstreamHost,
};
use super::{AccessLogSampling, Format, RequestBody, ResponseBody, Sink};
use http::{HeaderMap, HeaderName};
use http_body::Body;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use tokio::time::Instant;

/// Most logs one [`AccessLogs`] holds: which of them sampled a request is one `u64` of bits.
pub const MAX_LOGS: usize = 64;

/// The access logs of one listener (or one layer): each a format, a sink and a sampling rule.
/// Built once per configuration; clones share everything.
#[derive(Debug, Clone, Default)]
pub struct AccessLogs {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    logs: Vec<Log>,
    /// Request, response and trailer headers any of the formats shows.
    names: [Vec<HeaderName>; 3],
}

#[derive(Debug)]
struct Log {
    format: Format,
    sink: Sink,
    sampling: AccessLogSampling,
}

impl AccessLogs {
    /// The logs, in order; past [`MAX_LOGS`] they are ignored (configuration validation
    /// refuses more).
    pub fn new(logs: impl IntoIterator<Item = (Format, Sink, AccessLogSampling)>) -> Self {
        let logs: Vec<Log> = logs
            .into_iter()
            .take(MAX_LOGS)
            .map(|(format, sink, sampling)| Log {
                format,
                sink,
                sampling,
            })
            .collect();
        let mut names: [Vec<HeaderName>; 3] = Default::default();
        for log in &logs {
            for (slot, found) in names.iter_mut().zip(log.format.header_names()) {
                for name in found {
                    if !slot.contains(&name) {
                        slot.push(name);
                    }
                }
            }
        }
        AccessLogs {
            inner: Arc::new(Inner { logs, names }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.inner.logs.is_empty()
    }

    /// The same logs, every one sampling with `sampling`.
    pub(crate) fn with_sampling(&self, sampling: &AccessLogSampling) -> Self {
        let logs = self
            .inner
            .logs
            .iter()
            .map(|log| (log.format.clone(), log.sink.clone(), sampling.clone()));
        AccessLogs::new(logs)
    }

    /// Starts the record of a request that just arrived: each log decides now whether it logs
    /// it (so put the request ID in place first). Costs nothing when no log does.
    pub fn start(&self, parts: &http::request::Parts) -> Record {
        let mask = self
            .inner
            .logs
            .iter()
            .enumerate()
            .filter(|(_, log)| log.sampling.sampled(parts))
            .fold(0u64, |mask, (i, _)| mask | 1 << i);
        if mask == 0 {
            return Record::off();
        }
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
            request_headers: copy(&parts.headers, &self.inner.names[0]),
            downstream_remote: parts.extensions.get::<DownstreamAddress>().map(|a| a.0),
            ..Entry::default()
        };
        Record {
            state: Some(Box::new(State {
                logs: self.clone(),
                mask,
                entry,
                started: Instant::now(),
                received: Arc::default(),
                late: None,
            })),
        }
    }
}

/// One request's pending log lines; see the [module docs](self).
#[derive(Debug)]
pub struct Record {
    // `None` for requests no log sampled, and once the lines are written.
    state: Option<Box<State>>,
}

#[derive(Debug)]
struct State {
    logs: AccessLogs,
    /// Bit `i`: log `i` sampled this request.
    mask: u64,
    entry: Entry,
    started: Instant,
    received: Arc<AtomicU64>,
    late: Option<LateFlag>,
}

impl Record {
    /// A record that writes nothing.
    pub fn off() -> Self {
        Record { state: None }
    }

    /// Whether any log sampled the request.
    pub fn is_on(&self) -> bool {
        self.state.is_some()
    }

    /// The request body, counting the bytes read from it (`%BYTES_RECEIVED%`) when logged.
    pub fn request_body<B>(&self, body: B) -> RequestBody<B> {
        let received = self.state.as_ref().map(|s| Arc::clone(&s.received));
        RequestBody::new(body, received)
    }

    /// The downstream peer (`%DOWNSTREAM_REMOTE_ADDRESS%`), when no extension told it.
    pub fn downstream(&mut self, peer: SocketAddr) {
        if let Some(state) = self.state.as_mut() {
            state.entry.downstream_remote = Some(peer);
        }
    }

    /// Notes the response headers and what the proxy attached to them: the [`ResponseFlags`],
    /// [`UpstreamHost`] and [`UpstreamCluster`] extensions (flags else from the
    /// `x-mesh-response-flags` header).
    pub fn response<B>(&mut self, response: &http::Response<B>) {
        let Some(state) = self.state.as_mut() else { return };
        let names = &state.logs.inner.names;
        let e = &mut state.entry;
        e.response_code = Some(response.status());
        e.response_duration = Some(state.started.elapsed());
        e.response_headers = copy(response.headers(), &names[1]);
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
        e.upstream_cluster = ext.get::<UpstreamCluster>().map(|c| c.0.to_string());
    }

    /// Replaces the response flags [`Record::response`] found: for a caller that knows them
    /// first hand (a proxy, whose upstream's flag header describes another hop).
    pub fn flags(&mut self, flags: &str) {
        if let Some(state) = self.state.as_mut() {
            flags.clone_into(&mut state.entry.response_flags);
        }
    }

    /// A handle through which a later stage adds a flag it sees after the response headers;
    /// `None` when the request is not logged.
    pub fn late_flag(&mut self) -> Option<LateFlag> {
        let state = self.state.as_mut()?;
        Some(state.late.get_or_insert_with(LateFlag::default).clone())
    }

    /// The response body, writing the lines when it ends (with `DC` when dropped first).
    pub fn body<B: Body>(self, body: B) -> ResponseBody<B> {
        ResponseBody::new(body, self)
    }

    pub(crate) fn sent(&mut self, bytes: usize) {
        if let Some(state) = self.state.as_mut() {
            state.entry.bytes_sent += bytes as u64;
        }
    }

    pub(crate) fn trailers(&mut self, trailers: &HeaderMap) {
        if let Some(state) = self.state.as_mut() {
            state.entry.response_trailers = copy(trailers, &state.logs.inner.names[2]);
        }
    }

    /// Writes the lines now; later calls (and the drop) do nothing.
    pub fn finish(&mut self) {
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
        if let Some(flag) = self.late.as_ref().and_then(LateFlag::get) {
            self.entry.add_flag(flag);
        }
        for (i, log) in self.logs.inner.logs.iter().enumerate() {
            if self.mask & 1 << i != 0 {
                log.sink.write(log.format.render(&self.entry));
            }
        }
    }
}

/// Only the headers the formats show: copying whole maps per request would be wasted work.
fn copy(headers: &HeaderMap, names: &[HeaderName]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in names {
        for value in headers.get_all(name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}
