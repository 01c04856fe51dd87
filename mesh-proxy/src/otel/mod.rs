//! OpenTelemetry spans: one per request per hop, exported over OTLP/gRPC.
//!
//! Policy: with a top-level `tracing` block the proxy owns one `SdkTracerProvider` (nothing
//! global: several proxies in one process each export their own spans) with a batch span
//! processor and the OTLP gRPC exporter. Each HTTP listener gets a [`HopTracer`] with its
//! `random_sampling`. Per request ([`hop`]): extract the caller's W3C or B3 context, decide
//! with `mesh_filters::trace::decide` (the caller's flag, else the request ID), record a span
//! only when sampled, and inject this hop's context into the request sent upstream.
//! Without the `tracing` block: no provider, no spans, and trace headers pass through as they
//! came.
//!
//! Failure: exporting never blocks or fails a request. Spans wait in the processor's bounded
//! queue (2048, then dropped) and a background thread sends them in batches (every 5s or 512
//! spans, retried up to 3 times within `otlp.timeout`, the OTLP exporter's recommended policy);
//! an export that still fails (collector down, timeout) drops its batch and is logged once
//! per proxy (see [`exporter`]), then again only after exports succeed in between.
//!
//! Lifetime: the provider is built at start and flushed and shut down when the proxy shuts
//! down. `tracing` cannot change on reload (refused like `admin.address`): the exporter is
//! fixed for the proxy's life; the listeners' `random_sampling` can.

mod exporter;
mod hop;

pub(crate) use hop::{HopTracer, Recorded};

use crate::StartError;
use mesh_core::policy::{ListenerTracing, Tracing};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::sync::Arc;

/// Name of the instrumentation scope on every span this proxy records.
const SCOPE: &str = "mesh-proxy";

/// This proxy's span pipeline: provider, batch processor, exporter.
#[derive(Debug)]
pub(crate) struct Otel {
    provider: SdkTracerProvider,
    config: Tracing,
}

impl Otel {
    /// Builds the pipeline; the exporter connects lazily, so an absent collector is not an
    /// error here (its spans are dropped later, logged once). Needs a tokio runtime.
    pub(crate) fn start(config: &Tracing) -> Result<Self, StartError> {
        let otlp = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(format!("http://{}", config.otlp.address))
            .with_timeout(config.otlp.timeout)
            .build()
            .map_err(|e| StartError::Tracing(e.to_string()))?;
        let resource = Resource::builder_empty()
            .with_service_name(config.service_name.clone())
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter::LogOnce::new(otlp, config.otlp.address))
            // The hop decides before it starts a span (see `hop`); the SDK records what it gets.
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(resource)
            .build();
        Ok(Otel {
            provider,
            config: config.clone(),
        })
    }

    pub(crate) fn config(&self) -> &Tracing {
        &self.config
    }

    /// The per-request side for HTTP listener `listener`.
    pub(crate) fn hop(&self, listener: &str, sampling: ListenerTracing) -> HopTracer {
        HopTracer::new(self.provider.tracer(SCOPE), Arc::from(listener), sampling)
    }

    /// Exports what is queued and stops the batch thread. It blocks while it waits, so it
    /// runs on the blocking pool, leaving the runtime free to drive the exporter's channel.
    pub(crate) async fn shutdown(&self) {
        let provider = self.provider.clone();
        let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = done {
            tracing::debug!(error = %e, "tracer provider shutdown");
        }
    }
}

/// `tracing` as said in a reload refusal.
pub(crate) fn describe(tracing: Option<&Tracing>) -> String {
    match tracing {
        None => "off".to_owned(),
        Some(t) => format!(
            "otlp {} timeout {:?}, service_name {:?}",
            t.otlp.address, t.otlp.timeout, t.service_name
        ),
    }
}
