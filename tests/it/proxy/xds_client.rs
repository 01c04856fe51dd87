//! The proxy driven by a management server over ADS (the acceptance): a bootstrap
//! that names only the node, the admin port and the server; the server pushes a cluster, its
//! endpoints, routes and a listener, and the proxy serves them; then a bad resource (NACKed,
//! the old configuration keeps serving), then removals.

use mesh_discovery::xds::api::envoy::config::cluster::v3::Cluster;
use mesh_discovery::xds::api::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, EdsClusterConfig, LbPolicy,
};
use mesh_discovery::xds::api::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ConfigSource, SocketAddress, address, config_source, socket_address,
};
use mesh_discovery::xds::api::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use mesh_discovery::xds::api::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use mesh_discovery::xds::api::envoy::config::route::v3::{
    Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route, route_action, route_match,
};
use mesh_discovery::xds::api::envoy::extensions::filters::http::router::v3::Router;
use mesh_discovery::xds::api::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use mesh_discovery::xds::api::type_url;
use mesh_discovery::xds::{AdsHandle, AdsServer, SnapshotCache};
use mesh_tests::backend::Http;
use mesh_tests::client;
use mesh_tests::proxy::{self, admin_get};
use mesh_tests::{eventually, within};
use prost::Message;
use prost_types::Any;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

const T: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(10);

fn any(type_url: &str, message: &impl Message) -> Any {
    Any {
        type_url: type_url.to_owned(),
        value: message.encode_to_vec(),
    }
}

fn socket(addr: SocketAddr) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: addr.ip().to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(addr.port()))),
            ..SocketAddress::default()
        })),
    }
}

fn eds_cluster(name: &str, lb_policy: LbPolicy) -> Cluster {
    Cluster {
        name: name.to_owned(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Eds.into())),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..ConfigSource::default()
            }),
            service_name: String::new(),
        }),
        connect_timeout: Some(prost_types::Duration { seconds: 1, nanos: 0 }),
        lb_policy: lb_policy.into(),
        ..Cluster::default()
    }
}

fn assignment(name: &str, hosts: &[SocketAddr]) -> ClusterLoadAssignment {
    let lb_endpoints = hosts
        .iter()
        .map(|h| LbEndpoint {
            host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                address: Some(socket(*h)),
                ..Endpoint::default()
            })),
            ..LbEndpoint::default()
        })
        .collect();
    ClusterLoadAssignment {
        cluster_name: name.to_owned(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints,
            load_balancing_weight: Some(1),
            ..LocalityLbEndpoints::default()
        }],
        ..ClusterLoadAssignment::default()
    }
}

fn routes(name: &str, prefix: &str, cluster: &str) -> RouteConfiguration {
    RouteConfiguration {
        name: name.to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: "all".to_owned(),
            domains: vec!["*".to_owned()],
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::Prefix(prefix.to_owned())),
                    ..RouteMatch::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(cluster.to_owned())),
                    ..RouteAction::default()
                })),
                ..Route::default()
            }],
            ..VirtualHost::default()
        }],
    }
}

/// A listener on 127.0.0.1:0 whose routes come from RDS `route_config`.
fn listener(name: &str, route_config: &str) -> Listener {
    let router = HttpFilter {
        name: "envoy.filters.http.router".to_owned(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(
            type_url::ROUTER,
            &Router::default(),
        ))),
        ..HttpFilter::default()
    };
    let manager = HttpConnectionManager {
        stat_prefix: name.to_owned(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..ConfigSource::default()
            }),
            route_config_name: route_config.to_owned(),
        })),
        http_filters: vec![router],
        ..HttpConnectionManager::default()
    };
    Listener {
        name: name.to_owned(),
        address: Some(socket("127.0.0.1:0".parse().unwrap())),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".to_owned(),
                config_type: Some(filter::ConfigType::TypedConfig(any(
                    type_url::HTTP_CONNECTION_MANAGER,
                    &manager,
                ))),
            }],
            ..FilterChain::default()
        }],
        ..Listener::default()
    }
}

/// What the management server serves, by type URL and name.
#[derive(Default, Clone)]
struct World {
    clusters: Vec<Cluster>,
    assignments: Vec<ClusterLoadAssignment>,
    routes: Vec<RouteConfiguration>,
    listeners: Vec<Listener>,
}

