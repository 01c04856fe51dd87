//! RDS `RouteConfiguration` → virtual hosts.

use super::{assert_shape, millis, plain_cluster, validate};
use crate::xds::api::envoy::config::core::v3::{DataSource, data_source};
use crate::xds::api::envoy::config::route::v3::{
    DirectResponseAction, HeaderMatcher, RedirectAction, RetryPolicy, Route, RouteAction, RouteConfiguration,
    RouteMatch, VirtualHost, WeightedCluster, header_matcher, redirect_action, retry_policy, route,
    route_action, route_match, weighted_cluster,
};
use crate::xds::api::envoy::r#type::matcher::v3::{RegexMatcher, StringMatcher, string_matcher};
use crate::xds::map::route_configuration;
use mesh_core::config;
use serde_json::json;

pub(super) fn prefix(p: &str) -> Option<RouteMatch> {
    Some(RouteMatch {
        path_specifier: Some(route_match::PathSpecifier::Prefix(p.to_owned())),
        ..RouteMatch::default()
    })
}

pub(super) fn to(cluster: &str) -> Option<route::Action> {
    Some(route::Action::Route(RouteAction {
        cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(cluster.to_owned())),
        ..RouteAction::default()
    }))
}

pub(super) fn header(
    name: &str,
    m: Option<header_matcher::HeaderMatchSpecifier>,
    invert: bool,
) -> HeaderMatcher {
    HeaderMatcher {
        name: name.to_owned(),
        invert_match: invert,
        header_match_specifier: m,
    }
}

pub(super) fn config_of(routes: Vec<Route>) -> RouteConfiguration {
    RouteConfiguration {
        name: "local_routes".to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: "api".to_owned(),
            domains: vec!["api.example.com".to_owned()],
            routes,
            ..VirtualHost::default()
        }],
    }
}

fn full() -> RouteConfiguration {
    use header_matcher::HeaderMatchSpecifier as H;
    let forward = Route {
        name: "v1".to_owned(),
        r#match: Some(RouteMatch {
            case_sensitive: Some(false),
            headers: vec![
                header("x-env", Some(H::ExactMatch("canary".to_owned())), false),
                header("x-debug", Some(H::PresentMatch(true)), false),
                header(
                    "x-id",
                    Some(H::SafeRegexMatch(RegexMatcher {
                        regex: "[0-9]+".to_owned(),
                    })),
                    false,
                ),
                header("user-agent", Some(H::SuffixMatch("bot".to_owned())), true),
                header("x-any", None, false),
            ],
            path_specifier: Some(route_match::PathSpecifier::Prefix("/v1".to_owned())),
        }),
        action: Some(route::Action::Route(RouteAction {
            prefix_rewrite: "/".to_owned(),
            host_rewrite_specifier: Some(route_action::HostRewriteSpecifier::HostRewriteLiteral(
                "backend.internal".to_owned(),
            )),
            timeout: Some(millis(3000)),
            idle_timeout: Some(millis(30_000)),
            retry_policy: Some(RetryPolicy {
                retry_on: "5xx,reset,retriable-status-codes".to_owned(),
                num_retries: Some(2),
                per_try_timeout: Some(millis(500)),
                retriable_status_codes: vec![409],
                retry_back_off: Some(retry_policy::RetryBackOff {
                    base_interval: Some(millis(10)),
                    max_interval: Some(millis(100)),
                }),
            }),
            cluster_specifier: Some(route_action::ClusterSpecifier::Cluster("backend".to_owned())),
        })),
        ..Route::default()
    };
    let split = Route {
        r#match: Some(RouteMatch {
            path_specifier: Some(route_match::PathSpecifier::Path("/split".to_owned())),
            ..RouteMatch::default()
        }),
        action: Some(route::Action::Route(RouteAction {
            cluster_specifier: Some(route_action::ClusterSpecifier::WeightedClusters(
                WeightedCluster {
                    clusters: vec![
                        weighted_cluster::ClusterWeight {
                            name: "backend".to_owned(),
                            weight: Some(80),
                            ..weighted_cluster::ClusterWeight::default()
                        },
                        weighted_cluster::ClusterWeight {
                            name: "canary".to_owned(),
                            weight: Some(20),
                            ..weighted_cluster::ClusterWeight::default()
                        },
                    ],
                    total_weight: Some(100),
                },
            )),
            ..RouteAction::default()
        })),
        ..Route::default()
    };
    let redirect = Route {
        r#match: Some(RouteMatch {
            path_specifier: Some(route_match::PathSpecifier::SafeRegex(RegexMatcher {
                regex: "/old/[0-9]+".to_owned(),
            })),
            ..RouteMatch::default()
        }),
        action: Some(route::Action::Redirect(RedirectAction {
            host_redirect: "new.example.com".to_owned(),
            port_redirect: 8443,
            response_code: redirect_action::RedirectResponseCode::Found as i32,
            strip_query: true,
            scheme_rewrite_specifier: Some(redirect_action::SchemeRewriteSpecifier::HttpsRedirect(true)),
            path_rewrite_specifier: Some(redirect_action::PathRewriteSpecifier::PathRedirect(
                "/new".to_owned(),
            )),
        })),
        ..Route::default()
    };
    let direct = Route {
        r#match: prefix("/health"),
        action: Some(route::Action::DirectResponse(DirectResponseAction {
            status: 200,
            body: Some(DataSource {
                specifier: Some(data_source::Specifier::InlineString("ok".to_owned())),
            }),
        })),
        ..Route::default()
    };
    let mut rc = config_of(vec![forward, split, redirect, direct]);
    if let Some(vh) = rc.virtual_hosts.first_mut() {
        vh.retry_policy = Some(RetryPolicy {
            retry_on: "connect-failure".to_owned(),
            ..RetryPolicy::default()
        });
    }
    rc
}

