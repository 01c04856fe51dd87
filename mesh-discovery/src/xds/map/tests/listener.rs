//! LDS `Listener` → `config::Listener` + `ListenerRoutes`.

use super::{assert_shape, millis, plain_cluster, refused, socket, validate};
use crate::xds::api::envoy::config::core::v3::{
    AggregatedConfigSource, ConfigSource, HttpProtocolOptions, config_source,
};
use crate::xds::api::envoy::config::listener::v3::{ApiListener, Filter, FilterChain, Listener, filter};
use crate::xds::api::envoy::config::route::v3::{
    Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route, route_action, route_match,
};
use crate::xds::api::envoy::extensions::filters::http::router::v3::Router;
use crate::xds::api::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use crate::xds::api::type_url;
use crate::xds::map::{ListenerRoutes, listener};
use mesh_core::config;
use prost::Message;
use std::time::Duration;

fn any<M: Message>(url: &str, m: &M) -> prost_types::Any {
    prost_types::Any {
        type_url: url.to_owned(),
        value: m.encode_to_vec(),
    }
}

fn router() -> HttpFilter {
    HttpFilter {
        name: "envoy.filters.http.router".to_owned(),
        is_optional: false,
        config_type: Some(http_filter::ConfigType::TypedConfig(any(
            type_url::ROUTER,
            &Router::default(),
        ))),
    }
}

fn rds_hcm() -> HttpConnectionManager {
    HttpConnectionManager {
        stat_prefix: "ingress".to_owned(),
        http_filters: vec![router()],
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..ConfigSource::default()
            }),
            route_config_name: "local_routes".to_owned(),
        })),
        ..HttpConnectionManager::default()
    }
}

fn with_hcm(hcm: &HttpConnectionManager) -> Listener {
    Listener {
        name: "ingress".to_owned(),
        address: Some(socket("127.0.0.1", 0)),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".to_owned(),
                config_type: Some(filter::ConfigType::TypedConfig(any(
                    type_url::HTTP_CONNECTION_MANAGER,
                    hcm,
                ))),
            }],
            name: String::new(),
        }],
        ..Listener::default()
    }
}

fn inline_routes() -> RouteConfiguration {
    RouteConfiguration {
        name: "inline".to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: "all".to_owned(),
            domains: vec!["*".to_owned()],
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::Prefix("/".to_owned())),
                    ..RouteMatch::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster("backend".to_owned())),
                    ..RouteAction::default()
                })),
                ..Route::default()
            }],
            ..VirtualHost::default()
        }],
    }
}

#[test]
fn rds_listener_maps_address_hcm_options_and_the_route_name() {
    let hcm = HttpConnectionManager {
        max_request_headers_kb: Some(30),
        request_headers_timeout: Some(millis(5000)),
        common_http_protocol_options: Some(HttpProtocolOptions {
            idle_timeout: Some(millis(300_000)),
            max_headers_count: Some(50),
            ..HttpProtocolOptions::default()
        }),
        ..rds_hcm()
    };
    let mapped = listener(&with_hcm(&hcm));
    let expected = config::Listener {
        name: Some("ingress".to_owned()),
        address: Some("127.0.0.1:0".to_owned()),
        protocol: Some(config::ListenerProtocol::Http),
        max_request_headers_kb: Some(30),
        max_headers_count: Some(50),
        request_headers_timeout: Some("5s".to_owned()),
        idle_timeout: Some("5m".to_owned()),
        ..config::Listener::default()
    };
    let Ok((shape, routes)) = mapped else {
        panic!("refused: {mapped:?}");
    };
    assert_shape(&shape, &expected);
    assert_eq!(routes, ListenerRoutes::Rds("local_routes".to_owned()));

    // The xDS client fills in the virtual hosts RDS delivers, then validates.
    let mut shape = shape;
    shape.virtual_hosts = crate::xds::map::route_configuration(&inline_routes()).unwrap_or_default();
    let b = config::Bootstrap {
        listeners: vec![shape],
        clusters: vec![plain_cluster("backend")],
        ..config::Bootstrap::default()
    };
    let p = validate(&b);
    let Some(mesh_core::policy::ListenerKind::Http(http)) = p.listeners.first().map(|l| &l.kind) else {
        panic!("not an http listener");
    };
    let o = &http.options;
    let got = (
        o.max_request_headers_bytes,
        o.max_headers_count,
        o.request_headers_timeout,
        o.idle_timeout,
    );
    assert_eq!(
        got,
        (
            30 * 1024,
            50,
            Some(Duration::from_secs(5)),
            Some(Duration::from_secs(300))
        )
    );
    assert_eq!(http.virtual_hosts.iter().count(), 1);
}

