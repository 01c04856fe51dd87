//! Keys mesh-core validates but this proxy's data path does not honour yet. A config
//! that asks for them must not start as if they protected or steered it: refusing
//! beats silently ignoring.

use crate::StartError;
use mesh_core::policy::{Action, Bootstrap, LbPolicy, ListenerKind};

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
    }
    for l in &config.listeners {
        let ListenerKind::Http(http) = &l.kind else {
            continue;
        };
        for vh in http.virtual_hosts.iter() {
            for (i, route) in vh.routes.iter().enumerate() {
                let scope = || format!("listener {:?} virtual host {:?} route {i}", l.name, vh.name);
                let Action::Route(fwd) = &route.action else {
                    continue;
                };
                if fwd.idle_timeout.is_some() {
                    return refuse(scope(), "idle_timeout");
                }
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
        let cases = [("ACTION", "idle_timeout: 5s", "idle_timeout")];
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