fn hm(name: &str, invert: bool, set: impl FnOnce(&mut config::HeaderMatcher)) -> config::HeaderMatcher {
    let mut h = config::HeaderMatcher {
        name: Some(name.to_owned()),
        invert_match: invert,
        ..config::HeaderMatcher::default()
    };
    set(&mut h);
    h
}

fn expected_full() -> Vec<config::VirtualHost> {
    let s = |v: &str| Some(v.to_owned());
    let forward = config::Route {
        name: s("v1"),
        matcher: Some(config::RouteMatch {
            prefix: s("/v1"),
            case_sensitive: Some(false),
            headers: vec![
                hm("x-env", false, |h| h.exact = s("canary")),
                hm("x-debug", false, |h| h.present = Some(true)),
                hm("x-id", false, |h| h.safe_regex = s("[0-9]+")),
                hm("user-agent", true, |h| h.suffix = s("bot")),
                hm("x-any", false, |_| {}),
            ],
            ..config::RouteMatch::default()
        }),
        route: Some(config::RouteAction {
            cluster: s("backend"),
            timeout: s("3s"),
            idle_timeout: s("30s"),
            prefix_rewrite: s("/"),
            host_rewrite_literal: s("backend.internal"),
            retry_policy: Some(config::RetryPolicy {
                retry_on: s("5xx,reset,retriable-status-codes"),
                num_retries: Some(2),
                per_try_timeout: s("500ms"),
                retriable_status_codes: vec![409],
                retry_back_off: Some(config::RetryBackOff {
                    base_interval: s("10ms"),
                    max_interval: s("100ms"),
                }),
                ..config::RetryPolicy::default()
            }),
            ..config::RouteAction::default()
        }),
        ..config::Route::default()
    };
    let split = config::Route {
        matcher: Some(config::RouteMatch {
            path: s("/split"),
            ..config::RouteMatch::default()
        }),
        route: Some(config::RouteAction {
            weighted_clusters: Some(vec![
                config::WeightedCluster {
                    name: s("backend"),
                    weight: Some(80),
                },
                config::WeightedCluster {
                    name: s("canary"),
                    weight: Some(20),
                },
            ]),
            ..config::RouteAction::default()
        }),
        ..config::Route::default()
    };
    let redirect = config::Route {
        matcher: Some(config::RouteMatch {
            safe_regex: s("/old/[0-9]+"),
            ..config::RouteMatch::default()
        }),
        redirect: Some(config::Redirect {
            https_redirect: true,
            host_redirect: s("new.example.com"),
            port_redirect: Some(8443),
            path_redirect: s("/new"),
            response_code: Some(302),
            strip_query: true,
            ..config::Redirect::default()
        }),
        ..config::Route::default()
    };
    let direct = config::Route {
        matcher: Some(config::RouteMatch {
            prefix: s("/health"),
            ..config::RouteMatch::default()
        }),
        direct_response: Some(config::DirectResponse {
            status: Some(200),
            body: s("ok"),
        }),
        ..config::Route::default()
    };
    vec![config::VirtualHost {
        name: s("api"),
        domains: vec!["api.example.com".to_owned()],
        routes: vec![forward, split, redirect, direct],
        retry_policy: Some(config::RetryPolicy {
            retry_on: s("connect-failure"),
            ..config::RetryPolicy::default()
        }),
        ..config::VirtualHost::default()
    }]
}

