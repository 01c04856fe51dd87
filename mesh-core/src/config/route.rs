//! File shapes for virtual hosts and routes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualHost {
    pub name: Option<String>,
    /// `example.com`, `*.example.com`, `api.*` or `*`. An entry may carry a port.
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(default)]
    pub request_headers_to_remove: Vec<String>,
    #[serde(default)]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(default)]
    pub response_headers_to_remove: Vec<String>,
    /// Applies to the routes that have none of their own.
    pub retry_policy: Option<super::RetryPolicy>,
    /// Applies to the requests whose route has none of its own.
    pub local_rate_limit: Option<super::TokenBucket>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
/// A header to add (Envoy's `HeaderValueOption`, with `header` flattened).
pub struct HeaderValueOption {
    pub key: Option<String>,
    pub value: Option<String>,
    /// Default `append_if_exists_or_add`.
    pub append_action: Option<AppendAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppendAction {
    #[serde(alias = "APPEND_IF_EXISTS_OR_ADD")]
    AppendIfExistsOrAdd,
    #[serde(alias = "ADD_IF_ABSENT")]
    AddIfAbsent,
    #[serde(alias = "OVERWRITE_IF_EXISTS_OR_ADD")]
    OverwriteIfExistsOrAdd,
    #[serde(alias = "OVERWRITE_IF_EXISTS")]
    OverwriteIfExists,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub matcher: Option<RouteMatch>,
    /// Forward to a cluster. Exactly one of `route`, `redirect`, `direct_response`.
    pub route: Option<RouteAction>,
    pub redirect: Option<Redirect>,
    pub direct_response: Option<DirectResponse>,
    #[serde(default)]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(default)]
    pub request_headers_to_remove: Vec<String>,
    #[serde(default)]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(default)]
    pub response_headers_to_remove: Vec<String>,
    /// Delays or aborts requests before they go upstream.
    pub fault: Option<super::Fault>,
    pub local_rate_limit: Option<super::TokenBucket>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteMatch {
    /// Exactly one of `prefix`, `path`, `safe_regex`.
    pub prefix: Option<String>,
    pub path: Option<String>,
    /// Must match the whole path (query excluded), as in Envoy.
    pub safe_regex: Option<String>,
    /// Default true.
    pub case_sensitive: Option<bool>,
    #[serde(default)]
    pub headers: Vec<HeaderMatcher>,
    /// Request methods; empty matches any.
    #[serde(default)]
    pub methods: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatcher {
    /// A header name, or `:method`, `:path`, `:authority`, `:scheme`.
    pub name: Option<String>,
    /// At most one of these; none of them means "present".
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub contains: Option<String>,
    pub safe_regex: Option<String>,
    pub present: Option<bool>,
    #[serde(default)]
    pub invert_match: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAction {
    /// Exactly one of `cluster`, `weighted_clusters`.
    pub cluster: Option<String>,
    pub weighted_clusters: Option<Vec<WeightedCluster>>,
    /// Whole-response timeout, counted from the end of the request. Default `15s`; `0s` disables.
    pub timeout: Option<String>,
    pub prefix_rewrite: Option<String>,
    pub regex_rewrite: Option<RegexRewrite>,
    pub host_rewrite_literal: Option<String>,
    /// Inputs of the request hash for `ring_hash` and `maglev` clusters.
    #[serde(default)]
    pub hash_policy: Vec<super::HashPolicy>,
    /// Overrides the virtual host's `retry_policy`.
    pub retry_policy: Option<super::RetryPolicy>,
    /// Request body kept for retries and mirrors. Default 1048576 (Envoy keeps this on the
    /// route; it only matters when forwarding, so mesh keeps it here).
    pub per_request_buffer_limit_bytes: Option<u32>,
    /// Stream idle timeout. Default none; `0s` is none.
    pub idle_timeout: Option<String>,
    /// Picks the cluster's circuit-breaker thresholds. Default `default`.
    pub priority: Option<super::RoutingPriority>,
    #[serde(default)]
    pub request_mirror_policies: Vec<super::MirrorPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedCluster {
    pub name: Option<String>,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegexRewrite {
    pub pattern: Option<String>,
    pub substitution: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    pub scheme_redirect: Option<String>,
    #[serde(default)]
    pub https_redirect: bool,
    pub host_redirect: Option<String>,
    pub port_redirect: Option<u16>,
    /// Exactly one (or neither) of `path_redirect`, `prefix_rewrite`.
    pub path_redirect: Option<String>,
    pub prefix_rewrite: Option<String>,
    /// 301 (default), 302, 303, 307 or 308.
    pub response_code: Option<u16>,
    #[serde(default)]
    pub strip_query: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectResponse {
    pub status: Option<u16>,
    pub body: Option<String>,
}
