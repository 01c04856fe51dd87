//! Load-balancing keys: policies with their knobs, panic threshold, zone awareness,
//! slow start, priorities, the node's zone and route hash policies.

use super::*;
use crate::policy::{HashSource, LbPolicy, Percentage};

fn cluster(extra: &str) -> String {
    format!(
        "clusters:\n  - name: web\n    endpoints: [ {{ address: \"127.0.0.1:1\", priority: 1 }} ]\n{extra}"
    )
}

#[test]
fn policies_take_envoys_defaults() {
    let policy = |name: &str| {
        valid(&cluster(&format!("    lb_policy: {name}\n"))).clusters[0]
            .lb_policy
            .clone()
    };
    assert_eq!(policy("round_robin"), LbPolicy::RoundRobin);
    assert_eq!(policy("random"), LbPolicy::Random);
    assert_eq!(
        policy("least_request"),
        LbPolicy::LeastRequest {
            choice_count: 2,
            active_request_bias: 1.0
        }
    );
    assert_eq!(
        policy("ring_hash"),
        LbPolicy::RingHash {
            minimum_ring_size: 1024,
            maximum_ring_size: 8_388_608
        }
    );
    assert_eq!(policy("maglev"), LbPolicy::Maglev { table_size: 65537 });
    assert_eq!(
        policy("peak_ewma"),
        LbPolicy::PeakEwma {
            decay: Duration::from_secs(10),
            default_rtt: Duration::from_millis(30)
        }
    );
    let c = &valid(&cluster("")).clusters[0];
    assert_eq!(c.common_lb.healthy_panic_threshold, Percentage::new(50).unwrap());
    assert_eq!(c.common_lb.zone_routing_enabled, Percentage::HUNDRED);
    assert_eq!(c.common_lb.zone_min_cluster_size, 6);
    assert!(c.slow_start.is_none() && !c.ignore_health_on_host_removal);
    assert_eq!(c.endpoints[0].priority, 1);
}

#[test]
fn knobs_are_read_and_checked() {
    let c = valid(&cluster(
        "    lb_policy: least_request\n    least_request_lb_config: { choice_count: 3, active_request_bias: 0.5 }\n    common_lb_config: { healthy_panic_threshold: 0, zone_aware_lb_config: { min_cluster_size: 2 } }\n    slow_start_config: { slow_start_window: 30s }\n",
    ));
    let c = &c.clusters[0];
    assert_eq!(
        c.lb_policy,
        LbPolicy::LeastRequest {
            choice_count: 3,
            active_request_bias: 0.5
        }
    );
    assert_eq!(c.common_lb.healthy_panic_threshold, Percentage::ZERO);
    assert_eq!(c.common_lb.zone_min_cluster_size, 2);
    assert_eq!(
        c.slow_start.as_ref().map(|s| s.window),
        Some(Duration::from_secs(30))
    );

    let c0 = "clusters[0]";
    only_error(
        &cluster("    least_request_lb_config: { choice_count: 3 }\n"),
        &format!("{c0}.least_request_lb_config"),
        "applies to lb_policy least_request",
    );
    only_error(
        &cluster("    lb_policy: least_request\n    least_request_lb_config: { choice_count: 1 }\n"),
        &format!("{c0}.least_request_lb_config.choice_count"),
        "at least 2",
    );
    only_error(
        &cluster("    lb_policy: maglev\n    maglev_lb_config: { table_size: 65536 }\n"),
        &format!("{c0}.maglev_lb_config.table_size"),
        "not a prime",
    );
    only_error(
        &cluster(
            "    lb_policy: ring_hash\n    ring_hash_lb_config: { minimum_ring_size: 4096, maximum_ring_size: 1024 }\n",
        ),
        &format!("{c0}.ring_hash_lb_config.minimum_ring_size"),
        "maximum_ring_size",
    );
    only_error(
        &cluster("    common_lb_config: { healthy_panic_threshold: 101 }\n"),
        &format!("{c0}.common_lb_config.healthy_panic_threshold"),
        "0..=100",
    );
    only_error(
        &cluster("    slow_start_config: { aggression: 2.0 }\n"),
        &format!("{c0}.slow_start_config.slow_start_window"),
        "is required",
    );
}

#[test]
fn node_zone_and_route_hash_policies() {
    let yaml = r#"
node: { id: sidecar-1, zone: us-east-1a }
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            route:
              cluster: web
              hash_policy:
                - { header: { header_name: x-user }, terminal: true }
                - { cookie: { name: session } }
                - { connection_properties: { source_ip: true } }
                - { query_parameter: { name: u } }
clusters:
  - { name: web, lb_policy: ring_hash, endpoints: [ { address: "127.0.0.1:1" } ] }
"#;
    let cfg = valid(yaml);
    assert_eq!(cfg.node.zone.as_deref(), Some("us-east-1a"));
    let ListenerKind::Http(http) = &cfg.listeners[0].kind else {
        panic!("http")
    };
    let route = &http.virtual_hosts.iter().next().unwrap().routes[0];
    let Action::Route(fwd) = &route.action else {
        panic!("forward")
    };
    let sources: Vec<_> = fwd.hash_policy.iter().map(|h| &h.source).collect();
    assert!(matches!(
        sources[..],
        [
            HashSource::Header(_),
            HashSource::Cookie(_),
            HashSource::SourceIp,
            HashSource::QueryParameter(_)
        ]
    ));
    assert!(fwd.hash_policy[0].terminal && !fwd.hash_policy[1].terminal);

    let bad = yaml.replace(
        "{ connection_properties: { source_ip: true } }",
        "{ cookie: { name: a }, query_parameter: { name: b } }",
    );
    let errs = errors(&bad);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0].0,
        "listeners[0].virtual_hosts[0].routes[0].route.hash_policy[2]"
    );
}

#[test]
fn local_cluster_name_must_name_a_cluster() {
    let ok = valid(&format!(
        "cluster_manager: {{ local_cluster_name: web }}\n{}",
        cluster("")
    ));
    assert_eq!(ok.local_cluster.map(|c| c.name), Some("web".to_owned()));
    only_error(
        &format!("cluster_manager: {{ local_cluster_name: nope }}\n{}", cluster("")),
        "cluster_manager.local_cluster_name",
        "not a cluster",
    );
}
