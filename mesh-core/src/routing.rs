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
        let index = self
            .find(&host)
            .or_else(|| strip_port(&host).and_then(|h| self.find(h)));
        index.or(self.any).map(|i| &self.hosts[i])
    }

    fn find(&self, host: &str) -> Option<usize> {
        if let Some(&i) = self.exact.get(host) {
            return Some(i);
        }
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
        s.len() >= prefix.len()
            && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
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
                let mut all = req
                    .headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok());
                match (all.next(), all.next()) {
                    (None, _) => None,
                    (Some(one), None) => Some(Cow::Borrowed(one)),
                    // Envoy matches repeated headers against their comma-joined values.
                    (Some(first), Some(second)) => {
                        let mut joined = format!("{first},{second}");
                        for v in all {
                            joined.push(',');
                            joined.push_str(v);
                        }
                        Some(Cow::Owned(joined))
                    }
                }
            }
        };
        let hit = match (&self.rule, value.as_deref()) {
            (ValueMatch::Present(want), v) => v.is_some() == *want,
            (_, None) => false,
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
    pub fn rewrite_path(
        &self,
        matcher: &RouteMatch,
        path: &str,
        query: Option<&str>,
    ) -> Option<String> {
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
    pub fn location(
        &self,
        matcher: &RouteMatch,
        req: &RequestHead<'_>,
        query: Option<&str>,
    ) -> String {
        let scheme = self.scheme_redirect.as_deref().unwrap_or(req.scheme);
        let original_host = strip_port(req.authority).unwrap_or(req.authority);
        let original_port = (original_host.len() < req.authority.len())
            .then(|| &req.authority[original_host.len() + 1..]);
        let host = self.host_redirect.as_deref().unwrap_or(original_host);
        let port: Option<Cow<'_, str>> = match (self.port_redirect, original_port) {
            (Some(p), _) => Some(Cow::Owned(p.to_string())),
            // Envoy drops the original port when the scheme changes (http:80 → https:443).
            (None, Some(p)) if self.scheme_redirect.is_none() => Some(Cow::Borrowed(p)),
            _ => None,
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

#[cfg(test)]
mod tests;