#[test]
fn inline_route_config_is_mapped_in_place() {
    let hcm = HttpConnectionManager {
        route_specifier: Some(http_connection_manager::RouteSpecifier::RouteConfig(
            inline_routes(),
        )),
        ..rds_hcm()
    };
    let mapped = listener(&with_hcm(&hcm));
    let Ok((_, ListenerRoutes::Inline(hosts))) = mapped else {
        panic!("not inline: {mapped:?}");
    };
    let direct = crate::xds::map::route_configuration(&inline_routes());
    assert_shape(&Ok::<_, ()>(hosts), &direct.map_err(|_| ()));
}

#[test]
fn listeners_mesh_cannot_serve_are_refused_with_the_field() {
    let hcm_field = "filter_chains[0].filters[0].typed_config";
    let mut api = with_hcm(&rds_hcm());
    api.api_listener = Some(ApiListener::default());
    refused(listener(&api), "ingress", "api_listener");

    let mut two_chains = with_hcm(&rds_hcm());
    two_chains.filter_chains.push(FilterChain::default());
    refused(listener(&two_chains), "ingress", "filter_chains");

    let mut tcp_proxy = with_hcm(&rds_hcm());
    if let Some(Some(filter::ConfigType::TypedConfig(a))) = tcp_proxy
        .filter_chains
        .first_mut()
        .and_then(|c| c.filters.first_mut())
        .map(|f| f.config_type.as_mut())
    {
        a.type_url = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy".to_owned();
    }
    let reason = refused(listener(&tcp_proxy), "ingress", hcm_field);
    assert!(reason.contains("TcpProxy"), "{reason}");

    let mut garbage = with_hcm(&rds_hcm());
    if let Some(Some(filter::ConfigType::TypedConfig(a))) = garbage
        .filter_chains
        .first_mut()
        .and_then(|c| c.filters.first_mut())
        .map(|f| f.config_type.as_mut())
    {
        a.value = vec![0xff, 0xff, 0xff];
    }
    refused(listener(&garbage), "ingress", hcm_field);

    let fault = HttpFilter {
        name: "envoy.filters.http.fault".to_owned(),
        ..HttpFilter::default()
    };
    let extra = HttpConnectionManager {
        http_filters: vec![fault.clone(), router()],
        ..rds_hcm()
    };
    refused(
        listener(&with_hcm(&extra)),
        "ingress",
        &format!("{hcm_field}.http_filters[0]"),
    );
    let router_first = HttpConnectionManager {
        http_filters: vec![router(), fault],
        ..rds_hcm()
    };
    refused(
        listener(&with_hcm(&router_first)),
        "ingress",
        &format!("{hcm_field}.http_filters[0]"),
    );
    let none = HttpConnectionManager {
        http_filters: vec![],
        ..rds_hcm()
    };
    refused(
        listener(&with_hcm(&none)),
        "ingress",
        &format!("{hcm_field}.http_filters"),
    );

    let no_routes = HttpConnectionManager {
        route_specifier: None,
        ..rds_hcm()
    };
    refused(
        listener(&with_hcm(&no_routes)),
        "ingress",
        &format!("{hcm_field}.route_specifier"),
    );
    let http3 = HttpConnectionManager {
        codec_type: http_connection_manager::CodecType::Http3 as i32,
        ..rds_hcm()
    };
    refused(
        listener(&with_hcm(&http3)),
        "ingress",
        &format!("{hcm_field}.codec_type"),
    );

    let mut bad_route = inline_routes();
    if let Some(vh) = bad_route.virtual_hosts.first_mut() {
        vh.routes.iter_mut().for_each(|r| r.action = None);
    }
    let inline_bad = HttpConnectionManager {
        route_specifier: Some(http_connection_manager::RouteSpecifier::RouteConfig(bad_route)),
        ..rds_hcm()
    };
    let field = format!("{hcm_field}.route_config.virtual_hosts[0].routes[0].action");
    refused(listener(&with_hcm(&inline_bad)), "ingress", &field);

    let mut no_address = with_hcm(&rds_hcm());
    no_address.address = None;
    refused(listener(&no_address), "ingress", "address.socket_address");
}
