//! The OTLP exporter, quiet: a failed export drops its batch and says so once.
//!
//! The SDK would report every failed batch (one every few seconds while a collector is
//! down); this wrapper logs the first failure at `warn`, stays silent while failures go on,
//! and logs recovery at `info` once an export succeeds. The processor always sees success, so
//! it never logs or retries on its own.

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub(super) struct LogOnce<E> {
    inner: E,
    collector: SocketAddr,
    failing: AtomicBool,
}

impl<E> LogOnce<E> {
    pub(super) fn new(inner: E, collector: SocketAddr) -> Self {
        LogOnce {
            inner,
            collector,
            failing: AtomicBool::new(false),
        }
    }
}

impl<E: SpanExporter> SpanExporter for LogOnce<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        match self.inner.export(batch).await {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(collector = %self.collector, "span export works again");
                }
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        collector = %self.collector, %error, spans,
                        "span export failed; dropping spans until the collector answers"
                    );
                }
            }
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::error::OTelSdkError;
    use std::sync::atomic::AtomicUsize;

    /// Fails while `down` is set; counts its calls.
    #[derive(Debug, Default)]
    struct Collector {
        down: AtomicBool,
        calls: AtomicUsize,
    }

    impl SpanExporter for &'static Collector {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            self.calls.fetch_add(1, Ordering::Relaxed);
            match self.down.load(Ordering::Relaxed) {
                true => Err(OTelSdkError::InternalFailure("unreachable".into())),
                false => Ok(()),
            }
        }
    }

    #[tokio::test]
    async fn failures_reach_neither_the_processor_nor_the_log_twice() {
        let collector: &'static Collector = Box::leak(Box::default());
        let quiet = LogOnce::new(collector, "127.0.0.1:4317".parse().unwrap());
        collector.down.store(true, Ordering::Relaxed);
        for _ in 0..3 {
            assert!(quiet.export(Vec::new()).await.is_ok());
            assert!(quiet.failing.load(Ordering::Relaxed), "logged once, then quiet");
        }
        collector.down.store(false, Ordering::Relaxed);
        assert!(quiet.export(Vec::new()).await.is_ok());
        assert!(
            !quiet.failing.load(Ordering::Relaxed),
            "the next failure is news again"
        );
        assert_eq!(
            collector.calls.load(Ordering::Relaxed),
            4,
            "every batch was tried"
        );
    }
}
