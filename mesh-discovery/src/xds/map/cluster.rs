//! CDS: a `Cluster` → `config::Cluster`.
//!
//! Discovery: `EDS` → `discovery.eds.service_name` (`eds_cluster_config.service_name`, else the
//! cluster's name), with its `eds_config` over ADS (or `self`, the same stream); `STATIC` (also an
//! unset type, Envoy's default) → `endpoints` from `load_assignment`; `STRICT_DNS` →
//! `discovery.dns` from the single endpoint of `load_assignment` (hostname and port) with
//! `dns_refresh_rate`, `respect_dns_ttl` and `dns_lookup_family`. LOGICAL_DNS, ORIGINAL_DST and
//! unknown types are refused, as are a `load_assignment` on an EDS cluster and a DNS endpoint
//! with a weight other than 1 or a priority (mesh's DNS discovery yields plain endpoints).
//! Load balancing: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH and MAGLEV by name; others
//! refused. `common_http_protocol_options.idle_timeout` → `idle_timeout`; its other fields have no
//! cluster key in mesh and are refused. Circuit breakers and outlier detection: see `resilience.rs`.

mod resilience;

use super::{MapError, address, endpoints, non_empty, opt_duration};
use crate::xds::api::envoy::config::cluster::v3::cluster::{DiscoveryType, DnsLookupFamily, LbPolicy};
use crate::xds::api::envoy::config::cluster::v3::{Cluster, cluster};
use crate::xds::api::envoy::config::core::v3::{ConfigSource, config_source};
use crate::xds::api::envoy::config::endpoint::v3::lb_endpoint;
use mesh_core::config;

/// A CDS `Cluster` → the cluster's config shape.
pub fn cluster(c: &Cluster) -> Result<config::Cluster, MapError> {
    let name = c.name.as_str();
    if name.is_empty() {
        return Err(MapError::new("<unnamed cluster>", "name", "is required"));
    }
    let mut out = config::Cluster {
        name: Some(name.to_owned()),
        connect_timeout: opt_duration(c.connect_timeout.as_ref(), name, "connect_timeout")?,
        lb_policy: Some(lb_policy(c.lb_policy, name)?.to_owned()),
        circuit_breakers: resilience::circuit_breakers(c.circuit_breakers.as_ref(), name)?,
        outlier_detection: resilience::outlier_detection(c.outlier_detection.as_ref(), name)?,
        ..config::Cluster::default()
    };
    if let Some(http) = &c.common_http_protocol_options {
        let field = "common_http_protocol_options";
        let unsupported = [
            ("max_headers_count", http.max_headers_count.is_some()),
            ("max_connection_duration", http.max_connection_duration.is_some()),
            ("max_stream_duration", http.max_stream_duration.is_some()),
            (
                "max_requests_per_connection",
                http.max_requests_per_connection.is_some(),
            ),
        ];
        super::refuse_set(name, field, &unsupported, "has no mesh equivalent for clusters")?;
        out.idle_timeout = opt_duration(http.idle_timeout.as_ref(), name, &format!("{field}.idle_timeout"))?;
    }
    let kind = match &c.cluster_discovery_type {
        None => DiscoveryType::Static,
        Some(cluster::ClusterDiscoveryType::Type(t)) => DiscoveryType::try_from(*t)
            .map_err(|_| MapError::new(name, "type", format!("{t} is not a known discovery type")))?,
    };
    match kind {
        DiscoveryType::Static => {
            if let Some(cla) = &c.load_assignment {
                out.endpoints = endpoints::flatten(cla, name, "load_assignment.")?.0;
            }
        }
        DiscoveryType::Eds => out.discovery = Some(eds(c, name)?),
        DiscoveryType::StrictDns => out.discovery = Some(dns(c, name)?),
        DiscoveryType::LogicalDns | DiscoveryType::OriginalDst => {
            let reason = format!(
                "{} is not supported (STATIC, STRICT_DNS or EDS)",
                kind.as_str_name()
            );
            return Err(MapError::new(name, "type", reason));
        }
    }
    Ok(out)
}

