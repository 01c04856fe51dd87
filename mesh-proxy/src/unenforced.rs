//! Keys mesh-core validates but this proxy's data path does not honour. A config that
//! asks for them must not start as if they protected or steered it: refusing beats
//! silently ignoring.

use crate::StartError;
use mesh_core::policy::{Bootstrap, LbPolicy};

pub(crate) fn refuse(config: &Bootstrap) -> Result<(), StartError> {
    for c in &config.clusters {
        // Envoy ramps only round robin and least request; random's weights work the
        // same way. Rebuilding a hash table on every tick would be the wrong trade.
        let ramps = matches!(
            c.lb_policy,
            LbPolicy::RoundRobin | LbPolicy::LeastRequest { .. } | LbPolicy::Random
        );
        if c.slow_start.is_some() && !ramps {
            return Err(StartError::NotEnforced {
                scope: format!("cluster {:?}", c.name),
                key: "slow_start_config with this lb_policy",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cluster_keys: &str) -> Option<String> {
        let yaml = format!(
            "clusters: [ {{ name: b, endpoints: [ {{ address: \"127.0.0.1:1\" }} ]{cluster_keys} }} ]"
        );
        let config = mesh_core::load::from_yaml(&yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        refuse(&config).err().map(|e| e.to_string())
    }

    #[test]
    fn slow_start_is_refused_where_the_policy_cannot_ramp() {
        let ring = ", lb_policy: ring_hash, slow_start_config: { slow_start_window: 10s }";
        let err = refused(ring).expect("refused");
        assert!(
            err.contains("slow_start_config") && err.contains("does not enforce"),
            "{err}"
        );
        assert_eq!(refused(", slow_start_config: { slow_start_window: 10s }"), None);
        assert_eq!(refused(""), None);
    }
}
