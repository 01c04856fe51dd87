//! A route's `match` → `config::RouteMatch`: `prefix`, `path` or `safe_regex`, `case_sensitive`,
//! and header matchers (exact, prefix, suffix, contains, regex, present; a matcher with none is a
//! presence match in both Envoy and mesh; `invert_match`). A `string_match` is taken in the same
//! forms unless it asks for `ignore_case`, which mesh's header matchers lack.

use super::MapError;
use crate::xds::api::envoy::config::route::v3::{HeaderMatcher, RouteMatch, header_matcher, route_match};
use crate::xds::api::envoy::r#type::matcher::v3::string_matcher;
use mesh_core::config;

pub(super) fn route_match(
    m: &RouteMatch,
    resource: &str,
    field: &str,
) -> Result<config::RouteMatch, MapError> {
    let mut out = config::RouteMatch {
        case_sensitive: m.case_sensitive,
        ..config::RouteMatch::default()
    };
    match &m.path_specifier {
        Some(route_match::PathSpecifier::Prefix(p)) => out.prefix = Some(p.clone()),
        Some(route_match::PathSpecifier::Path(p)) => out.path = Some(p.clone()),
        Some(route_match::PathSpecifier::SafeRegex(r)) => out.safe_regex = Some(r.regex.clone()),
        None => {
            let reason = "needs prefix, path or safe_regex";
            return Err(MapError::new(resource, format!("{field}.path_specifier"), reason));
        }
    }
    out.headers = m
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| header(h, resource, &format!("{field}.headers[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(out)
}

fn header(h: &HeaderMatcher, resource: &str, field: &str) -> Result<config::HeaderMatcher, MapError> {
    use header_matcher::HeaderMatchSpecifier as S;
    let mut out = config::HeaderMatcher {
        name: Some(h.name.clone()),
        invert_match: h.invert_match,
        ..config::HeaderMatcher::default()
    };
    match &h.header_match_specifier {
        None => {}
        Some(S::ExactMatch(s)) => out.exact = Some(s.clone()),
        Some(S::PresentMatch(p)) => out.present = Some(*p),
        Some(S::PrefixMatch(s)) => out.prefix = Some(s.clone()),
        Some(S::SuffixMatch(s)) => out.suffix = Some(s.clone()),
        Some(S::ContainsMatch(s)) => out.contains = Some(s.clone()),
        Some(S::SafeRegexMatch(r)) => out.safe_regex = Some(r.regex.clone()),
        Some(S::StringMatch(sm)) => {
            let field = format!("{field}.string_match");
            if sm.ignore_case {
                let reason = "case-insensitive header matching is not supported";
                return Err(MapError::new(resource, format!("{field}.ignore_case"), reason));
            }
            match &sm.match_pattern {
                Some(string_matcher::MatchPattern::Exact(s)) => out.exact = Some(s.clone()),
                Some(string_matcher::MatchPattern::Prefix(s)) => out.prefix = Some(s.clone()),
                Some(string_matcher::MatchPattern::Suffix(s)) => out.suffix = Some(s.clone()),
                Some(string_matcher::MatchPattern::Contains(s)) => out.contains = Some(s.clone()),
                Some(string_matcher::MatchPattern::SafeRegex(r)) => out.safe_regex = Some(r.regex.clone()),
                None => {
                    return Err(MapError::new(
                        resource,
                        format!("{field}.match_pattern"),
                        "is required",
                    ));
                }
            }
        }
    }
    Ok(out)
}
