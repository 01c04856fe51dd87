//! Proxy statistics, exported at the admin listener's `/stats/prometheus`.
//!
//! Each proxy owns its recorder (not the process-global one), so several proxies in
//! one process (tests, embedders) keep separate numbers. Counters are registered
//! lazily per status code and cached in a fixed table, so the request path does one
//! atomic add and no map lookup after the first request with a given code.

use metrics::{Counter, Gauge, Key, Label, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::{Arc, OnceLock};

/// Metric names, Envoy's stat names in Prometheus form.
pub mod names {
    pub const DOWNSTREAM_RQ: &str = "mesh_http_downstream_rq_total";
    pub const UPSTREAM_RQ: &str = "mesh_cluster_upstream_rq_total";
    pub const UPSTREAM_CX_CONNECT_FAIL: &str = "mesh_cluster_upstream_cx_connect_fail_total";
    pub const UPSTREAM_RQ_TIMEOUT: &str = "mesh_cluster_upstream_rq_timeout_total";
    pub const UPSTREAM_RQ_RESET: &str = "mesh_cluster_upstream_rq_reset_total";
    pub const UPSTREAM_RQ_NO_HEALTHY: &str = "mesh_cluster_upstream_rq_no_healthy_total";
    pub const MEMBERSHIP_HEALTHY: &str = "mesh_cluster_membership_healthy";
    pub const MEMBERSHIP_TOTAL: &str = "mesh_cluster_membership_total";
    pub const MEMBERSHIP_CHANGE: &str = "mesh_cluster_membership_change_total";
    pub const LB_HEALTHY_PANIC: &str = "mesh_cluster_lb_healthy_panic_total";
    /// Requests (and connections) refused by a full circuit breaker, Envoy's
    /// `upstream_rq_pending_overflow`.
    pub const UPSTREAM_RQ_OVERFLOW: &str = "mesh_cluster_upstream_rq_pending_overflow_total";
    pub const TCP_UPSTREAM_CX: &str = "mesh_tcp_upstream_cx_total";
    /// Requests that took a token from a `local_rate_limit` bucket (Envoy's `ok`).
    pub const HTTP_LOCAL_RATE_LIMIT_OK: &str = "mesh_http_local_rate_limit_ok_total";
    /// Requests answered 429 for want of a token (Envoy's `rate_limited`).
    pub const HTTP_LOCAL_RATE_LIMITED: &str = "mesh_http_local_rate_limit_rate_limited_total";
    pub const HTTP_FAULT_DELAYS_INJECTED: &str = "mesh_http_fault_delays_injected_total";
    pub const HTTP_FAULT_ABORTS_INJECTED: &str = "mesh_http_fault_aborts_injected_total";
    /// Connections closed at accept because `max_connections` were open (Envoy's
    /// `connection_limit` `limited_connections`).
    pub const LISTENER_CX_LIMITED: &str = "mesh_listener_cx_limited_total";
    /// Connections closed at accept by the `connection_rate_limit` bucket (Envoy's network
    /// `local_ratelimit` `rate_limited`).
    pub const LISTENER_CX_RATE_LIMITED: &str = "mesh_listener_cx_rate_limited_total";
    /// Configurations applied by a reload (the file changed, SIGHUP, or `Running::reload`).
    pub const SERVER_CONFIG_RELOAD: &str = "mesh_server_config_reload_total";
    /// Reloads refused (invalid file, unbindable listener ...); the old configuration serves on.
    pub const SERVER_CONFIG_RELOAD_REJECTED: &str = "mesh_server_config_reload_rejected_total";
    /// The version of the configuration in force: 1 at start, one more per applied reload.
    pub const SERVER_CONFIG_VERSION: &str = "mesh_server_config_version";
}

#[derive(Clone)]
pub(crate) struct Stats {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stats")
    }
}

impl Stats {
    pub(crate) fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        Stats {
            recorder: Arc::new(recorder),
            handle,
        }
    }

    pub(crate) fn render(&self) -> String {
        self.handle.render()
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        static META: metrics::Metadata<'static> =
            metrics::Metadata::new("mesh", metrics::Level::INFO, Some(module_path!()));
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &META)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        static META: metrics::Metadata<'static> =
            metrics::Metadata::new("mesh", metrics::Level::INFO, Some(module_path!()));
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &META)
    }

    pub(crate) fn listener(&self, listener: &str) -> CodeCounters {
        CodeCounters::new(
            self.clone(),
            names::DOWNSTREAM_RQ,
            Label::new("listener", listener.to_owned()),
        )
    }

    pub(crate) fn cluster(&self, cluster: &str) -> ClusterStats {
        let label = Label::new("cluster", cluster.to_owned());
        let one = |name| self.counter(name, vec![label.clone()]);
        ClusterStats {
            rq: CodeCounters::new(self.clone(), names::UPSTREAM_RQ, label.clone()),
            connect_fail: one(names::UPSTREAM_CX_CONNECT_FAIL),
            timeout: one(names::UPSTREAM_RQ_TIMEOUT),
            reset: one(names::UPSTREAM_RQ_RESET),
            no_healthy: one(names::UPSTREAM_RQ_NO_HEALTHY),
            panic: one(names::LB_HEALTHY_PANIC),
            healthy: self.gauge(names::MEMBERSHIP_HEALTHY, vec![label.clone()]),
            total: self.gauge(names::MEMBERSHIP_TOTAL, vec![label.clone()]),
            membership_change: one(names::MEMBERSHIP_CHANGE),
            overflow: one(names::UPSTREAM_RQ_OVERFLOW),
        }
    }

    pub(crate) fn unlabelled(&self, name: &'static str) -> Counter {
        self.counter(name, Vec::new())
    }

    pub(crate) fn unlabelled_gauge(&self, name: &'static str) -> Gauge {
        self.gauge(name, Vec::new())
    }

    pub(crate) fn plain(&self, name: &'static str, label: (&'static str, &str)) -> Counter {
        self.counter(name, vec![Label::new(label.0, label.1.to_owned())])
    }
}

/// Request counts by response code for one listener or cluster.
#[derive(Debug)]
pub(crate) struct CodeCounters {
    stats: Stats,
    name: &'static str,
    label: Label,
    by_code: Box<[OnceLock<Counter>]>,
}

impl CodeCounters {
    fn new(stats: Stats, name: &'static str, label: Label) -> Self {
        let by_code = (0..600).map(|_| OnceLock::new()).collect();
        CodeCounters {
            stats,
            name,
            label,
            by_code,
        }
    }

    pub(crate) fn record(&self, code: u16) {
        let make = || {
            let labels = vec![self.label.clone(), Label::new("response_code", code.to_string())];
            self.stats.counter(self.name, labels)
        };
        match self.by_code.get(usize::from(code)) {
            Some(slot) => slot.get_or_init(make).increment(1),
            None => make().increment(1),
        }
    }
}

#[derive(Debug)]
pub(crate) struct ClusterStats {
    pub(crate) rq: CodeCounters,
    pub(crate) connect_fail: Counter,
    pub(crate) timeout: Counter,
    pub(crate) reset: Counter,
    pub(crate) no_healthy: Counter,
    /// Requests balanced across all endpoints because too few were healthy.
    pub(crate) panic: Counter,
    pub(crate) healthy: Gauge,
    pub(crate) total: Gauge,
    /// Member set changes (hosts joining or leaving), Envoy's `membership_change`.
    pub(crate) membership_change: Counter,
    pub(crate) overflow: Counter,
}
