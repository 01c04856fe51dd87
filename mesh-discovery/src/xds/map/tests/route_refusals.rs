//! RDS fields mesh cannot express: each refusal names the route configuration and the xDS field.

use super::refused;
use super::route::{config_of, header, prefix, to};
use crate::xds::api::envoy::config::core::v3::{DataSource, data_source};
use crate::xds::api::envoy::config::route::v3::{
    DirectResponseAction, NonForwardingAction, RetryPolicy, Route, RouteAction, RouteMatch, WeightedCluster,
    header_matcher, route, route_action, weighted_cluster,
};
use crate::xds::api::envoy::r#type::matcher::v3::{StringMatcher, string_matcher};
use crate::xds::map::route_configuration;

#[test]
fn routes_mesh_cannot_express_are_refused_with_the_field() {
    let r0 = "virtual_hosts[0].routes[0]";
    let with_action = |a: route::Action| Route {
        r#match: prefix("/"),
        action: Some(a),
        ..Route::default()
    };
    let cases: Vec<(Route, String)> = vec![
        (
            with_action(route::Action::Route(RouteAction {
                cluster_specifier: Some(route_action::ClusterSpecifier::ClusterHeader(
                    "x-cluster".to_owned(),
                )),
                ..RouteAction::default()
            })),
            format!("{r0}.route.cluster_header"),
        ),
        (
            with_action(route::Action::Route(RouteAction::default())),
            format!("{r0}.route.cluster_specifier"),
        ),
        (
            with_action(route::Action::NonForwardingAction(NonForwardingAction {})),
            format!("{r0}.non_forwarding_action"),
        ),
        (
            Route {
                r#match: prefix("/"),
                ..Route::default()
            },
            format!("{r0}.action"),
        ),
        (
            Route {
                action: to("backend"),
                ..Route::default()
            },
            format!("{r0}.match"),
        ),
        (
            Route {
                r#match: Some(RouteMatch::default()),
                action: to("backend"),
                ..Route::default()
            },
            format!("{r0}.match.path_specifier"),
        ),
        (
            Route {
                typed_per_filter_config: [(
                    "envoy.filters.http.fault".to_owned(),
                    prost_types::Any::default(),
                )]
                .into(),
                ..with_action(route::Action::Route(RouteAction::default()))
            },
            format!("{r0}.typed_per_filter_config"),
        ),
        (
            with_action(route::Action::Route(RouteAction {
                cluster_specifier: Some(route_action::ClusterSpecifier::WeightedClusters(
                    WeightedCluster {
                        clusters: vec![weighted_cluster::ClusterWeight {
                            name: "a".to_owned(),
                            weight: Some(10),
                            ..weighted_cluster::ClusterWeight::default()
                        }],
                        total_weight: Some(100),
                    },
                )),
                ..RouteAction::default()
            })),
            format!("{r0}.route.weighted_clusters.total_weight"),
        ),
        (
            with_action(route::Action::DirectResponse(DirectResponseAction {
                status: 200,
                body: Some(DataSource {
                    specifier: Some(data_source::Specifier::Filename("/etc/passwd".to_owned())),
                }),
            })),
            format!("{r0}.direct_response.body"),
        ),
        (
            with_action(route::Action::Route(RouteAction {
                cluster_specifier: Some(route_action::ClusterSpecifier::Cluster("a".to_owned())),
                retry_policy: Some(RetryPolicy {
                    retriable_status_codes: vec![70_000],
                    ..RetryPolicy::default()
                }),
                ..RouteAction::default()
            })),
            format!("{r0}.route.retry_policy.retriable_status_codes[0]"),
        ),
        (
            Route {
                r#match: Some(RouteMatch {
                    headers: vec![header(
                        "x",
                        Some(header_matcher::HeaderMatchSpecifier::StringMatch(StringMatcher {
                            ignore_case: true,
                            match_pattern: Some(string_matcher::MatchPattern::Exact("a".to_owned())),
                        })),
                        false,
                    )],
                    ..prefix("/").unwrap_or_default()
                }),
                action: to("backend"),
                ..Route::default()
            },
            format!("{r0}.match.headers[0].string_match.ignore_case"),
        ),
    ];
    for (route, field) in cases {
        refused(
            route_configuration(&config_of(vec![route])),
            "local_routes",
            &field,
        );
    }
    let mut per_vhost = config_of(vec![]);
    if let Some(vh) = per_vhost.virtual_hosts.first_mut() {
        vh.typed_per_filter_config = [("x".to_owned(), prost_types::Any::default())].into();
    }
    refused(
        route_configuration(&per_vhost),
        "local_routes",
        "virtual_hosts[0].typed_per_filter_config",
    );
}
