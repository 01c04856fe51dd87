//! Selecting a virtual host and a route for a request, and computing rewrites.
//!
//! Everything here is allocation-free on the common path (lower-case hosts, prefix
//! matches) because it runs for every request.

use crate::policy::{
    HeaderMatcher, HeaderSource, PathMatch, Redirect, RedirectPath, Route, RouteMatch, ValueMatch,
    VirtualHost, VirtualHosts,
};
use http::{HeaderMap, Method};
use std::borrow::Cow;

/// The parts of a request that routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a Method,
    /// Host or `:authority`, possibly with a port.
    pub authority: &'a str,
    /// Path without the query.
    pub path: &'a str,
    pub scheme: &'a str,
    pub headers: &'a HeaderMap,
}

impl VirtualHosts {
    /// The virtual host for `host`: exact, then `*.suffix`, then `prefix.*`, then `*`.
    /// A host with a port that matches no domain is tried again without it.
    pub fn select(&self, host: &str) -> Option<&VirtualHost> {
        let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        // Exact names may carry a port (`api.local:8080`); wildcards match the host part.
        let bare = strip_port(&host).unwrap_or(&host);
        let exact = || {
            self.exact
                .get(host.as_ref())
                .or_else(|| self.exact.get(bare))
                .copied()
        };
        exact()
            .or_else(|| self.wildcard(bare))
            .or(self.any)
            .map(|i| &self.hosts[i])
    }

    fn wildcard(&self, host: &str) -> Option<usize> {
        // Envoy: a wildcard must match at least one character (`*.a.com` ≠ `.a.com`).
        let suffix = self
            .suffixes
            .iter()
            .find(|(s, _)| host.len() > s.len() && host.ends_with(s.as_str()));
        let prefix = || {
            self.prefixes
                .iter()
                .find(|(p, _)| host.len() > p.len() && host.starts_with(p.as_str()))
        };
        suffix.or_else(prefix).map(|(_, i)| *i)
    }
}

fn strip_port(host: &str) -> Option<&str> {
    let colon = host.rfind(':')?;
    // An IPv6 literal without a port ends with ']'.
    (!host[colon..].contains(']')).then(|| &host[..colon])
}

/// `("a.com", Some("8080"))` for `a.com:8080`, `("a.com", None)` for `a.com`.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match strip_port(authority) {
        Some(host) => (host, Some(&authority[host.len() + 1..])),
        None => (authority, None),
    }
}

impl VirtualHost {
    /// The first route whose match accepts the request, in configuration order.
    pub fn route(&self, req: &RequestHead<'_>) -> Option<&Route> {
        self.routes.iter().find(|r| r.matcher.matches(req))
    }
}

impl RouteMatch {
    pub fn matches(&self, req: &RequestHead<'_>) -> bool {
        let path_ok = match &self.path {
            PathMatch::Prefix(p) => starts_with(req.path, p, self.case_sensitive),
            PathMatch::Exact(p) => {
                if self.case_sensitive {
                    req.path == p
                } else {
                    req.path.eq_ignore_ascii_case(p)
                }
            }
            PathMatch::Regex(re) => re.is_match(req.path),
        };
        path_ok
            && (self.methods.is_empty() || self.methods.contains(req.method))
            && self.headers.iter().all(|h| h.matches(req))
    }
}

fn starts_with(s: &str, prefix: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        s.starts_with(prefix)
    } else {
        s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    }
}

