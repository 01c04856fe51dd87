//! Building route matches (path, headers, methods) from the file shape.

use super::errors::{Issues, Path};
use super::route::*;
use crate::config;
use http::{HeaderName, Method};
use regex::Regex;

/// Compiles a user regex so it must match the whole input, as Envoy's `safe_regex` does.
pub(crate) fn full_regex(re: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{re})$")).map_err(|e| format!("{re:?} is not a valid regex: {e}"))
}

pub(super) fn route_match(raw: &config::RouteMatch, path: &Path, issues: &mut Issues) -> Option<RouteMatch> {
    let before = issues.0.len();
    let case_sensitive = raw.case_sensitive.unwrap_or(true);
    let path_match = match (&raw.prefix, &raw.path, &raw.safe_regex) {
        (Some(p), None, None) => Some(PathMatch::Prefix(p.clone())),
        (None, Some(p), None) => Some(PathMatch::Exact(p.clone())),
        (None, None, Some(re)) => issues
            .check(&path.key("safe_regex"), full_regex(re))
            .map(PathMatch::Regex),
        _ => {
            issues.push(path, "needs exactly one of prefix, path, safe_regex");
            None
        }
    };
    if let Some(PathMatch::Prefix(p) | PathMatch::Exact(p)) = &path_match
        && !p.starts_with('/')
    {
        let key = if raw.prefix.is_some() { "prefix" } else { "path" };
        issues.push(&path.key(key), format!("{p:?} must start with '/'"));
    }
    let headers = raw
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| header_matcher(h, &path.key("headers").idx(i), issues))
        .collect();
    let methods = raw
        .methods
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let parsed = Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("{m:?} is not an HTTP method"));
            issues.check(&path.key("methods").idx(i), parsed)
        })
        .collect();
    (issues.0.len() == before).then_some(())?;
    Some(RouteMatch {
        path: path_match?,
        case_sensitive,
        headers,
        methods,
    })
}

fn header_matcher(raw: &config::HeaderMatcher, path: &Path, issues: &mut Issues) -> Option<HeaderMatcher> {
    let name = issues.required(&raw.name, &path.key("name")).and_then(|n| {
        let source = match n.to_ascii_lowercase().as_str() {
            ":method" => Ok(HeaderSource::Method),
            ":path" => Ok(HeaderSource::Path),
            ":authority" | "host" => Ok(HeaderSource::Authority),
            ":scheme" => Ok(HeaderSource::Scheme),
            other => HeaderName::from_bytes(other.as_bytes())
                .map(HeaderSource::Header)
                .map_err(|_| format!("{n:?} is not a header name")),
        };
        issues.check(&path.key("name"), source)
    });
    let mut rules = Vec::new();
    if let Some(v) = &raw.exact {
        rules.push(Some(ValueMatch::Exact(v.clone())));
    }
    if let Some(v) = &raw.prefix {
        rules.push(Some(ValueMatch::Prefix(v.clone())));
    }
    if let Some(v) = &raw.suffix {
        rules.push(Some(ValueMatch::Suffix(v.clone())));
    }
    if let Some(v) = &raw.contains {
        rules.push(Some(ValueMatch::Contains(v.clone())));
    }
    if let Some(re) = &raw.safe_regex {
        rules.push(
            issues
                .check(&path.key("safe_regex"), full_regex(re))
                .map(ValueMatch::Regex),
        );
    }
    if let Some(p) = raw.present {
        rules.push(Some(ValueMatch::Present(p)));
    }
    let rule = match rules.len() {
        0 => Some(ValueMatch::Present(true)),
        1 => rules.pop().flatten(),
        _ => {
            issues.push(
                path,
                "takes at most one of exact, prefix, suffix, contains, safe_regex, present",
            );
            None
        }
    };
    Some(HeaderMatcher {
        name: name?,
        rule: rule?,
        invert_match: raw.invert_match,
    })
}
