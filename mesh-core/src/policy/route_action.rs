//! Building route actions: forward to clusters, redirect, direct response.

use super::ClusterIndex;
use super::errors::{Issues, Path};
use super::route::*;
use super::route_build::status;
use crate::config;
use bytes::Bytes;
use http::StatusCode;

pub(crate) fn forward(
    raw: &config::RouteAction,
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
    matcher: &Option<RouteMatch>,
    vhost_retry: Option<&super::RetryPolicy>,
) -> Option<Action> {
    let before = issues.0.len();
    let specifier = match (&raw.cluster, &raw.weighted_clusters) {
        (Some(c), None) => clusters
            .resolve(c, &path.key("cluster"), issues)
            .map(ClusterSpecifier::Cluster),
        (None, Some(list)) => weighted(list, &path.key("weighted_clusters"), clusters, issues),
        _ => {
            issues.push(path, "needs exactly one of cluster, weighted_clusters");
            None
        }
    };
    let timeout = issues.timeout(&raw.timeout, &path.key("timeout"), DEFAULT_ROUTE_TIMEOUT);
    if raw.prefix_rewrite.is_some() && raw.regex_rewrite.is_some() {
        issues.push(path, "takes at most one of prefix_rewrite, regex_rewrite");
    }
    if raw.prefix_rewrite.is_some()
        && matches!(
            matcher,
            Some(RouteMatch {
                path: PathMatch::Regex(_),
                ..
            })
        )
    {
        issues.push(
            &path.key("prefix_rewrite"),
            "needs a prefix or path match (use regex_rewrite with safe_regex)",
        );
    }
    let regex_rewrite = raw.regex_rewrite.as_ref().and_then(|r| {
        let p = path.key("regex_rewrite");
        let pattern = issues.required(&r.pattern, &p.key("pattern"))?;
        let substitution = envoy_substitution(issues.required(&r.substitution, &p.key("substitution"))?);
        let re = issues.check(
            &p.key("pattern"),
            regex::Regex::new(pattern).map_err(|e| format!("{pattern:?} is not a valid regex: {e}")),
        )?;
        Some((re, substitution))
    });
    let host_rewrite_literal = raw
        .host_rewrite_literal
        .as_ref()
        .and_then(|h| authority(h, &path.key("host_rewrite_literal"), issues));
    let hash_policy = super::lb::hash_policies(&raw.hash_policy, &path.key("hash_policy"), issues);
    let retry_policy = match &raw.retry_policy {
        Some(r) => super::retry::build(r, &path.key("retry_policy"), issues),
        None => vhost_retry.cloned(),
    };
    let idle_timeout = raw.idle_timeout.as_ref().and_then(|t| {
        let d = issues.check(&path.key("idle_timeout"), crate::duration::parse(t))?;
        Some(d).filter(|d| !d.is_zero())
    });
    let request_mirror_policies = super::mirror::build(
        &raw.request_mirror_policies,
        &path.key("request_mirror_policies"),
        clusters,
        issues,
    );
    (issues.0.len() == before).then_some(())?;
    Some(Action::Route(Forward {
        clusters: specifier?,
        timeout,
        prefix_rewrite: raw.prefix_rewrite.clone(),
        regex_rewrite,
        host_rewrite_literal,
        hash_policy,
        retry_policy,
        per_request_buffer_limit_bytes: raw
            .per_request_buffer_limit_bytes
            .map_or(DEFAULT_PER_REQUEST_BUFFER_LIMIT_BYTES, u64::from),
        idle_timeout,
        priority: raw.priority.map(super::RoutingPriority::from).unwrap_or_default(),
        request_mirror_policies,
    }))
}

