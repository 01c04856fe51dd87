//! RDS: a `RouteConfiguration` (or an HCM's inline one) → mesh's virtual hosts.
//!
//! Each virtual host keeps its name, domains, routes (in order) and `retry_policy`; each route its
//! name, match (see `route_match.rs`) and action: `route` (see `route_action.rs`), `redirect` or
//! `direct_response`. Refused: `non_forwarding_action` (mesh's routes always act), a route without
//! a match or an action, and `typed_per_filter_config` anywhere (per-route filter settings mesh
//! would not apply). Validation of the values (domains, regexes, durations, `retry_on`) is left to
//! mesh-core, which judges them as it judges the YAML file.

use super::{MapError, non_empty, route_action, route_match};
use crate::xds::api::envoy::config::route::v3::{Route, RouteConfiguration, VirtualHost, route};
use mesh_core::config;

/// An RDS `RouteConfiguration` → its virtual hosts.
pub fn route_configuration(r: &RouteConfiguration) -> Result<Vec<config::VirtualHost>, MapError> {
    let resource = if r.name.is_empty() {
        "<unnamed route configuration>"
    } else {
        r.name.as_str()
    };
    r.virtual_hosts
        .iter()
        .enumerate()
        .map(|(i, vh)| virtual_host(vh, resource, &format!("virtual_hosts[{i}]")))
        .collect()
}

fn virtual_host(vh: &VirtualHost, resource: &str, field: &str) -> Result<config::VirtualHost, MapError> {
    no_per_filter_config(vh.typed_per_filter_config.is_empty(), resource, field)?;
    let routes = vh
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| one_route(r, resource, &format!("{field}.routes[{i}]")))
        .collect::<Result<_, _>>()?;
    let retry_field = format!("{field}.retry_policy");
    Ok(config::VirtualHost {
        name: non_empty(&vh.name),
        domains: vh.domains.clone(),
        routes,
        retry_policy: vh
            .retry_policy
            .as_ref()
            .map(|p| route_action::retry_policy(p, resource, &retry_field))
            .transpose()?,
        ..config::VirtualHost::default()
    })
}

fn one_route(r: &Route, resource: &str, field: &str) -> Result<config::Route, MapError> {
    no_per_filter_config(r.typed_per_filter_config.is_empty(), resource, field)?;
    let matcher = r
        .r#match
        .as_ref()
        .ok_or_else(|| MapError::new(resource, format!("{field}.match"), "is required"))?;
    let mut out = config::Route {
        name: non_empty(&r.name),
        matcher: Some(route_match::route_match(
            matcher,
            resource,
            &format!("{field}.match"),
        )?),
        ..config::Route::default()
    };
    match &r.action {
        Some(route::Action::Route(a)) => {
            out.route = Some(route_action::route_action(
                a,
                resource,
                &format!("{field}.route"),
            )?);
        }
        Some(route::Action::Redirect(a)) => {
            out.redirect = Some(route_action::redirect(a, resource, &format!("{field}.redirect"))?);
        }
        Some(route::Action::DirectResponse(a)) => {
            let field = format!("{field}.direct_response");
            out.direct_response = Some(route_action::direct_response(a, resource, &field)?);
        }
        Some(route::Action::NonForwardingAction(_)) => {
            let reason = "is not supported: mesh routes forward, redirect or respond";
            return Err(MapError::new(
                resource,
                format!("{field}.non_forwarding_action"),
                reason,
            ));
        }
        None => {
            let reason = "needs route, redirect or direct_response";
            return Err(MapError::new(resource, format!("{field}.action"), reason));
        }
    }
    Ok(out)
}

pub(super) fn no_per_filter_config(empty: bool, resource: &str, field: &str) -> Result<(), MapError> {
    if empty {
        return Ok(());
    }
    let reason = "per-filter configuration is not supported: mesh has only the router";
    Err(MapError::new(
        resource,
        format!("{field}.typed_per_filter_config"),
        reason,
    ))
}
