//! Keys mesh-core validates but this proxy's data path does not honour yet. A config
//! that asks for them must not start as if they protected or steered it: refusing
//! beats silently ignoring.

use crate::StartError;
use mesh_core::policy::{
    Action, Bootstrap, CircuitBreakers, DEFAULT_PER_REQUEST_BUFFER_LIMIT_BYTES, LbPolicy, ListenerKind,
    RoutingPriority,
};

pub(crate) fn refuse(config: &Bootstrap) -> Result<(), StartError> {
    let refuse = |scope: String, key: &'static str| Err(StartError::NotEnforced { scope, key });
    for c in &config.clusters {
        let scope = || format!("cluster {:?}", c.name);
        // Envoy ramps only round robin and least request; random's weights work the
        // same way. Rebuilding a hash table on every tick would be the wrong trade.
        let ramps = matches!(
            c.lb_policy,
            LbPolicy::RoundRobin | LbPolicy::LeastRequest { .. } | LbPolicy::Random
        );
        if c.slow_start.is_some() && !ramps {
            return refuse(scope(), "slow_start_config with this lb_policy");
        }
        // Envoy's defaults would apply to every cluster once breakers are enforced, so
        // only an explicit setting is refused now.
        if c.circuit_breakers != CircuitBreakers::default() {
            return refuse(scope(), "circuit_breakers");
        }
    }
    for l in &config.listeners {
        let scope = || format!("listener {:?}", l.name);
        if l.max_connections.is_some() {
            return refuse(scope(), "max_connections");
        }
        if l.connection_rate_limit.is_some() {
            return refuse(scope(), "connection_rate_limit");
        }
        let ListenerKind::Http(http) = &l.kind else {
            continue;
        };
        if http.options.local_rate_limit.is_some() {
            return refuse(scope(), "local_rate_limit");
        }
        for vh in http.virtual_hosts.iter() {
            let scope = || format!("listener {:?} virtual host {:?}", l.name, vh.name);
            if vh.local_rate_limit.is_some() {
                return refuse(scope(), "local_rate_limit");
            }
            for (i, route) in vh.routes.iter().enumerate() {
                let scope = || format!("listener {:?} virtual host {:?} route {i}", l.name, vh.name);
                if route.fault.is_some() {
                    return refuse(scope(), "fault");
                }
                if route.local_rate_limit.is_some() {
                    return refuse(scope(), "local_rate_limit");
                }
                let Action::Route(fwd) = &route.action else {
                    continue;
                };
                let key = if fwd.retry_policy.is_some() {
                    "retry_policy"
                } else if fwd.per_request_buffer_limit_bytes != DEFAULT_PER_REQUEST_BUFFER_LIMIT_BYTES {
                    "per_request_buffer_limit_bytes"
                } else if fwd.idle_timeout.is_some() {
                    "idle_timeout"
                } else if fwd.priority == RoutingPriority::High {
                    "priority: high"
                } else if !fwd.request_mirror_policies.is_empty() {
                    "request_mirror_policies"
                } else {
                    continue;
                };
                return refuse(scope(), key);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
listeners:
  - name: web
    address: 127.0.0.1:0
    LISTENER
    virtual_hosts:
      - name: all
        domains: ["*"]
        VHOST
        routes: [ { match: { prefix: "/" }, ROUTE route: { cluster: b, ACTION } } ]
clusters:
  - { name: b, endpoints: [ { address: "127.0.0.1:1" } ], CLUSTER }
  - { name: shadow, endpoints: [ { address: "127.0.0.1:2" } ] }
"#;

    fn refused(at: &str, extra: &str) -> Option<String> {
        let mut yaml = BASE.to_owned();
        for slot in ["LISTENER", "VHOST", "ROUTE", "ACTION", "CLUSTER"] {
            let with = if slot == at { extra } else { "" };
            yaml = yaml.replace(slot, with);
        }
        let yaml = yaml
            .replace(", }", " }")
            .replace("{ cluster: b,  }", "{ cluster: b }");
        let config = mesh_core::load::from_yaml(&yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        refuse(&config).err().map(|e| e.to_string())
    }

    #[test]
    fn every_valid_but_unenforced_key_refuses_the_start_by_name() {
        let cases = [
            (
                "CLUSTER",
                "circuit_breakers: { thresholds: [ { max_requests: 10 } ] }",
                "circuit_breakers",
            ),
            ("LISTENER", "max_connections: 10", "max_connections"),
            (
                "LISTENER",
                "connection_rate_limit: { max_tokens: 5 }",
                "connection_rate_limit",
            ),
            (
                "LISTENER",
                "local_rate_limit: { max_tokens: 5 }",
                "local_rate_limit",
            ),
            ("VHOST", "local_rate_limit: { max_tokens: 5 }", "local_rate_limit"),
            ("VHOST", "retry_policy: { retry_on: 5xx }", "retry_policy"),
            ("ROUTE", "fault: { abort: { http_status: 503 } },", "fault"),
            (
                "ROUTE",
                "local_rate_limit: { max_tokens: 5 },",
                "local_rate_limit",
            ),
            ("ACTION", "retry_policy: { retry_on: 5xx }", "retry_policy"),
            (
                "ACTION",
                "per_request_buffer_limit_bytes: 10",
                "per_request_buffer_limit_bytes",
            ),
            ("ACTION", "idle_timeout: 5s", "idle_timeout"),
            ("ACTION", "priority: high", "priority: high"),
            (
                "ACTION",
                "request_mirror_policies: [ { cluster: shadow } ]",
                "request_mirror_policies",
            ),
        ];
        for (at, extra, key) in cases {
            let err = refused(at, extra).unwrap_or_else(|| panic!("{extra:?} was not refused"));
            assert!(
                err.contains(key) && err.contains("does not enforce"),
                "{extra:?}: {err}"
            );
        }
        assert_eq!(refused("", ""), None, "a config without them starts");
    }
}
