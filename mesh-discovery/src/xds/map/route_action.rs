//! A route's actions → `config::RouteAction`, `config::Redirect`, `config::DirectResponse`, and
//! `retry_policy` (of routes and virtual hosts) → `config::RetryPolicy`.
//!
//! Forwarding: `cluster` or `weighted_clusters` (a `total_weight` must equal the sum, as Envoy
//! requires; mesh's weights are relative), `timeout`, `idle_timeout`, `prefix_rewrite`,
//! `host_rewrite_literal`, `retry_policy` (`retry_on`, `num_retries`, `per_try_timeout`,
//! `retriable_status_codes`, `retry_back_off`). `cluster_header` is refused: mesh resolves cluster
//! references when the configuration is validated, not per request. Direct responses take an
//! inline body only (a `filename` or `environment_variable` would be read on the proxy's host).

use super::route::no_per_filter_config;
use super::{MapError, non_empty, opt_duration};
use crate::xds::api::envoy::config::core::v3::data_source;
use crate::xds::api::envoy::config::route::v3::{
    DirectResponseAction, RedirectAction, RetryPolicy, RouteAction, WeightedCluster, redirect_action,
    route_action,
};
use mesh_core::config;

pub(super) fn route_action(
    a: &RouteAction,
    resource: &str,
    field: &str,
) -> Result<config::RouteAction, MapError> {
    let mut out = config::RouteAction {
        prefix_rewrite: non_empty(&a.prefix_rewrite),
        timeout: opt_duration(a.timeout.as_ref(), resource, &format!("{field}.timeout"))?,
        idle_timeout: opt_duration(
            a.idle_timeout.as_ref(),
            resource,
            &format!("{field}.idle_timeout"),
        )?,
        ..config::RouteAction::default()
    };
    match &a.cluster_specifier {
        Some(route_action::ClusterSpecifier::Cluster(c)) => out.cluster = Some(c.clone()),
        Some(route_action::ClusterSpecifier::WeightedClusters(w)) => {
            out.weighted_clusters = Some(weighted(w, resource, &format!("{field}.weighted_clusters"))?);
        }
        Some(route_action::ClusterSpecifier::ClusterHeader(_)) => {
            let reason = "is not supported: name the cluster or weighted_clusters";
            return Err(MapError::new(resource, format!("{field}.cluster_header"), reason));
        }
        None => {
            let reason = "needs cluster or weighted_clusters";
            return Err(MapError::new(
                resource,
                format!("{field}.cluster_specifier"),
                reason,
            ));
        }
    }
    if let Some(route_action::HostRewriteSpecifier::HostRewriteLiteral(h)) = &a.host_rewrite_specifier {
        out.host_rewrite_literal = non_empty(h);
    }
    if let Some(p) = &a.retry_policy {
        out.retry_policy = Some(retry_policy(p, resource, &format!("{field}.retry_policy"))?);
    }
    Ok(out)
}

fn weighted(
    w: &WeightedCluster,
    resource: &str,
    field: &str,
) -> Result<Vec<config::WeightedCluster>, MapError> {
    let mut sum = 0u64;
    let mut out = Vec::with_capacity(w.clusters.len());
    for (i, c) in w.clusters.iter().enumerate() {
        no_per_filter_config(
            c.typed_per_filter_config.is_empty(),
            resource,
            &format!("{field}.clusters[{i}]"),
        )?;
        sum += u64::from(c.weight.unwrap_or(0));
        out.push(config::WeightedCluster {
            name: Some(c.name.clone()),
            weight: c.weight,
        });
    }
    if let Some(total) = w.total_weight.filter(|t| u64::from(*t) != sum) {
        let reason = format!("is {total} but the clusters' weights add up to {sum}");
        return Err(MapError::new(resource, format!("{field}.total_weight"), reason));
    }
    Ok(out)
}

