//! Metric names, Envoy's stat names in Prometheus form: the one list of them.
//!
//! `mesh_<scope>_<stat>`, scope `http` (a listener's HTTP connection manager), `listener`,
//! `cluster`, `route`, `server` or `tcp`; the scope's name is a label (`listener`,
//! `cluster`, `route`). Counters end in `_total`, durations are histograms in seconds.
//! `/stats` shows each series under Envoy's dotted name (`cluster.web.upstream_rq_2xx`),
//! see `admin::stats_text`.

pub const DOWNSTREAM_RQ: &str = "mesh_http_downstream_rq_total";
/// Requests by response code class (`response_code_class="2xx"`), Envoy's `downstream_rq_2xx`.
pub const DOWNSTREAM_RQ_XX: &str = "mesh_http_downstream_rq_xx_total";
/// Requests whose response has not ended yet.
pub const DOWNSTREAM_RQ_ACTIVE: &str = "mesh_http_downstream_rq_active";
/// From the request's arrival to the end of its response body.
pub const DOWNSTREAM_RQ_TIME: &str = "mesh_http_downstream_rq_time_seconds";
pub const UPSTREAM_RQ: &str = "mesh_cluster_upstream_rq_total";
/// Upstream responses by code class, Envoy's `upstream_rq_2xx`.
pub const UPSTREAM_RQ_XX: &str = "mesh_cluster_upstream_rq_xx_total";
/// Tries sent and not finished (their response body has not ended).
pub const UPSTREAM_RQ_ACTIVE: &str = "mesh_cluster_upstream_rq_active";
/// Per try: from sending the request upstream to its response headers.
pub const UPSTREAM_RQ_TIME: &str = "mesh_cluster_upstream_rq_time_seconds";
pub const UPSTREAM_CX: &str = "mesh_cluster_upstream_cx_total";
pub const UPSTREAM_CX_ACTIVE: &str = "mesh_cluster_upstream_cx_active";
pub const UPSTREAM_CX_CONNECT_FAIL: &str = "mesh_cluster_upstream_cx_connect_fail_total";
/// Route timeouts that fired before response headers (the client got a 504).
pub const UPSTREAM_RQ_TIMEOUT: &str = "mesh_cluster_upstream_rq_timeout_total";
/// Tries abandoned by the retry policy's `per_try_timeout`.
pub const UPSTREAM_RQ_PER_TRY_TIMEOUT: &str = "mesh_cluster_upstream_rq_per_try_timeout_total";
pub const UPSTREAM_RQ_RESET: &str = "mesh_cluster_upstream_rq_reset_total";
pub const UPSTREAM_RQ_NO_HEALTHY: &str = "mesh_cluster_upstream_rq_no_healthy_total";
pub const MEMBERSHIP_HEALTHY: &str = "mesh_cluster_membership_healthy";
pub const MEMBERSHIP_TOTAL: &str = "mesh_cluster_membership_total";
pub const MEMBERSHIP_CHANGE: &str = "mesh_cluster_membership_change_total";
pub const LB_HEALTHY_PANIC: &str = "mesh_cluster_lb_healthy_panic_total";
/// Requests (and connections) refused by a full circuit breaker, Envoy's
/// `upstream_rq_pending_overflow`.
pub const UPSTREAM_RQ_OVERFLOW: &str = "mesh_cluster_upstream_rq_pending_overflow_total";
/// Requests that matched a route with a `name`, by response code class.
pub const ROUTE_RQ_XX: &str = "mesh_route_upstream_rq_xx_total";
/// Connections accepted by an HTTP listener.
pub const LISTENER_CX: &str = "mesh_listener_downstream_cx_total";
pub const LISTENER_CX_ACTIVE: &str = "mesh_listener_downstream_cx_active";
pub const LISTENER_CX_RX_BYTES: &str = "mesh_listener_downstream_cx_rx_bytes_total";
pub const LISTENER_CX_TX_BYTES: &str = "mesh_listener_downstream_cx_tx_bytes_total";
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

// Read from the control loops' snapshots at scrape time (`live_stats`).
pub const HEALTH_CHECK_ATTEMPT: &str = "mesh_cluster_health_check_attempt_total";
pub const HEALTH_CHECK_SUCCESS: &str = "mesh_cluster_health_check_success_total";
pub const HEALTH_CHECK_FAILURE: &str = "mesh_cluster_health_check_failure_total";
pub const OUTLIER_EJECTIONS_ACTIVE: &str = "mesh_cluster_outlier_detection_ejections_active";
pub const OUTLIER_EJECTIONS_ENFORCED: &str = "mesh_cluster_outlier_detection_ejections_enforced_total";
pub const OUTLIER_EJECTIONS_DETECTED: &str = "mesh_cluster_outlier_detection_ejections_detected_total";
pub const OUTLIER_EJECTIONS_OVERFLOW: &str = "mesh_cluster_outlier_detection_ejections_overflow_total";
pub const UPDATE_SUCCESS: &str = "mesh_cluster_update_success_total";
pub const UPDATE_REJECTED: &str = "mesh_cluster_update_rejected_total";
/// Remote sources only: milliseconds since the discovery source last answered.
pub const DISCOVERY_STALENESS_MS: &str = "mesh_cluster_discovery_staleness_ms";
pub const UPSTREAM_RQ_RETRY: &str = "mesh_cluster_upstream_rq_retry_total";
pub const UPSTREAM_RQ_RETRY_SUCCESS: &str = "mesh_cluster_upstream_rq_retry_success_total";
pub const UPSTREAM_RQ_RETRY_OVERFLOW: &str = "mesh_cluster_upstream_rq_retry_overflow_total";
pub const UPSTREAM_RQ_RETRY_BUDGET_EXHAUSTED: &str = "mesh_cluster_upstream_rq_retry_budget_exhausted_total";
/// Envoy's `circuit_breakers.<priority>.remaining_*`, by `priority`.
pub const BREAKER_REMAINING_CX: &str = "mesh_cluster_circuit_breakers_remaining_cx";
pub const BREAKER_REMAINING_PENDING: &str = "mesh_cluster_circuit_breakers_remaining_pending";
pub const BREAKER_REMAINING_RQ: &str = "mesh_cluster_circuit_breakers_remaining_rq";
pub const BREAKER_REMAINING_RETRIES: &str = "mesh_cluster_circuit_breakers_remaining_retries";
/// Per endpoint (label `endpoint`), only for clusters with
/// `track_cluster_stats.per_endpoint_stats` (Envoy's `cluster.<name>.endpoint.<address>.*`).
pub const ENDPOINT_RQ: &str = "mesh_cluster_endpoint_rq_total";
pub const ENDPOINT_RQ_ERROR: &str = "mesh_cluster_endpoint_rq_error_total";
pub const ENDPOINT_RQ_SUCCESS: &str = "mesh_cluster_endpoint_rq_success_total";
pub const ENDPOINT_RQ_ACTIVE: &str = "mesh_cluster_endpoint_rq_active";
/// 1 while the endpoint is healthy (active checks and outlier detection), else 0.
pub const ENDPOINT_HEALTHY: &str = "mesh_cluster_endpoint_healthy";