impl HeaderMatcher {
    pub fn matches(&self, req: &RequestHead<'_>) -> bool {
        let value: Option<Cow<'_, str>> = match &self.name {
            HeaderSource::Method => Some(Cow::Borrowed(req.method.as_str())),
            HeaderSource::Path => Some(Cow::Borrowed(req.path)),
            HeaderSource::Authority => Some(Cow::Borrowed(req.authority)),
            HeaderSource::Scheme => Some(Cow::Borrowed(req.scheme)),
            HeaderSource::Header(name) => {
                let mut all = req.headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
                match (all.next(), all.next()) {
                    (None, _) => None,
                    (Some(one), None) => Some(Cow::Borrowed(one)),
                    // Envoy matches repeated headers against their comma-joined values;
                    // HTTP/2's split cookies it rejoins as one `; `-separated header first
                    // (RFC 9113 §8.2.3), so a cookie rule sees what an HTTP/1.1 client sent.
                    (Some(first), Some(second)) => {
                        let sep = if name == http::header::COOKIE { "; " } else { "," };
                        let mut joined = format!("{first}{sep}{second}");
                        for v in all {
                            joined.push_str(sep);
                            joined.push_str(v);
                        }
                        Some(Cow::Owned(joined))
                    }
                }
            }
        };
        let hit = match (&self.rule, value.as_deref()) {
            (ValueMatch::Present(want), v) => v.is_some() == *want,
            // Envoy: an absent header fails a value matcher even when inverted.
            (_, None) => return false,
            (ValueMatch::Exact(e), Some(v)) => v == e,
            (ValueMatch::Prefix(p), Some(v)) => v.starts_with(p.as_str()),
            (ValueMatch::Suffix(s), Some(v)) => v.ends_with(s.as_str()),
            (ValueMatch::Contains(c), Some(v)) => v.contains(c.as_str()),
            (ValueMatch::Regex(re), Some(v)) => re.is_match(v),
        };
        hit != self.invert_match
    }
}

impl crate::policy::Forward {
    /// The path-and-query to send upstream after `prefix_rewrite`/`regex_rewrite`,
    /// or `None` when the route leaves the path alone.
    pub fn rewrite_path(&self, matcher: &RouteMatch, path: &str, query: Option<&str>) -> Option<String> {
        let new_path = if let Some(replacement) = &self.prefix_rewrite {
            let matched_len = match &matcher.path {
                PathMatch::Prefix(p) => p.len(),
                PathMatch::Exact(_) | PathMatch::Regex(_) => path.len(),
            };
            format!("{replacement}{}", &path[matched_len.min(path.len())..])
        } else if let Some((re, substitution)) = &self.regex_rewrite {
            re.replace_all(path, substitution.as_str()).into_owned()
        } else {
            return None;
        };
        Some(with_query(new_path, query))
    }
}

fn with_query(mut path: String, query: Option<&str>) -> String {
    if path.is_empty() {
        path.push('/');
    }
    if let Some(q) = query {
        path.push('?');
        path.push_str(q);
    }
    path
}

impl Redirect {
    /// The `Location` for a request to `scheme://authority{path}?{query}` matched by `matcher`.
    pub fn location(&self, matcher: &RouteMatch, req: &RequestHead<'_>, query: Option<&str>) -> String {
        let scheme = self.scheme_redirect.as_deref().unwrap_or(req.scheme);
        let (req_host, req_port) = split_port(req.authority);
        // Envoy: when the scheme changes, the old scheme's default port is dropped
        // (http://a:80 → https://a); any other port is kept.
        let default_port = match req.scheme {
            "http" => "80",
            "https" => "443",
            _ => "",
        };
        let req_port = req_port.filter(|p| self.scheme_redirect.is_none() || *p != default_port);
        let (host, port) = match self.host_redirect.as_deref().map(split_port) {
            // A port written in host_redirect replaces the request's, never stacks on it.
            Some((host, Some(port))) => (host, Some(port)),
            Some((host, None)) => (host, req_port),
            None => (req_host, req_port),
        };
        let port: Option<Cow<'_, str>> = match self.port_redirect {
            Some(p) => Some(Cow::Owned(p.to_string())),
            None => port.map(Cow::Borrowed),
        };
        let path = match &self.path {
            RedirectPath::Keep => req.path.to_owned(),
            RedirectPath::PathRedirect(p) => p.clone(),
            RedirectPath::PrefixRewrite(replacement) => {
                let matched = match &matcher.path {
                    PathMatch::Prefix(p) => p.len().min(req.path.len()),
                    _ => req.path.len(),
                };
                format!("{replacement}{}", &req.path[matched..])
            }
        };
        let query = if self.strip_query { None } else { query };
        let path = with_query(path, query);
        match port {
            Some(p) => format!("{scheme}://{host}:{p}{path}"),
            None => format!("{scheme}://{host}{path}"),
        }
    }
}

mod hash;

pub use hash::request_hash;

#[cfg(test)]
mod tests;