fn lb_policy(raw: i32, name: &str) -> Result<&'static str, MapError> {
    match LbPolicy::try_from(raw) {
        Ok(LbPolicy::RoundRobin) => Ok("round_robin"),
        Ok(LbPolicy::LeastRequest) => Ok("least_request"),
        Ok(LbPolicy::Random) => Ok("random"),
        Ok(LbPolicy::RingHash) => Ok("ring_hash"),
        Ok(LbPolicy::Maglev) => Ok("maglev"),
        Ok(other @ (LbPolicy::ClusterProvided | LbPolicy::LoadBalancingPolicyConfig)) => {
            let reason = format!("{} is not supported", other.as_str_name());
            Err(MapError::new(name, "lb_policy", reason))
        }
        Err(_) => Err(MapError::new(
            name,
            "lb_policy",
            format!("{raw} is not a known policy"),
        )),
    }
}

fn eds(c: &Cluster, name: &str) -> Result<config::Discovery, MapError> {
    if c.load_assignment.is_some() {
        let reason = "is not used by EDS clusters: their endpoints come from EDS";
        return Err(MapError::new(name, "load_assignment", reason));
    }
    let eds = c.eds_cluster_config.as_ref();
    if let Some(source) = eds.and_then(|e| e.eds_config.as_ref()) {
        ads_source(source, name, "eds_cluster_config.eds_config")?;
    }
    let service_name = eds
        .and_then(|e| non_empty(&e.service_name))
        .unwrap_or_else(|| name.to_owned());
    Ok(config::Discovery {
        eds: Some(config::EdsDiscovery {
            service_name: Some(service_name),
        }),
        ..config::Discovery::default()
    })
}

/// mesh takes EDS and RDS only over its one ADS stream.
pub(crate) fn ads_source(source: &ConfigSource, resource: &str, field: &str) -> Result<(), MapError> {
    match &source.config_source_specifier {
        None
        | Some(
            config_source::ConfigSourceSpecifier::Ads(_) | config_source::ConfigSourceSpecifier::Self_(_),
        ) => Ok(()),
        Some(config_source::ConfigSourceSpecifier::Path(_)) => {
            let reason = "filesystem config sources are not supported; use ads";
            Err(MapError::new(resource, format!("{field}.path"), reason))
        }
    }
}

fn dns(c: &Cluster, name: &str) -> Result<config::Discovery, MapError> {
    let field = "load_assignment.endpoints";
    let only = |why: &str| {
        MapError::new(
            name,
            field,
            format!("STRICT_DNS needs exactly one endpoint: {why}"),
        )
    };
    let cla = c.load_assignment.as_ref().ok_or_else(|| only("none given"))?;
    let [locality] = cla.endpoints.as_slice() else {
        return Err(only("give one locality"));
    };
    let [lb] = locality.lb_endpoints.as_slice() else {
        return Err(only("give one lb_endpoint"));
    };
    let field = format!("{field}[0].lb_endpoints[0]");
    if lb.load_balancing_weight.is_some_and(|w| w != 1) || locality.priority != 0 {
        let reason = "weights and priorities are not supported on a DNS endpoint";
        return Err(MapError::new(name, field, reason));
    }
    let Some(lb_endpoint::HostIdentifier::Endpoint(e)) = &lb.host_identifier else {
        return Err(MapError::new(name, format!("{field}.endpoint"), "is required"));
    };
    let (hostname, port) =
        address::host_port(e.address.as_ref(), name, &format!("{field}.endpoint.address"))?;
    let lookup_family = match DnsLookupFamily::try_from(c.dns_lookup_family) {
        Ok(DnsLookupFamily::Auto) => "auto",
        Ok(DnsLookupFamily::V4Only) => "v4_only",
        Ok(DnsLookupFamily::V6Only) => "v6_only",
        Ok(DnsLookupFamily::All) => "all",
        Ok(DnsLookupFamily::V4Preferred) | Err(_) => {
            let reason = "only AUTO, V4_ONLY, V6_ONLY and ALL are supported";
            return Err(MapError::new(name, "dns_lookup_family", reason));
        }
    };
    Ok(config::Discovery {
        dns: Some(config::DnsDiscovery {
            hostname: Some(hostname),
            port: Some(port),
            lookup_family: Some(lookup_family.to_owned()),
            respect_dns_ttl: Some(c.respect_dns_ttl),
            refresh_rate: opt_duration(c.dns_refresh_rate.as_ref(), name, "dns_refresh_rate")?,
            ..config::DnsDiscovery::default()
        }),
        ..config::Discovery::default()
    })
}
