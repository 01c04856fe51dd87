//! Building [`super::route`] types from the file shape, collecting every mistake.

use super::errors::{Issues, Path};
use super::route::*;
use super::route_match_build::route_match;
use super::{ClusterIndex, headers};
use crate::config;
use http::StatusCode;
use std::collections::HashSet;

pub(crate) fn build_virtual_hosts(
    raw: &[config::VirtualHost],
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
) -> VirtualHosts {
    let mut out = VirtualHosts::default();
    let mut names = HashSet::new();
    for (i, vh) in raw.iter().enumerate() {
        let p = path.idx(i);
        let Some(host) = virtual_host(vh, &p, clusters, issues) else {
            continue;
        };
        if !names.insert(host.name.clone()) {
            issues.push(
                &p.key("name"),
                format!("{:?} names another virtual host too", host.name),
            );
        }
        let index = out.hosts.len();
        for (j, domain) in host.domains.iter().enumerate() {
            let dp = p.key("domains").idx(j);
            let taken = if domain == "*" {
                out.any.replace(index).is_some()
            } else if let Some(suffix) = domain.strip_prefix('*') {
                push_unique(&mut out.suffixes, suffix, index)
            } else if let Some(prefix) = domain.strip_suffix('*') {
                push_unique(&mut out.prefixes, prefix, index)
            } else {
                out.exact.insert(domain.clone(), index).is_some()
            };
            if taken {
                issues.push(
                    &dp,
                    format!("{domain:?} is claimed by another virtual host of this listener"),
                );
            }
        }
        out.hosts.push(host);
    }
    // Longest wildcard wins, so search longest first.
    out.suffixes.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    out.prefixes.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    out
}

fn push_unique(list: &mut Vec<(String, usize)>, key: &str, index: usize) -> bool {
    let taken = list.iter().any(|(k, _)| k == key);
    if !taken {
        list.push((key.to_owned(), index));
    }
    taken
}

fn domain(d: &str) -> Result<String, String> {
    let lower = d.to_ascii_lowercase();
    let body = lower.trim_start_matches('*').trim_end_matches('*');
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']' | '_');
    if d.is_empty() || (lower != "*" && (body.is_empty() || !body.chars().all(valid))) {
        return Err(format!(
            "{d:?} is not a domain (use \"example.com\", \"*.example.com\", \"api.*\" or \"*\")"
        ));
    }
    if lower != "*" && lower.starts_with('*') && lower.ends_with('*') {
        return Err(format!("{d:?} has wildcards at both ends; use one"));
    }
    Ok(lower)
}

fn virtual_host(
    raw: &config::VirtualHost,
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
) -> Option<VirtualHost> {
    let before = issues.0.len();
    let name = issues.required(&raw.name, &path.key("name")).cloned();
    if raw.domains.is_empty() {
        issues.push(
            &path.key("domains"),
            "needs at least one domain (\"*\" matches any)",
        );
    }
    let domains: Vec<String> = raw
        .domains
        .iter()
        .enumerate()
        .filter_map(|(i, d)| issues.check(&path.key("domains").idx(i), domain(d)))
        .collect();
    // Built before the routes, which inherit it when they have no policy of their own.
    let retry_policy = raw
        .retry_policy
        .as_ref()
        .and_then(|r| super::retry::build(r, &path.key("retry_policy"), issues));
    let routes: Vec<Route> = raw
        .routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            route(
                r,
                &path.key("routes").idx(i),
                clusters,
                issues,
                retry_policy.as_ref(),
            )
        })
        .collect();
    let local_rate_limit = raw
        .local_rate_limit
        .as_ref()
        .and_then(|b| super::rate_limit::token_bucket(b, &path.key("local_rate_limit"), issues));
    let (request_headers, response_headers) = header_rules(
        (&raw.request_headers_to_add, &raw.request_headers_to_remove),
        (&raw.response_headers_to_add, &raw.response_headers_to_remove),
        path,
        issues,
    );
    (issues.0.len() == before).then_some(())?;
    Some(VirtualHost {
        name: name?,
        domains,
        routes,
        request_headers,
        response_headers,
        local_rate_limit,
    })
}

type Rules<'a> = (&'a [config::HeaderValueOption], &'a [String]);

fn header_rules(
    req: Rules<'_>,
    resp: Rules<'_>,
    path: &Path,
    issues: &mut Issues,
) -> (headers::HeaderMutations, headers::HeaderMutations) {
    (
        headers::build(
            req.0,
            req.1,
            path,
            "request_headers_to_add",
            "request_headers_to_remove",
            issues,
        ),
        headers::build(
            resp.0,
            resp.1,
            path,
            "response_headers_to_add",
            "response_headers_to_remove",
            issues,
        ),
    )
}

fn route(
    raw: &config::Route,
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
    vhost_retry: Option<&super::RetryPolicy>,
) -> Option<Route> {
    let before = issues.0.len();
    let matcher = issues
        .required(&raw.matcher, &path.key("match"))
        .and_then(|m| route_match(m, &path.key("match"), issues));
    let action = match (&raw.route, &raw.redirect, &raw.direct_response) {
        (Some(r), None, None) => {
            super::route_action::forward(r, &path.key("route"), clusters, issues, &matcher, vhost_retry)
        }
        (None, Some(r), None) => super::route_action::redirect(r, &path.key("redirect"), issues),
        (None, None, Some(d)) => {
            super::route_action::direct_response(d, &path.key("direct_response"), issues)
        }
        _ => {
            issues.push(path, "needs exactly one of route, redirect, direct_response");
            None
        }
    };
    let (request_headers, response_headers) = header_rules(
        (&raw.request_headers_to_add, &raw.request_headers_to_remove),
        (&raw.response_headers_to_add, &raw.response_headers_to_remove),
        path,
        issues,
    );
    let fault = raw
        .fault
        .as_ref()
        .and_then(|f| super::fault::build(f, &path.key("fault"), issues));
    let local_rate_limit = raw
        .local_rate_limit
        .as_ref()
        .and_then(|b| super::rate_limit::token_bucket(b, &path.key("local_rate_limit"), issues));
    (issues.0.len() == before).then_some(())?;
    Some(Route {
        name: raw.name.clone(),
        matcher: matcher?,
        action: action?,
        request_headers,
        response_headers,
        fault,
        local_rate_limit,
    })
}

pub(crate) fn status(code: u16, allowed: &[u16], path: &Path, issues: &mut Issues) -> Option<StatusCode> {
    if !allowed.is_empty() && !allowed.contains(&code) {
        let list: Vec<String> = allowed.iter().map(u16::to_string).collect();
        issues.push(path, format!("{code} is not one of {}", list.join(", ")));
        return None;
    }
    let s = StatusCode::from_u16(code)
        .ok()
        .filter(|s| (200..=599).contains(&s.as_u16()));
    if s.is_none() {
        issues.push(path, format!("{code} is not a status in 200..=599"));
    }
    s
}
