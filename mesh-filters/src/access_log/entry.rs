//! [`Entry`]: everything one access log line can show, filled by the caller (or by [`AccessLog`]).
//!
//! [`AccessLog`]: super::AccessLog

use http::{HeaderMap, Method, StatusCode, Version};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// The facts about one request and its response that a [`Format`](super::Format) renders.
///
/// Every field may be unknown (`None`, empty): that value renders `-` in text and `null` in JSON, as
/// Envoy does. Only the headers a format names need to be present in the maps.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When the request arrived (`%START_TIME%`).
    pub start_time: SystemTime,
    pub method: Option<Method>,
    /// Path and query, as `:path` (`%REQ(:PATH)%`).
    pub path: Option<String>,
    pub authority: Option<String>,
    pub scheme: Option<String>,
    /// `%PROTOCOL%`: `HTTP/1.1`, `HTTP/2` ...
    pub protocol: Option<Version>,
    pub request_headers: HeaderMap,
    /// `None` when no response was produced: `%RESPONSE_CODE%` then renders `0`, as in Envoy.
    pub response_code: Option<StatusCode>,
    pub response_headers: HeaderMap,
    pub response_trailers: HeaderMap,
    /// Envoy's response flags, comma separated (`UF,URX`); empty means none (`-`).
    pub response_flags: String,
    /// Request body bytes.
    pub bytes_received: u64,
    /// Response body bytes.
    pub bytes_sent: u64,
    /// From the start to the end of the response body (`%DURATION%`, in ms).
    pub duration: Option<Duration>,
    /// From the start to the response headers (`%RESPONSE_DURATION%`, in ms).
    pub response_duration: Option<Duration>,
    pub upstream_host: Option<SocketAddr>,
    pub upstream_cluster: Option<String>,
    pub downstream_remote: Option<SocketAddr>,
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            start_time: SystemTime::UNIX_EPOCH,
            method: None,
            path: None,
            authority: None,
            scheme: None,
            protocol: None,
            request_headers: HeaderMap::new(),
            response_code: None,
            response_headers: HeaderMap::new(),
            response_trailers: HeaderMap::new(),
            response_flags: String::new(),
            bytes_received: 0,
            bytes_sent: 0,
            duration: None,
            response_duration: None,
            upstream_host: None,
            upstream_cluster: None,
            downstream_remote: None,
        }
    }
}

impl Entry {
    /// Appends one flag to the comma-separated list, as Envoy joins them (`UF,URX`).
    pub fn add_flag(&mut self, flag: &str) {
        if !self.response_flags.is_empty() {
            self.response_flags.push(',');
        }
        self.response_flags.push_str(flag);
    }
}

/// Envoy's spelling of the protocol (`HTTP/2`, not `HTTP/2.0`).
pub(crate) fn protocol_name(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => return None,
    })
}
