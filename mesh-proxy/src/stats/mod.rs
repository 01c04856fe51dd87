//! Proxy statistics: Envoy's stats, read at the admin listener's `/stats/prometheus`,
//! `/stats` and `/stats?format=json`.
//!
//! Each proxy owns its [`Stats`] (not a process-global recorder), so several proxies in one
//! process (tests, embedders) keep separate numbers. Series are registered once, when their
//! listener, cluster, route or status code is first seen, and then updated through their own
//! handles: the request path does a few relaxed atomic adds and never a lookup or a lock
//! (see [`store`]). Cardinality is bounded: labels are listener, cluster and route names,
//! status codes and classes, never paths; per-endpoint series only for clusters that ask
//! (`track_cluster_stats.per_endpoint_stats`).
//!
//! Durations are [`histogram`]s fine enough for quantiles (2%), from which both Envoy's
//! default Prometheus buckets and `/stats`' P0…P100 are derived. The [`flush`] task closes a
//! stats interval every `stats_flush_interval` (default 5 s) for interval quantiles, at no
//! cost to the request path.

pub(crate) mod flush;
pub(crate) mod histogram;
mod io;
pub mod names;
pub(crate) mod prometheus;
pub(crate) mod store;

pub(crate) use io::CountingIo;
use metrics::{Counter, Gauge};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
pub(crate) use store::{Active, Level, Sample, Timer, Value};

#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    store: Arc<store::Store>,
}

impl Stats {
    pub(crate) fn new() -> Self {
        Stats::default()
    }

    /// Every series now, sorted by name, then labels.
    pub(crate) fn read(&self) -> Vec<Sample> {
        self.store.read()
    }

    fn counter(&self, name: &'static str, labels: store::Labels) -> Counter {
        Counter::from_arc(self.store.counter(name, labels))
    }

    fn gauge(&self, name: &'static str, labels: store::Labels) -> Gauge {
        Gauge::from_arc(self.store.gauge(name, labels))
    }

    /// An HTTP listener's request stats, with counters for each of its routes that has a
    /// `name`.
    pub(crate) fn listener(&self, listener: &str, policy: &mesh_core::policy::HttpListener) -> ListenerStats {
        let label = ("listener", listener.to_owned());
        let routes = (policy.virtual_hosts.iter())
            .flat_map(|v| v.routes.iter().filter_map(|r| r.name.clone()))
            .map(|name| (name.clone(), self.route(&name)))
            .collect();
        ListenerStats {
            routes,
            rq: CodeCounters::new(
                self.clone(),
                names::DOWNSTREAM_RQ,
                names::DOWNSTREAM_RQ_XX,
                label.clone(),
            ),
            active: self.store.level(names::DOWNSTREAM_RQ_ACTIVE, vec![label.clone()]),
            time: self.store.timer(names::DOWNSTREAM_RQ_TIME, vec![label]),
        }
    }

    /// An HTTP listener's connection counters.
    pub(crate) fn listener_cx(&self, listener: &str) -> ListenerCx {
        let label = || vec![("listener", listener.to_owned())];
        ListenerCx {
            total: self.counter(names::LISTENER_CX, label()),
            active: self.store.level(names::LISTENER_CX_ACTIVE, label()),
            bytes: Arc::new(Bytes {
                rx: self.store.counter(names::LISTENER_CX_RX_BYTES, label()),
                tx: self.store.counter(names::LISTENER_CX_TX_BYTES, label()),
            }),
        }
    }

    /// Counts by response code class for a route with a `name`.
    pub(crate) fn route(&self, route: &str) -> ClassCounters {
        ClassCounters::new(self, names::ROUTE_RQ_XX, ("route", route.to_owned()))
    }

