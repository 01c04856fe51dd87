//! LDS: a `Listener` → an http `config::Listener` plus where its routes come from.
//!
//! Taken: a TCP socket address and exactly one filter chain whose one network filter is the
//! HttpConnectionManager (its `typed_config` decoded with prost), whose HTTP filters end with the
//! router and hold nothing else. From the HCM: `max_request_headers_kb`, `request_headers_timeout`
//! and `common_http_protocol_options` (`idle_timeout`, `max_headers_count`); routes inline
//! (`route_config`, mapped by [`super::route_configuration`]) or by RDS name over ADS. The
//! listener's `virtual_hosts` are left empty: the caller fills them from [`ListenerRoutes`].
//! Refused: gRPC's `api_listener` (the proxy does not serve it), `default_filter_chain`, several
//! filter chains or network filters, any HTTP filter but the router, HTTP/3, scoped routes, and HCM
//! protocol options mesh's listeners lack. The codec (AUTO, HTTP1, HTTP2) needs no key: mesh's
//! listeners detect HTTP/1.1 and h2c on one port.

use super::{MapError, address, cluster::ads_source, non_empty, opt_duration};
use crate::xds::api::envoy::config::listener::v3::{Listener, filter};
use crate::xds::api::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, http_connection_manager, http_filter,
};
use crate::xds::api::type_url;
use mesh_core::config;
use prost::Message;

/// Where a listener's routes come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerRoutes {
    /// The HCM's own `route_config`, already mapped.
    Inline(Vec<config::VirtualHost>),
    /// The `RouteConfiguration` of this name, to be fetched over RDS.
    Rds(String),
}

/// An LDS `Listener` → an http listener shape (no virtual hosts) and where its routes come from.
pub fn listener(l: &Listener) -> Result<(config::Listener, ListenerRoutes), MapError> {
    let name = l.name.as_str();
    if name.is_empty() {
        return Err(MapError::new("<unnamed listener>", "name", "is required"));
    }
    if l.api_listener.is_some() {
        return Err(MapError::new(
            name,
            "api_listener",
            "API listeners (gRPC's) are not served by the proxy",
        ));
    }
    if l.default_filter_chain.is_some() {
        return Err(MapError::new(
            name,
            "default_filter_chain",
            "is not supported; use one filter chain",
        ));
    }
    let address = address::ip_port(l.address.as_ref(), name, "address")?;
    let hcm = http_connection_manager_of(l, name)?;
    let mut out = config::Listener {
        name: Some(name.to_owned()),
        address: Some(address),
        protocol: Some(config::ListenerProtocol::Http),
        ..config::Listener::default()
    };
    options(&hcm, &mut out, name, HCM)?;
    http_filters(&hcm.http_filters, name, &format!("{HCM}.http_filters"))?;
    Ok((out, routes(&hcm, name)?))
}

/// Where the HCM sits in a listener mesh takes.
const HCM: &str = "filter_chains[0].filters[0].typed_config";

/// The one HttpConnectionManager of the listener's one filter chain.
fn http_connection_manager_of(l: &Listener, name: &str) -> Result<HttpConnectionManager, MapError> {
    let [chain] = l.filter_chains.as_slice() else {
        return Err(MapError::new(
            name,
            "filter_chains",
            "needs exactly one filter chain",
        ));
    };
    let [filter] = chain.filters.as_slice() else {
        let reason = "needs exactly one network filter, the HttpConnectionManager";
        return Err(MapError::new(name, "filter_chains[0].filters", reason));
    };
    match &filter.config_type {
        Some(filter::ConfigType::TypedConfig(any)) if any.type_url == type_url::HTTP_CONNECTION_MANAGER => {
            HttpConnectionManager::decode(any.value.as_slice())
                .map_err(|e| MapError::new(name, HCM, format!("is not a valid HttpConnectionManager: {e}")))
        }
        Some(filter::ConfigType::TypedConfig(any)) => {
            let reason = format!(
                "{} is not supported; only the HttpConnectionManager",
                any.type_url
            );
            Err(MapError::new(name, HCM, reason))
        }
        None => Err(MapError::new(name, HCM, "is required (an HttpConnectionManager)")),
    }
}