fn weighted(
    list: &[config::WeightedCluster],
    path: &Path,
    clusters: &ClusterIndex<'_>,
    issues: &mut Issues,
) -> Option<ClusterSpecifier> {
    if list.is_empty() {
        issues.push(path, "needs at least one cluster");
        return None;
    }
    let mut entries = Vec::with_capacity(list.len());
    let mut cumulative = Vec::with_capacity(list.len());
    let mut total = 0u64;
    let mut ok = true;
    for (i, w) in list.iter().enumerate() {
        let p = path.idx(i);
        let cluster = issues
            .required(&w.name, &p.key("name"))
            .and_then(|n| clusters.resolve(n, &p.key("name"), issues));
        let weight = issues.required(&w.weight, &p.key("weight")).copied();
        match (cluster, weight) {
            (Some(c), Some(weight)) => {
                total += u64::from(weight);
                cumulative.push(total);
                entries.push((c, weight));
            }
            _ => ok = false,
        }
    }
    if ok && total == 0 {
        issues.push(path, "weights add up to 0; at least one must be positive");
        return None;
    }
    ok.then_some(ClusterSpecifier::WeightedClusters(WeightedClusters {
        entries,
        cumulative,
        total,
    }))
}

pub(crate) fn redirect(raw: &config::Redirect, path: &Path, issues: &mut Issues) -> Option<Action> {
    let before = issues.0.len();
    let scheme_redirect = if raw.https_redirect {
        if raw.scheme_redirect.is_some() {
            issues.push(path, "takes at most one of https_redirect, scheme_redirect");
        }
        Some("https".to_owned())
    } else {
        raw.scheme_redirect.clone()
    };
    if let Some(s) = &scheme_redirect {
        let valid = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !valid {
            issues.push(&path.key("scheme_redirect"), format!("{s:?} is not a URI scheme"));
        }
    }
    if let Some(h) = &raw.host_redirect
        && (h.is_empty() || h.contains(['/', ' ', '?', '#']))
    {
        issues.push(&path.key("host_redirect"), format!("{h:?} is not a host"));
    }
    let redirect_path = match (&raw.path_redirect, &raw.prefix_rewrite) {
        (None, None) => RedirectPath::Keep,
        (Some(p), None) => RedirectPath::PathRedirect(p.clone()),
        (None, Some(p)) => RedirectPath::PrefixRewrite(p.clone()),
        (Some(_), Some(_)) => {
            issues.push(path, "takes at most one of path_redirect, prefix_rewrite");
            RedirectPath::Keep
        }
    };
    if let RedirectPath::PathRedirect(p) = &redirect_path
        && !p.starts_with('/')
    {
        issues.push(&path.key("path_redirect"), format!("{p:?} must start with '/'"));
    }
    let code = raw.response_code.unwrap_or(301);
    let response_code = status(
        code,
        &[301, 302, 303, 307, 308],
        &path.key("response_code"),
        issues,
    );
    (issues.0.len() == before).then_some(())?;
    Some(Action::Redirect(Redirect {
        scheme_redirect,
        host_redirect: raw.host_redirect.clone(),
        port_redirect: raw.port_redirect,
        path: redirect_path,
        response_code: response_code?,
        strip_query: raw.strip_query,
    }))
}

pub(crate) fn direct_response(
    raw: &config::DirectResponse,
    path: &Path,
    issues: &mut Issues,
) -> Option<Action> {
    let code = issues.required(&raw.status, &path.key("status"))?;
    let status: StatusCode = status(*code, &[], &path.key("status"), issues)?;
    let body = raw.body.clone().map(Bytes::from).unwrap_or_default();
    Some(Action::DirectResponse(DirectResponse { status, body }))
}

/// A host (optionally with a port) usable as both `Host` and HTTP/2's `:authority`.
fn authority(h: &str, path: &Path, issues: &mut Issues) -> Option<http::uri::Authority> {
    let parsed = http::uri::Authority::try_from(h)
        .ok()
        .filter(|a| !a.as_str().is_empty() && !a.as_str().contains('@'));
    if parsed.is_none() {
        issues.push(path, format!("{h:?} is not a host[:port]"));
    }
    parsed
}

/// Envoy's (RE2's) substitutions write groups as `\\1`; the regex crate as `${1}`.
/// `$` is literal in Envoy, so it is escaped as `$$`.
fn envoy_substitution(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                chars.next();
            }
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn envoy_substitutions_become_regex_crate_ones() {
        assert_eq!(super::envoy_substitution(r"/v2/\1/x\\y"), r"/v2/${1}/x\y");
        assert_eq!(super::envoy_substitution("/cost$5"), "/cost$$5");
    }
}