impl World {
    fn publish(&self, cache: &SnapshotCache) {
        let mut by_type: BTreeMap<String, BTreeMap<String, Any>> = BTreeMap::new();
        let mut put = |url: &str, name: &str, a: Any| {
            by_type
                .entry(url.to_owned())
                .or_default()
                .insert(name.to_owned(), a);
        };
        for c in &self.clusters {
            put(type_url::CLUSTER, &c.name, any(type_url::CLUSTER, c));
        }
        for a in &self.assignments {
            put(
                type_url::CLUSTER_LOAD_ASSIGNMENT,
                &a.cluster_name,
                any(type_url::CLUSTER_LOAD_ASSIGNMENT, a),
            );
        }
        for r in &self.routes {
            put(
                type_url::ROUTE_CONFIGURATION,
                &r.name,
                any(type_url::ROUTE_CONFIGURATION, r),
            );
        }
        for l in &self.listeners {
            put(type_url::LISTENER, &l.name, any(type_url::LISTENER, l));
        }
        for url in [
            type_url::CLUSTER,
            type_url::CLUSTER_LOAD_ASSIGNMENT,
            type_url::ROUTE_CONFIGURATION,
            type_url::LISTENER,
        ] {
            by_type.entry(url.to_owned()).or_default();
        }
        cache.publish(by_type);
    }
}

async fn control_plane() -> (SnapshotCache, AdsHandle) {
    let cache = SnapshotCache::new();
    let server = AdsServer::new(&cache)
        .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    (cache, server)
}

async fn backend_of(addr: SocketAddr, path: &str) -> Option<String> {
    let reply = client::get(addr, "site.test", path).await.ok()?;
    (reply.status == 200).then(|| reply.header("x-backend").unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_management_server_drives_listeners_routes_clusters_and_endpoints() {
    within(T, async {
        let (a, b) = (Http::start("a").await, Http::start("b").await);
        let (cache, server) = control_plane().await;
        let bootstrap = format!(
            "admin: {{ address: 127.0.0.1:0 }}\nnode: {{ id: proxy-1, cluster: edge }}\n\
             dynamic_resources: {{ ads: {{ address: \"{}\", initial_fetch_timeout: 5s }} }}\n",
            server.local_addr()
        );
        let proxy = proxy::start(&bootstrap).await;

        let mut world = World {
            clusters: vec![eds_cluster("web", LbPolicy::RoundRobin)],
            assignments: vec![assignment("web", &[a.addr()])],
            routes: vec![routes("main", "/", "web")],
            listeners: vec![listener("ingress", "main")],
        };
        world.publish(&cache);
        eventually(
            WAIT,
            "the pushed listener serves the pushed route to a",
            || async {
                match proxy.listener_addr("ingress") {
                    Some(at) => backend_of(at, "/x").await.as_deref() == Some("a"),
                    None => false,
                }
            },
        )
        .await;
        let ingress = proxy.listener_addr("ingress").unwrap();

        // Endpoints move without a new configuration.
        let before = proxy.config_version();
        world.assignments = vec![assignment("web", &[b.addr()])];
        world.publish(&cache);
        eventually(WAIT, "the new endpoint serves", || async {
            backend_of(ingress, "/x").await.as_deref() == Some("b")
        })
        .await;
        assert_eq!(proxy.config_version(), before, "an EDS update is not a reload");

        // A cluster mesh cannot take is NACKed whole; the clusters in force keep serving.
        let nacks = server.stats().nacks();
        let mut bad = eds_cluster("bad", LbPolicy::RoundRobin);
        bad.cluster_discovery_type = Some(ClusterDiscoveryType::Type(DiscoveryType::LogicalDns.into()));
        world.clusters.push(bad);
        world.publish(&cache);
        eventually(WAIT, "the bad cluster is NACKed", || async {
            server.stats().nacks() > nacks
        })
        .await;
        assert_eq!(backend_of(ingress, "/x").await.as_deref(), Some("b"));
        assert_eq!(proxy.config_version(), before);
        world.clusters.pop();

        // Routes naming a cluster that does not exist (yet) wait; the routes in force serve.
        world.routes = vec![routes("main", "/", "nowhere")];
        world.publish(&cache);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(backend_of(ingress, "/x").await.as_deref(), Some("b"));

        // A second cluster and a route to it, then the listener goes, then the clusters.
        world.clusters.push(eds_cluster("api", LbPolicy::LeastRequest));
        world.assignments.push(assignment("api", &[a.addr()]));
        let mut main = routes("main", "/", "web");
        main.virtual_hosts[0]
            .routes
            .insert(0, routes("x", "/api", "api").virtual_hosts[0].routes[0].clone());
        world.routes = vec![main];
        world.publish(&cache);
        eventually(WAIT, "/api reaches the new cluster", || async {
            backend_of(ingress, "/api/1").await.as_deref() == Some("a")
        })
        .await;
        assert_eq!(backend_of(ingress, "/x").await.as_deref(), Some("b"));

        world.listeners.clear();
        world.publish(&cache);
        eventually(WAIT, "the removed listener stops accepting", || async {
            proxy.listener_addr("ingress").is_none() && tokio::net::TcpStream::connect(ingress).await.is_err()
        })
        .await;
        world.clusters.clear();
        world.routes.clear();
        world.publish(&cache);
        eventually(WAIT, "the clusters are gone", || async {
            let clusters = admin_get(proxy.admin_addr(), "/clusters?format=json")
                .await
                .text();
            !clusters.contains("\"web\"") && !clusters.contains("\"api\"")
        })
        .await;
    })
    .await;
}
