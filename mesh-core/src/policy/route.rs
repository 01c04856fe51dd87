//! Validated virtual hosts and routes: the types the request path matches against.
//!
//! Matching itself lives in [`crate::routing`]; building from the file shape in
//! [`super::route_build`].

use super::ClusterRef;
use super::headers::HeaderMutations;
use super::serde_helpers as ser;
use crate::duration::serde_str;
use bytes::Bytes;
use http::{HeaderName, Method, StatusCode};
use regex::Regex;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Envoy's default route timeout.
pub const DEFAULT_ROUTE_TIMEOUT: Duration = Duration::from_secs(15);
/// Envoy's default request buffer: the listener's 1 MiB `per_connection_buffer_limit_bytes`.
pub const DEFAULT_PER_REQUEST_BUFFER_LIMIT_BYTES: u64 = 1024 * 1024;

/// The virtual hosts of one HTTP listener with their domain index.
///
/// Selection order, as in Envoy: exact domain, then the longest `*.suffix`
/// wildcard, then the longest `prefix.*` wildcard, then `*`.
#[derive(Debug, Clone, Default)]
pub struct VirtualHosts {
    pub(crate) hosts: Vec<VirtualHost>,
    pub(crate) exact: HashMap<String, usize>,
    /// `(".example.com", i)` for `*.example.com`, longest first.
    pub(crate) suffixes: Vec<(String, usize)>,
    /// `("api.", i)` for `api.*`, longest first.
    pub(crate) prefixes: Vec<(String, usize)>,
    pub(crate) any: Option<usize>,
}

impl VirtualHosts {
    pub fn iter(&self) -> impl Iterator<Item = &VirtualHost> {
        self.hosts.iter()
    }
}

impl Serialize for VirtualHosts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.hosts)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
    pub request_headers: HeaderMutations,
    pub response_headers: HeaderMutations,
    /// For requests whose route sets none; shared by all those requests.
    pub local_rate_limit: Option<super::TokenBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub matcher: RouteMatch,
    pub action: Action,
    pub request_headers: HeaderMutations,
    pub response_headers: HeaderMutations,
    /// Delays or aborts requests before they go upstream.
    pub fault: Option<super::Fault>,
    /// This route's own bucket; it takes precedence over the virtual host's and listener's.
    pub local_rate_limit: Option<super::TokenBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteMatch {
    pub path: PathMatch,
    pub case_sensitive: bool,
    pub headers: Vec<HeaderMatcher>,
    #[serde(serialize_with = "ser::methods")]
    pub methods: Vec<Method>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathMatch {
    Prefix(String),
    #[serde(rename = "path")]
    Exact(String),
    /// Anchored at both ends: it must match the whole path.
    #[serde(rename = "safe_regex", serialize_with = "ser::regex")]
    Regex(Regex),
}

/// Where a header matcher looks: a real header or one of HTTP/2's pseudo-headers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderSource {
    #[serde(serialize_with = "ser::header_name")]
    Header(HeaderName),
    Method,
    Path,
    Authority,
    Scheme,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeaderMatcher {
    pub name: HeaderSource,
    pub rule: ValueMatch,
    pub invert_match: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    #[serde(rename = "safe_regex", serialize_with = "ser::regex")]
    Regex(Regex),
    /// `present: true` matches when the header exists, `present: false` when it does not.
    Present(bool),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "one Action per configured route, read on every request: boxing Forward would save \
              a few hundred bytes per route and cost a pointer chase per request"
)]
pub enum Action {
    Route(Forward),
    Redirect(Redirect),
    DirectResponse(DirectResponse),
}

#[derive(Debug, Clone, Serialize)]
pub struct Forward {
    pub clusters: ClusterSpecifier,
    /// Whole-response timeout counted from the end of the downstream request.
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub timeout: Option<Duration>,
    pub prefix_rewrite: Option<String>,
    #[serde(serialize_with = "ser::regex_rewrite")]
    pub regex_rewrite: Option<(Regex, String)>,
    #[serde(serialize_with = "ser::authority_opt")]
    pub host_rewrite_literal: Option<http::uri::Authority>,
    /// Inputs of the request hash for `ring_hash`/`maglev` clusters.
    pub hash_policy: Vec<super::HashPolicy>,
    /// The route's own `retry_policy`, else its virtual host's; `None`: no retries.
    pub retry_policy: Option<super::RetryPolicy>,
    /// Request body bytes kept for retries and mirrors; a longer body is forwarded once,
    /// without retries or mirrors.
    pub per_request_buffer_limit_bytes: u64,
    /// Stream idle timeout: no bytes either way for this long ends the request. `None`:
    /// none (mesh has no listener-wide `stream_idle_timeout` yet).
    #[serde(serialize_with = "serde_str::option::serialize")]
    pub idle_timeout: Option<Duration>,
    /// Picks the cluster's circuit-breaker thresholds.
    pub priority: super::RoutingPriority,
    pub request_mirror_policies: Vec<super::MirrorPolicy>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterSpecifier {
    Cluster(ClusterRef),
    WeightedClusters(WeightedClusters),
}

/// Weighted split: entries with their cumulative upper bounds for O(log n) picks.
#[derive(Debug, Clone, Serialize)]
pub struct WeightedClusters {
    pub(crate) entries: Vec<(ClusterRef, u32)>,
    #[serde(skip)]
    pub(crate) cumulative: Vec<u64>,
    pub(crate) total: u64,
}

impl WeightedClusters {
    /// Total weight; callers draw `r` uniformly from `0..total()`.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The cluster owning slot `r` of `0..total()` (`r` past the end picks the last
    /// cluster with a positive weight). Zero-weight entries own no slot.
    pub fn pick(&self, r: u64) -> &ClusterRef {
        // Clamp first so "past the end" lands on the last *positive* weight, never on a
        // trailing zero-weight entry.
        let r = r.min(self.total.saturating_sub(1));
        let i = self.cumulative.partition_point(|&upper| upper <= r);
        let i = i.min(self.entries.len() - 1);
        &self.entries[i].0
    }

    pub fn entries(&self) -> impl Iterator<Item = (&ClusterRef, u32)> {
        self.entries.iter().map(|(c, w)| (c, *w))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Redirect {
    pub scheme_redirect: Option<String>,
    pub host_redirect: Option<String>,
    pub port_redirect: Option<u16>,
    pub path: RedirectPath,
    #[serde(serialize_with = "ser::status")]
    pub response_code: StatusCode,
    pub strip_query: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectPath {
    Keep,
    PathRedirect(String),
    PrefixRewrite(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectResponse {
    #[serde(serialize_with = "ser::status")]
    pub status: StatusCode,
    #[serde(serialize_with = "ser::bytes")]
    pub body: Bytes,
}
