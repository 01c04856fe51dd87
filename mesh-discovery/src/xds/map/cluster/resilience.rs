//! A cluster's `circuit_breakers` and `outlier_detection`, field by field under Envoy's names.
//!
//! Circuit breakers: one `thresholds` entry per priority (DEFAULT, HIGH) with its four limits;
//! `track_remaining` only adds statistics and is ignored; `max_connection_pools` and
//! `per_host_thresholds` have no mesh equivalent and are refused. Outlier detection: every field
//! the proto subset carries maps to the key of the same name, durations in mesh's notation.

use super::super::{MapError, opt_duration};
use crate::xds::api::envoy::config::cluster::v3::{CircuitBreakers, OutlierDetection};
use crate::xds::api::envoy::config::core::v3::RoutingPriority;
use mesh_core::config;

pub(super) fn circuit_breakers(
    cb: Option<&CircuitBreakers>,
    name: &str,
) -> Result<Option<config::CircuitBreakers>, MapError> {
    let Some(cb) = cb else {
        return Ok(None);
    };
    if !cb.per_host_thresholds.is_empty() {
        let reason = "per-host circuit breakers are not supported";
        return Err(MapError::new(
            name,
            "circuit_breakers.per_host_thresholds",
            reason,
        ));
    }
    let mut thresholds = Vec::with_capacity(cb.thresholds.len());
    for (i, t) in cb.thresholds.iter().enumerate() {
        let field = format!("circuit_breakers.thresholds[{i}]");
        let priority = match RoutingPriority::try_from(t.priority) {
            Ok(RoutingPriority::Default) => config::RoutingPriority::Default,
            Ok(RoutingPriority::High) => config::RoutingPriority::High,
            Err(_) => {
                let reason = format!("{} is not DEFAULT or HIGH", t.priority);
                return Err(MapError::new(name, format!("{field}.priority"), reason));
            }
        };
        if t.max_connection_pools.is_some() {
            let reason = "has no mesh equivalent";
            return Err(MapError::new(
                name,
                format!("{field}.max_connection_pools"),
                reason,
            ));
        }
        thresholds.push(config::Thresholds {
            priority: Some(priority),
            max_connections: t.max_connections,
            max_pending_requests: t.max_pending_requests,
            max_requests: t.max_requests,
            max_retries: t.max_retries,
            retry_budget: None,
        });
    }
    Ok(Some(config::CircuitBreakers { thresholds }))
}

pub(super) fn outlier_detection(
    od: Option<&OutlierDetection>,
    name: &str,
) -> Result<Option<config::OutlierDetection>, MapError> {
    let Some(od) = od else {
        return Ok(None);
    };
    let d = |v: Option<&prost_types::Duration>, key: &str| {
        opt_duration(v, name, &format!("outlier_detection.{key}"))
    };
    Ok(Some(config::OutlierDetection {
        consecutive_5xx: od.consecutive_5xx,
        consecutive_gateway_failure: od.consecutive_gateway_failure,
        consecutive_local_origin_failure: od.consecutive_local_origin_failure,
        interval: d(od.interval.as_ref(), "interval")?,
        base_ejection_time: d(od.base_ejection_time.as_ref(), "base_ejection_time")?,
        max_ejection_time: d(od.max_ejection_time.as_ref(), "max_ejection_time")?,
        max_ejection_percent: od.max_ejection_percent,
        enforcing_consecutive_5xx: od.enforcing_consecutive_5xx,
        enforcing_consecutive_gateway_failure: od.enforcing_consecutive_gateway_failure,
        enforcing_consecutive_local_origin_failure: od.enforcing_consecutive_local_origin_failure,
        enforcing_success_rate: od.enforcing_success_rate,
        enforcing_local_origin_success_rate: od.enforcing_local_origin_success_rate,
        success_rate_minimum_hosts: od.success_rate_minimum_hosts,
        success_rate_request_volume: od.success_rate_request_volume,
        success_rate_stdev_factor: od.success_rate_stdev_factor,
        failure_percentage_threshold: od.failure_percentage_threshold,
        enforcing_failure_percentage: od.enforcing_failure_percentage,
        enforcing_failure_percentage_local_origin: od.enforcing_failure_percentage_local_origin,
        failure_percentage_minimum_hosts: od.failure_percentage_minimum_hosts,
        failure_percentage_request_volume: od.failure_percentage_request_volume,
        split_external_local_origin_errors: Some(od.split_external_local_origin_errors),
    }))
}