    pub(crate) fn cluster(&self, cluster: &str) -> ClusterStats {
        let label = ("cluster", cluster.to_owned());
        let one = |name| self.counter(name, vec![label.clone()]);
        ClusterStats {
            rq: CodeCounters::new(
                self.clone(),
                names::UPSTREAM_RQ,
                names::UPSTREAM_RQ_XX,
                label.clone(),
            ),
            active: self.store.level(names::UPSTREAM_RQ_ACTIVE, vec![label.clone()]),
            time: self.store.timer(names::UPSTREAM_RQ_TIME, vec![label.clone()]),
            cx: UpstreamCx {
                total: one(names::UPSTREAM_CX),
                active: self.store.level(names::UPSTREAM_CX_ACTIVE, vec![label.clone()]),
            },
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
        self.counter(name, vec![(label.0, label.1.to_owned())])
    }

    /// Closes a stats interval on every histogram every `interval`, for as long as these
    /// stats are in use (see [`flush`]).
    pub(crate) fn start_flush(&self, interval: std::time::Duration) {
        flush::spawn(Arc::downgrade(&self.store), interval);
    }
}

/// Counts by response code class (`1xx` … `5xx`), registered up front so every class
/// shows, at 0 until used.
#[derive(Debug)]
pub(crate) struct ClassCounters([Counter; 5]);

impl ClassCounters {
    fn new(stats: &Stats, name: &'static str, label: (&'static str, String)) -> Self {
        ClassCounters(["1xx", "2xx", "3xx", "4xx", "5xx"].map(|class| {
            stats.counter(
                name,
                vec![label.clone(), ("response_code_class", class.to_owned())],
            )
        }))
    }

    pub(crate) fn record(&self, code: u16) {
        if let Some(class) = usize::from(code / 100).checked_sub(1).and_then(|i| self.0.get(i)) {
            class.increment(1);
        }
    }
}

/// Request counts by response code and by code class for one listener or cluster.
#[derive(Debug)]
pub(crate) struct CodeCounters {
    stats: Stats,
    name: &'static str,
    label: (&'static str, String),
    by_code: Box<[OnceLock<Counter>]>,
    by_class: ClassCounters,
}

impl CodeCounters {
    fn new(
        stats: Stats,
        name: &'static str,
        class_name: &'static str,
        label: (&'static str, String),
    ) -> Self {
        let by_code = (0..600).map(|_| OnceLock::new()).collect();
        CodeCounters {
            by_class: ClassCounters::new(&stats, class_name, label.clone()),
            stats,
            name,
            label,
            by_code,
        }
    }

    /// Two atomic adds once the code was seen before: no map lookup.
    pub(crate) fn record(&self, code: u16) {
        let make = || {
            let labels = vec![self.label.clone(), ("response_code", code.to_string())];
            self.stats.counter(self.name, labels)
        };
        match self.by_code.get(usize::from(code)) {
            Some(slot) => slot.get_or_init(make).increment(1),
            None => make().increment(1),
        }
        self.by_class.record(code);
    }
}

/// An HTTP listener's request stats.
#[derive(Debug)]
pub(crate) struct ListenerStats {
    pub(crate) rq: CodeCounters,
    /// By route name: only routes that have one are counted.
    pub(crate) routes: std::collections::HashMap<String, ClassCounters>,
    pub(crate) active: Level,
    pub(crate) time: Arc<Timer>,
}

impl ListenerStats {
    /// Counts a request in flight until the returned guard drops, then records its duration.
    pub(crate) fn start(&self) -> InFlight {
        InFlight {
            started: Instant::now(),
            _active: self.active.enter(),
            time: self.time.clone(),
        }
    }
}

/// A downstream request in flight: dropped when its response body ends (or is dropped).
#[derive(Debug)]
pub(crate) struct InFlight {
    started: Instant,
    _active: Active,
    time: Arc<Timer>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.time.histogram.record(self.started.elapsed());
    }
}

/// An HTTP listener's connection stats.
#[derive(Debug, Clone)]
pub(crate) struct ListenerCx {
    pub(crate) total: Counter,
    pub(crate) active: Level,
    pub(crate) bytes: Arc<Bytes>,
}

/// Bytes received from and sent to the downstream, per listener.
#[derive(Debug, Default)]
pub(crate) struct Bytes {
    pub(crate) rx: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) tx: Arc<std::sync::atomic::AtomicU64>,
}

/// A cluster's connection counters, held by each of its endpoints' connectors.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamCx {
    pub(crate) total: Counter,
    pub(crate) active: Level,
}

#[derive(Debug)]
pub(crate) struct ClusterStats {
    pub(crate) rq: CodeCounters,
    pub(crate) active: Level,
    pub(crate) time: Arc<Timer>,
    pub(crate) cx: UpstreamCx,
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
