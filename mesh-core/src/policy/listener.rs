//! Validated listeners and their HTTP protocol limits.

use super::errors::{Issues, Path};
use super::route::VirtualHosts;
use super::{ClusterIndex, ClusterRef, readable_file};
use crate::config;
use crate::duration::serde_str;
use serde::Serialize;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    pub tls: Option<DownstreamTls>,
    /// Most connections open at once; a connection over it is closed as soon as it is
    /// accepted. `None`: no limit. Envoy's network-level `connection_limit` filter, so it
    /// applies to http and tcp listeners alike.
    pub max_connections: Option<NonZeroU32>,
    /// New connections accepted per time; one finding the bucket empty is closed at once.
    /// Envoy's network-level `local_ratelimit` filter, on http and tcp listeners alike.
    pub connection_rate_limit: Option<super::TokenBucket>,
    /// HTTP listeners: the sampling of their spans, used only when the proxy has a `tracing`
    /// exporter. Here rather than in [`HttpOptions`] to keep [`ListenerKind`]'s variants close
    /// in size.
    pub tracing: super::ListenerTracing,
    #[serde(flatten)]
    pub kind: ListenerKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
#[allow(
    clippy::large_enum_variant,
    reason = "one per configured listener, built once per configuration; boxing would only add a \
              pointer chase"
)]
pub enum ListenerKind {
    Http(HttpListener),
    Tcp(TcpProxy),
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpListener {
    pub virtual_hosts: VirtualHosts,
    #[serde(flatten)]
    pub options: HttpOptions,
}

#[derive(Debug, Clone, Serialize)]
pub struct TcpProxy {
    pub cluster: ClusterRef,
    /// Close both sides when no bytes moved either way for this long. `None` disables.
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub idle_timeout: Option<Duration>,
}

/// Downstream protocol limits: Envoy's defaults, tightened where Envoy leaves them open.
#[derive(Debug, Clone, Serialize)]
pub struct HttpOptions {
    /// Largest request head accepted; larger gets 431. Envoy's `max_request_headers_kb` (60).
    pub max_request_headers_bytes: usize,
    /// Most header fields accepted; more gets 431. Envoy's default 100.
    pub max_headers_count: usize,
    /// Time allowed to receive a complete request head, counted from when the connection
    /// starts waiting for one (so it also bounds idle keep-alive connections). `None` disables.
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub request_headers_timeout: Option<Duration>,
    /// Close a connection on which no bytes moved for this long. `None` disables.
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub idle_timeout: Option<Duration>,
    pub max_concurrent_streams: u32,
    pub initial_stream_window_size: u32,
    pub initial_connection_window_size: u32,
    /// Peers whose `x-mesh-*` control headers are honoured; from any other peer they are
    /// removed before routing. Empty by default: trust is configured, never assumed
    /// (not even for RFC 1918 peers) and never taken from a header.
    pub trusted_cidrs: Vec<super::Cidr>,
    /// Requests per time for requests whose route and virtual host set no
    /// `local_rate_limit`: the most specific bucket applies. `None`: no limit.
    pub local_rate_limit: Option<super::TokenBucket>,
    pub request_id: super::RequestIdOptions,
    /// Every access log of the listener, in order; empty: none.
    pub access_log: Vec<super::AccessLog>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownstreamTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub alpn_protocols: Vec<String>,
}

pub const DEFAULT_MAX_REQUEST_HEADERS_KB: u32 = 60;
pub const DEFAULT_MAX_HEADERS_COUNT: u32 = 100;
pub const DEFAULT_REQUEST_HEADERS_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 100;
pub const DEFAULT_STREAM_WINDOW: u32 = 65_536;
pub const DEFAULT_CONNECTION_WINDOW: u32 = 1_048_576;
/// The HTTP/2 spec's largest flow-control window.
const MAX_WINDOW: u32 = (1 << 31) - 1;

pub(crate) fn build(
    raw: &config::Listener,
    path: &Path,
    clusters: &ClusterIndex<'_>,
    traced: bool,
    issues: &mut Issues,
) -> Option<Listener> {
    let before = issues.0.len();
    let name = issues.required(&raw.name, &path.key("name")).cloned();
    let address = issues
        .required(&raw.address, &path.key("address"))
        .and_then(|a| issues.check(&path.key("address"), super::socket_addr(a)));
    let protocol = raw.protocol.unwrap_or(config::ListenerProtocol::Http);
    let tls = raw
        .tls
        .as_ref()
        .and_then(|t| tls(t, protocol, &path.key("tls"), issues));
    let kind = match protocol {
        config::ListenerProtocol::Http => {
            if raw.cluster.is_some() {
                issues.push(
                    &path.key("cluster"),
                    "applies to tcp listeners; http listeners route with virtual_hosts",
                );
            }
            let virtual_hosts =
                super::build_virtual_hosts(&raw.virtual_hosts, &path.key("virtual_hosts"), clusters, issues);
            let options = options(raw, path, issues);
            ListenerKind::Http(HttpListener {
                virtual_hosts,
                options,
            })
        }
        config::ListenerProtocol::Tcp => {
            if !raw.virtual_hosts.is_empty() {
                issues.push(
                    &path.key("virtual_hosts"),
                    "applies to http listeners; tcp listeners take a cluster",
                );
            }
            // HTTP limits would be silently ignored on a byte stream: say so instead.
            let http_only = [
                ("max_request_headers_kb", raw.max_request_headers_kb.is_some()),
                ("max_headers_count", raw.max_headers_count.is_some()),
                ("request_headers_timeout", raw.request_headers_timeout.is_some()),
                ("http2_protocol_options", raw.http2_protocol_options.is_some()),
                ("trusted_cidrs", !raw.trusted_cidrs.is_empty()),
                ("local_rate_limit", raw.local_rate_limit.is_some()),
                ("generate_request_id", raw.generate_request_id.is_some()),
                (
                    "preserve_external_request_id",
                    raw.preserve_external_request_id.is_some(),
                ),
                (
                    "always_set_request_id_in_response",
                    raw.always_set_request_id_in_response.is_some(),
                ),
                ("access_log", !raw.access_log.is_empty()),
                ("tracing", raw.tracing.is_some()),
            ];
            for (key, set) in http_only {
                if set {
                    issues.push(&path.key(key), "applies to http listeners only");
                }
            }
            let cluster_path = path.key("cluster");
            let cluster = issues
                .required(&raw.cluster, &cluster_path)
                .and_then(|c| clusters.resolve(c, &cluster_path, issues));
            let idle_timeout =
                issues.timeout(&raw.idle_timeout, &path.key("idle_timeout"), DEFAULT_IDLE_TIMEOUT);
            ListenerKind::Tcp(TcpProxy {
                cluster: cluster?,
                idle_timeout,
            })
        }
    };
    let max_connections =
        super::rate_limit::max_connections(raw.max_connections, &path.key("max_connections"), issues);
    let connection_rate_limit = raw
        .connection_rate_limit
        .as_ref()
        .and_then(|b| super::rate_limit::token_bucket(b, &path.key("connection_rate_limit"), issues));
    // A tcp listener's block was refused above, with the other HTTP-only keys.
    let tracing = match protocol {
        config::ListenerProtocol::Http => {
            super::trace::listener(raw.tracing.as_ref(), traced, &path.key("tracing"), issues)
        }
        config::ListenerProtocol::Tcp => super::ListenerTracing::default(),
    };
    (issues.0.len() == before).then_some(())?;
    Some(Listener {
        tracing,
        name: name?,
        address: address?,
        tls,
        max_connections,
        connection_rate_limit,
        kind,
    })
}

fn options(raw: &config::Listener, path: &Path, issues: &mut Issues) -> HttpOptions {
    let kb = raw
        .max_request_headers_kb
        .unwrap_or(DEFAULT_MAX_REQUEST_HEADERS_KB);
    // Envoy's bounds: at least 1 KiB (we need 8 KiB for the parser's buffer), at most 8 MiB.
    if !(8..=8192).contains(&kb) {
        issues.push(
            &path.key("max_request_headers_kb"),
            format!("{kb} is outside 8..=8192"),
        );
    }
    let count = raw.max_headers_count.unwrap_or(DEFAULT_MAX_HEADERS_COUNT);
    if count == 0 {
        issues.push(&path.key("max_headers_count"), "must be at least 1");
    }
    let h2 = raw.http2_protocol_options.clone().unwrap_or_default();
    let h2_path = path.key("http2_protocol_options");
    let streams = h2
        .max_concurrent_streams
        .unwrap_or(DEFAULT_MAX_CONCURRENT_STREAMS);
    if streams == 0 {
        issues.push(&h2_path.key("max_concurrent_streams"), "must be at least 1");
    }
    let mut window = |v: Option<u32>, key: &str, default: u32| {
        let w = v.unwrap_or(default);
        if !(65_535..=MAX_WINDOW).contains(&w) {
            issues.push(&h2_path.key(key), format!("{w} is outside 65535..={MAX_WINDOW}"));
        }
        w
    };
    let stream_window = window(
        h2.initial_stream_window_size,
        "initial_stream_window_size",
        DEFAULT_STREAM_WINDOW,
    );
    let conn_window = window(
        h2.initial_connection_window_size,
        "initial_connection_window_size",
        DEFAULT_CONNECTION_WINDOW,
    );
    let mut trusted_cidrs = Vec::with_capacity(raw.trusted_cidrs.len());
    for (i, c) in raw.trusted_cidrs.iter().enumerate() {
        match c.parse::<super::Cidr>() {
            Ok(cidr) => trusted_cidrs.push(cidr),
            Err(e) => issues.push(&path.key("trusted_cidrs").idx(i), e.to_string()),
        }
    }
    let local_rate_limit = raw
        .local_rate_limit
        .as_ref()
        .and_then(|b| super::rate_limit::token_bucket(b, &path.key("local_rate_limit"), issues));
    HttpOptions {
        trusted_cidrs,
        local_rate_limit,
        request_id: super::request_id::build(raw),
        access_log: super::access_log::build(&raw.access_log, &path.key("access_log"), issues),
        max_request_headers_bytes: kb as usize * 1024,
        max_headers_count: count as usize,
        request_headers_timeout: issues.timeout(
            &raw.request_headers_timeout,
            &path.key("request_headers_timeout"),
            DEFAULT_REQUEST_HEADERS_TIMEOUT,
        ),
        idle_timeout: issues.timeout(&raw.idle_timeout, &path.key("idle_timeout"), DEFAULT_IDLE_TIMEOUT),
        max_concurrent_streams: streams,
        initial_stream_window_size: stream_window,
        initial_connection_window_size: conn_window,
    }
}

fn tls(
    raw: &config::DownstreamTls,
    protocol: config::ListenerProtocol,
    path: &Path,
    issues: &mut Issues,
) -> Option<DownstreamTls> {
    let cert = issues.required(&raw.cert_file, &path.key("cert_file"));
    let cert = cert.and_then(|f| readable_file(f, &path.key("cert_file"), issues));
    let key = issues.required(&raw.key_file, &path.key("key_file"));
    let key = key.and_then(|f| readable_file(f, &path.key("key_file"), issues));
    let alpn_protocols = match (&raw.alpn_protocols, protocol) {
        (Some(list), _) => list.clone(),
        (None, config::ListenerProtocol::Http) => vec!["h2".into(), "http/1.1".into()],
        (None, config::ListenerProtocol::Tcp) => Vec::new(),
    };
    for (i, p) in alpn_protocols.iter().enumerate() {
        if protocol == config::ListenerProtocol::Http && p != "h2" && p != "http/1.1" {
            issues.push(
                &path.key("alpn_protocols").idx(i),
                format!("{p:?} is not an HTTP protocol this listener speaks (h2, http/1.1)"),
            );
        }
    }
    Some(DownstreamTls {
        cert_file: cert?,
        key_file: key?,
        alpn_protocols,
    })
}
