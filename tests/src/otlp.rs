//! An OpenTelemetry collector for tests: the OTLP/gRPC `TraceService` (from the
//! `opentelemetry-proto` crate's generated server) on `127.0.0.1:0`, handing every span it
//! receives to the test, flattened to what a test asserts on ([`Span`]).
//!
//! It accepts every export (an empty `ExportTraceServiceResponse`) and stops when dropped.

use crate::backend::bind_loopback;
use crate::within;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};
use tonic::transport::server::TcpIncoming;

/// One received span, IDs in lowercase hex as `traceparent` writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The `service.name` of the resource the span came with.
    pub service: String,
    pub name: String,
    pub kind: SpanKind,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// String, integer and boolean attributes, as text.
    pub attributes: BTreeMap<String, String>,
    /// The OTLP status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
}

impl Span {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct Inbox {
    spans: Mutex<Vec<Span>>,
    arrived: Notify,
}

/// A running receiver; dropping it stops the server.
#[derive(Debug)]
pub struct OtlpReceiver {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    _shutdown: oneshot::Sender<()>,
}

impl OtlpReceiver {
    pub async fn start() -> OtlpReceiver {
        let (listener, addr) = bind_loopback().await;
        let inbox = Arc::new(Inbox::default());
        let service = TraceServiceServer::new(Collector(inbox.clone()));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let incoming = TcpIncoming::from(listener);
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        OtlpReceiver {
            addr,
            inbox,
            _shutdown: shutdown,
        }
    }

    /// The `ip:port` for `tracing.otlp.address`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.inbox.spans.lock().unwrap().clone()
    }

    /// Waits until at least `n` spans have arrived (panics after `limit`), and returns all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Span> {
        within(limit, async {
            loop {
                let arrived = self.inbox.arrived.notified();
                let spans = self.spans();
                if spans.len() >= n {
                    return spans;
                }
                arrived.await;
            }
        })
        .await
    }
}

#[derive(Debug)]
struct Collector(Arc<Inbox>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans.resource.map(|r| attributes(&r.attributes));
            let service = resource
                .and_then(|mut r| r.remove("service.name"))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                received.extend(scope.spans.into_iter().map(|s| Span {
                    service: service.clone(),
                    kind: SpanKind::try_from(s.kind).unwrap_or(SpanKind::Unspecified),
                    name: s.name,
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    attributes: attributes(&s.attributes),
                    status_code: s.status.map_or(0, |st| st.code),
                }));
            }
        }
        self.0.spans.lock().unwrap().extend(received);
        self.0.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .filter_map(|kv| Some((kv.key.clone(), text(kv.value.as_ref()?)?)))
        .collect()
}

fn text(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
