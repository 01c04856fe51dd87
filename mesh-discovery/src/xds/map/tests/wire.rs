//! Resources encoded by Envoy's own protos (`fixtures/gen.py`, PyPI `xds-protos`), decoded with
//! mesh's trimmed protos and mapped: a wrong field number or type in `mesh-discovery/proto/`
//! would lose or garble a field here.

use crate::xds::api::envoy::config::cluster::v3::Cluster;
use crate::xds::api::envoy::config::listener::v3::Listener;
use crate::xds::map::{ListenerRoutes, cluster, listener};
use mesh_core::config;
use prost::Message;

#[test]
fn envoys_strict_dns_cluster_keeps_its_dns_knobs_and_outlier_percentages() {
    let decoded = Cluster::decode(&include_bytes!("fixtures/cluster.pb")[..]).map_err(|e| e.to_string());
    let mapped = decoded.and_then(|c| cluster(&c).map_err(|e| e.to_string()));
    let Ok(c) = mapped else {
        panic!("{mapped:?}");
    };
    let s = |v: &str| Some(v.to_owned());
    let dns = config::DnsDiscovery {
        hostname: s("backend.example.com"),
        port: Some(8080),
        lookup_family: s("v4_only"),
        respect_dns_ttl: Some(true),
        refresh_rate: s("10s"),
        ..config::DnsDiscovery::default()
    };
    assert_eq!(c.discovery.and_then(|d| d.dns), Some(dns));
    assert_eq!((c.lb_policy, c.connect_timeout), (s("maglev"), s("1s500ms")));
    let od = c.outlier_detection.unwrap_or_default();
    let local_origin = (
        od.enforcing_consecutive_local_origin_failure,
        od.enforcing_local_origin_success_rate,
        od.enforcing_failure_percentage_local_origin,
    );
    assert_eq!(local_origin, (Some(60), Some(70), Some(80)));
}

#[test]
fn envoys_listener_keeps_hcm_options_redirects_direct_responses_and_host_rewrites() {
    let decoded = Listener::decode(&include_bytes!("fixtures/listener.pb")[..]).map_err(|e| e.to_string());
    let mapped = decoded.and_then(|l| listener(&l).map_err(|e| e.to_string()));
    let Ok((l, ListenerRoutes::Inline(hosts))) = mapped else {
        panic!("{mapped:?}");
    };
    let s = |v: &str| Some(v.to_owned());
    let options = (
        l.max_request_headers_kb,
        l.max_headers_count,
        l.request_headers_timeout,
        l.idle_timeout,
    );
    assert_eq!(options, (Some(30), Some(50), s("5s"), s("5m")));
    let routes = hosts.into_iter().next().map(|h| h.routes).unwrap_or_default();
    let redirect = config::Redirect {
        https_redirect: true,
        host_redirect: s("new.example.com"),
        port_redirect: Some(8443),
        prefix_rewrite: s("/new"),
        response_code: Some(308),
        strip_query: true,
        ..config::Redirect::default()
    };
    let direct = config::DirectResponse {
        status: Some(204),
        body: s("ok"),
    };
    let got: Vec<_> = routes
        .iter()
        .map(|r| {
            (
                r.redirect.clone(),
                r.direct_response.clone(),
                r.route.as_ref().and_then(|a| a.host_rewrite_literal.clone()),
            )
        })
        .collect();
    let want = vec![
        (Some(redirect), None, None),
        (None, Some(direct), None),
        (None, None, s("backend.internal")),
    ];
    assert_eq!(got, want);
}
