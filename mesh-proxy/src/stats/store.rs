//! The series a proxy keeps: counters, gauges, levels (integer gauges moved by guards) and
//! histograms, each registered once under its name and labels and then updated by the
//! request path through its own handle (one atomic add, no lookup).
//!
//! The map is locked only to register a series (when a listener, cluster or status code is
//! first seen) and to read them all (a scrape); the request path never touches it. A series
//! lives as long as the proxy: a reload that rebuilds a cluster of the same name finds its
//! series again, so counters go on.

use super::histogram::{Histogram, Snapshot};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

/// A series' labels, in the order they are rendered.
pub(crate) type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Default)]
pub(crate) struct Store {
    series: Mutex<BTreeMap<(&'static str, Labels), Metric>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Metric {
    Counter(Arc<AtomicU64>),
    /// An `f64`, as its bits (the `metrics` crate's gauge representation).
    Gauge(Arc<AtomicU64>),
    Level(Arc<AtomicI64>),
    Histogram(Arc<Timer>),
}

/// A histogram and its last completed flush interval.
#[derive(Debug, Default)]
pub(crate) struct Timer {
    pub(crate) histogram: Histogram,
    intervals: Mutex<Intervals>,
}

#[derive(Debug, Default)]
struct Intervals {
    /// The cumulative snapshot at the last flush.
    at_flush: Option<Snapshot>,
    /// The samples between the last two flushes; `None` before the second flush.
    last: Option<Snapshot>,
}

impl Timer {
    /// Closes an interval: what was recorded since the previous flush becomes the last
    /// interval. The first flush after start closes the interval since start.
    pub(crate) fn flush(&self) {
        let now = self.histogram.snapshot();
        let mut intervals = self.intervals.lock().unwrap_or_else(PoisonError::into_inner);
        let last = match &intervals.at_flush {
            Some(before) => now.since(before),
            None => now.clone(),
        };
        intervals.last = Some(last);
        intervals.at_flush = Some(now);
    }

    /// The samples of the last completed interval, `None` before the first flush.
    pub(crate) fn interval(&self) -> Option<Snapshot> {
        let intervals = self.intervals.lock().unwrap_or_else(PoisonError::into_inner);
        intervals.last.clone()
    }
}

/// A series' value at the moment it was read.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram {
        cumulative: Snapshot,
        interval: Option<Snapshot>,
    },
}

/// One series read out of the store (or computed from a control loop at scrape time).
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) name: &'static str,
    pub(crate) labels: Labels,
    pub(crate) value: Value,
}

impl Store {
    fn get_or_insert(&self, name: &'static str, labels: Labels, make: impl FnOnce() -> Metric) -> Metric {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series.entry((name, labels)).or_insert_with(make).clone()
    }

    pub(crate) fn counter(&self, name: &'static str, labels: Labels) -> Arc<AtomicU64> {
        match self.get_or_insert(name, labels, || Metric::Counter(Arc::default())) {
            Metric::Counter(c) => c,
            // A name registered as another kind: a programming error; count somewhere harmless.
            _ => Arc::default(),
        }
    }

    pub(crate) fn gauge(&self, name: &'static str, labels: Labels) -> Arc<AtomicU64> {
        match self.get_or_insert(name, labels, || Metric::Gauge(Arc::default())) {
            Metric::Gauge(g) => g,
            _ => Arc::default(),
        }
    }

    pub(crate) fn level(&self, name: &'static str, labels: Labels) -> Level {
        match self.get_or_insert(name, labels, || Metric::Level(Arc::default())) {
            Metric::Level(l) => Level(l),
            _ => Level::default(),
        }
    }

    pub(crate) fn timer(&self, name: &'static str, labels: Labels) -> Arc<Timer> {
        match self.get_or_insert(name, labels, || Metric::Histogram(Arc::default())) {
            Metric::Histogram(t) => t,
            _ => Arc::default(),
        }
    }

    /// Every histogram, for the flush task.
    pub(crate) fn timers(&self) -> Vec<Arc<Timer>> {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .values()
            .filter_map(|m| match m {
                Metric::Histogram(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every series' value now, sorted by name and labels.
    pub(crate) fn read(&self) -> Vec<Sample> {
        let metrics: Vec<_> = {
            let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
            series
                .iter()
                .map(|((n, l), m)| (*n, l.clone(), m.clone()))
                .collect()
        };
        metrics
            .into_iter()
            .map(|(name, labels, metric)| {
                let value = match metric {
                    Metric::Counter(c) => Value::Counter(c.load(Relaxed)),
                    Metric::Gauge(g) => Value::Gauge(f64::from_bits(g.load(Relaxed))),
                    Metric::Level(l) => Value::Gauge(l.load(Relaxed) as f64),
                    Metric::Histogram(t) => Value::Histogram {
                        cumulative: t.histogram.snapshot(),
                        interval: t.interval(),
                    },
                };
                Sample { name, labels, value }
            })
            .collect()
    }
}

/// An integer gauge moved up and down by [`Active`] guards (requests or connections in
/// flight): the guard makes a missed decrement impossible.
#[derive(Debug, Clone, Default)]
pub(crate) struct Level(Arc<AtomicI64>);

impl Level {
    /// Counts one more until the returned guard is dropped.
    pub(crate) fn enter(&self) -> Active {
        self.0.fetch_add(1, Relaxed);
        Active(self.0.clone())
    }
}

/// One unit of a [`Level`], given back on drop.
#[derive(Debug)]
pub(crate) struct Active(Arc<AtomicI64>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}