pub(super) fn retry_policy(
    p: &RetryPolicy,
    resource: &str,
    field: &str,
) -> Result<config::RetryPolicy, MapError> {
    let retriable_status_codes = p
        .retriable_status_codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            u16::try_from(*code).map_err(|_| {
                MapError::new(
                    resource,
                    format!("{field}.retriable_status_codes[{i}]"),
                    format!("{code} is not a status"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let retry_back_off = match &p.retry_back_off {
        Some(b) => Some(config::RetryBackOff {
            base_interval: opt_duration(
                b.base_interval.as_ref(),
                resource,
                &format!("{field}.retry_back_off.base_interval"),
            )?,
            max_interval: opt_duration(
                b.max_interval.as_ref(),
                resource,
                &format!("{field}.retry_back_off.max_interval"),
            )?,
        }),
        None => None,
    };
    Ok(config::RetryPolicy {
        retry_on: non_empty(&p.retry_on),
        num_retries: p.num_retries,
        per_try_timeout: opt_duration(
            p.per_try_timeout.as_ref(),
            resource,
            &format!("{field}.per_try_timeout"),
        )?,
        retry_back_off,
        retriable_status_codes,
        ..config::RetryPolicy::default()
    })
}

pub(super) fn redirect(
    r: &RedirectAction,
    resource: &str,
    field: &str,
) -> Result<config::Redirect, MapError> {
    use redirect_action::{PathRewriteSpecifier, RedirectResponseCode, SchemeRewriteSpecifier};
    let port_redirect = match r.port_redirect {
        0 => None,
        p => Some(u16::try_from(p).map_err(|_| {
            MapError::new(
                resource,
                format!("{field}.port_redirect"),
                format!("{p} is not a port"),
            )
        })?),
    };
    let response_code = match RedirectResponseCode::try_from(r.response_code) {
        Ok(RedirectResponseCode::MovedPermanently) => 301,
        Ok(RedirectResponseCode::Found) => 302,
        Ok(RedirectResponseCode::SeeOther) => 303,
        Ok(RedirectResponseCode::TemporaryRedirect) => 307,
        Ok(RedirectResponseCode::PermanentRedirect) => 308,
        Err(_) => {
            let reason = format!("{} is not a known redirect code", r.response_code);
            return Err(MapError::new(resource, format!("{field}.response_code"), reason));
        }
    };
    let mut out = config::Redirect {
        host_redirect: non_empty(&r.host_redirect),
        port_redirect,
        response_code: Some(response_code),
        strip_query: r.strip_query,
        ..config::Redirect::default()
    };
    match &r.scheme_rewrite_specifier {
        Some(SchemeRewriteSpecifier::HttpsRedirect(https)) => out.https_redirect = *https,
        Some(SchemeRewriteSpecifier::SchemeRedirect(s)) => out.scheme_redirect = non_empty(s),
        None => {}
    }
    match &r.path_rewrite_specifier {
        Some(PathRewriteSpecifier::PathRedirect(p)) => out.path_redirect = Some(p.clone()),
        Some(PathRewriteSpecifier::PrefixRewrite(p)) => out.prefix_rewrite = Some(p.clone()),
        None => {}
    }
    Ok(out)
}

pub(super) fn direct_response(
    d: &DirectResponseAction,
    resource: &str,
    field: &str,
) -> Result<config::DirectResponse, MapError> {
    let status = u16::try_from(d.status).map_err(|_| {
        MapError::new(
            resource,
            format!("{field}.status"),
            format!("{} is not a status", d.status),
        )
    })?;
    let body = match d.body.as_ref().and_then(|b| b.specifier.as_ref()) {
        None => None,
        Some(data_source::Specifier::InlineString(s)) => Some(s.clone()),
        Some(data_source::Specifier::InlineBytes(b)) => Some(String::from_utf8(b.clone()).map_err(|_| {
            MapError::new(
                resource,
                format!("{field}.body.inline_bytes"),
                "is not UTF-8 (mesh bodies are text)",
            )
        })?),
        Some(data_source::Specifier::Filename(_) | data_source::Specifier::EnvironmentVariable(_)) => {
            let reason = "only inline_string and inline_bytes bodies are supported";
            return Err(MapError::new(resource, format!("{field}.body"), reason));
        }
    };
    Ok(config::DirectResponse {
        status: Some(status),
        body,
    })
}