#[test]
fn route_configuration_maps_matches_and_every_action() {
    let mapped = route_configuration(&full());
    let Ok(hosts) = mapped else {
        panic!("refused: {mapped:?}");
    };
    assert_shape(&hosts, &expected_full());

    let b = config::Bootstrap {
        listeners: vec![config::Listener {
            name: Some("ingress".to_owned()),
            address: Some("127.0.0.1:0".to_owned()),
            virtual_hosts: hosts,
            ..config::Listener::default()
        }],
        clusters: vec![plain_cluster("backend"), plain_cluster("canary")],
        ..config::Bootstrap::default()
    };
    let p = validate(&b);
    let dump = serde_json::to_value(&p.listeners).unwrap_or_default();
    let routes = &dump[0]["virtual_hosts"][0]["routes"];
    let forward = &routes[0]["action"]["route"];
    assert_eq!(forward["timeout"], json!("3s"), "{forward}");
    assert_eq!(forward["idle_timeout"], json!("30s"));
    assert_eq!(forward["prefix_rewrite"], json!("/"));
    assert_eq!(forward["host_rewrite_literal"], json!("backend.internal"));
    assert_eq!(forward["retry_policy"]["num_retries"], json!(2));
    assert_eq!(forward["retry_policy"]["per_try_timeout"], json!("500ms"));
    assert_eq!(forward["retry_policy"]["retriable_status_codes"], json!([409]));
    assert_eq!(routes[0]["match"]["case_sensitive"], json!(false));
    assert_eq!(routes[0]["match"]["headers"].as_array().map(Vec::len), Some(5));
    let split = &routes[1]["action"]["route"];
    assert_eq!(
        split["clusters"]["weighted_clusters"]["total"],
        json!(100),
        "{split}"
    );
    // A route without its own retry policy takes its virtual host's.
    assert_eq!(split["retry_policy"]["retry_on"], json!("connect-failure"));
    let redirect = &routes[2]["action"]["redirect"];
    assert_eq!(
        (&redirect["response_code"], &redirect["scheme_redirect"]),
        (&json!(302), &json!("https"))
    );
    assert_eq!(
        routes[3]["action"]["direct_response"]["status"],
        json!(200),
        "{}",
        routes[3]
    );
}

#[test]
fn string_matchers_map_to_the_same_header_rules() {
    use string_matcher::MatchPattern as P;
    let cases = [
        (P::Exact("a".to_owned()), json!({ "exact": "a" })),
        (P::Prefix("a".to_owned()), json!({ "prefix": "a" })),
        (P::Suffix("a".to_owned()), json!({ "suffix": "a" })),
        (P::Contains("a".to_owned()), json!({ "contains": "a" })),
        (
            P::SafeRegex(RegexMatcher {
                regex: "a+".to_owned(),
            }),
            json!({ "safe_regex": "a+" }),
        ),
    ];
    for (pattern, want) in cases {
        let sm = StringMatcher {
            ignore_case: false,
            match_pattern: Some(pattern),
        };
        let route = Route {
            r#match: Some(RouteMatch {
                headers: vec![header(
                    "x",
                    Some(header_matcher::HeaderMatchSpecifier::StringMatch(sm)),
                    false,
                )],
                ..prefix("/").unwrap_or_default()
            }),
            action: to("backend"),
            ..Route::default()
        };
        let mapped = route_configuration(&config_of(vec![route]));
        let h =
            mapped.map(|v| serde_json::to_value(v[0].routes[0].matcher.as_ref().map(|m| &m.headers[0])).ok());
        let Ok(Some(mut got)) = h else {
            panic!("refused: {h:?}");
        };
        // Compare only the rule: drop the keys every matcher has.
        if let Some(o) = got.as_object_mut() {
            o.retain(|_, v| !v.is_null());
            o.remove("name");
            o.remove("invert_match");
        }
        assert_eq!(got, want);
    }
}