fn routes(hcm: &HttpConnectionManager, name: &str) -> Result<ListenerRoutes, MapError> {
    match &hcm.route_specifier {
        Some(http_connection_manager::RouteSpecifier::Rds(rds)) => {
            let field = format!("{HCM}.rds");
            if let Some(source) = &rds.config_source {
                ads_source(source, name, &format!("{field}.config_source"))?;
            }
            let route_name = non_empty(&rds.route_config_name)
                .ok_or_else(|| MapError::new(name, format!("{field}.route_config_name"), "is required"))?;
            Ok(ListenerRoutes::Rds(route_name))
        }
        // Errors inside the inline table are the listener's, at the table's place in it.
        Some(http_connection_manager::RouteSpecifier::RouteConfig(rc)) => super::route_configuration(rc)
            .map(ListenerRoutes::Inline)
            .map_err(|e| MapError {
                resource: name.to_owned(),
                field: format!("{HCM}.route_config.{}", e.field),
                reason: e.reason,
            }),
        None => {
            let reason = "needs rds or route_config (scoped routes are not supported)";
            Err(MapError::new(name, format!("{HCM}.route_specifier"), reason))
        }
    }
}

fn options(
    hcm: &HttpConnectionManager,
    out: &mut config::Listener,
    name: &str,
    field: &str,
) -> Result<(), MapError> {
    use http_connection_manager::CodecType;
    if !matches!(
        CodecType::try_from(hcm.codec_type),
        Ok(CodecType::Auto | CodecType::Http1 | CodecType::Http2)
    ) {
        return Err(MapError::new(
            name,
            format!("{field}.codec_type"),
            "only AUTO, HTTP1 and HTTP2 are supported",
        ));
    }
    out.max_request_headers_kb = hcm.max_request_headers_kb;
    let timeout_field = format!("{field}.request_headers_timeout");
    out.request_headers_timeout = opt_duration(hcm.request_headers_timeout.as_ref(), name, &timeout_field)?;
    if let Some(http) = &hcm.common_http_protocol_options {
        let field = format!("{field}.common_http_protocol_options");
        let unsupported = [
            ("max_connection_duration", http.max_connection_duration.is_some()),
            ("max_stream_duration", http.max_stream_duration.is_some()),
            (
                "max_requests_per_connection",
                http.max_requests_per_connection.is_some(),
            ),
        ];
        super::refuse_set(name, &field, &unsupported, "has no mesh equivalent for listeners")?;
        out.idle_timeout = opt_duration(http.idle_timeout.as_ref(), name, &format!("{field}.idle_timeout"))?;
        out.max_headers_count = http.max_headers_count;
    }
    Ok(())
}

/// The router, last and alone: mesh's listeners route and forward; other HTTP filters are
/// configured through mesh's own keys (routes' `fault`, `local_rate_limit`, ...), not by name here.
fn http_filters(filters: &[HttpFilter], name: &str, field: &str) -> Result<(), MapError> {
    let Some((last, others)) = filters.split_last() else {
        return Err(MapError::new(name, field, "needs the router filter"));
    };
    if let Some((i, f)) = others.iter().enumerate().next() {
        let reason = format!("{:?} is not supported; only the router", f.name);
        return Err(MapError::new(name, format!("{field}[{i}]"), reason));
    }
    let is_router = match &last.config_type {
        Some(http_filter::ConfigType::TypedConfig(any)) => any.type_url == type_url::ROUTER,
        None => last.name == "envoy.filters.http.router",
    };
    if !is_router {
        let reason = format!("{:?} is not the router, which must be the last filter", last.name);
        return Err(MapError::new(name, format!("{field}[{}]", others.len()), reason));
    }
    Ok(())
}
