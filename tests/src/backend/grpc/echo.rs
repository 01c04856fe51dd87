//! `mesh.test.Echo`, written against tonic's generic server API the way generated code is.

use futures_util::StreamExt;
use http_body_util::BodyExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::{BoxFuture, BoxStream, Service, StdError};
use tonic::metadata::MetadataValue;
use tonic::server::{Grpc, NamedService, StreamingService, UnaryService};
use tonic::{Request, Response, Status, Streaming};
use tonic_prost::ProstCodec;

/// The service's full name.
pub const ECHO_SERVICE: &str = "mesh.test.Echo";
/// The text that makes either method fail with `INVALID_ARGUMENT`.
pub const FAIL: &str = "fail";

/// The one message type of `mesh.test.Echo`: `message EchoMessage { string text = 1; }`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct EchoMessage {
    #[prost(string, tag = "1")]
    pub text: String,
}

impl EchoMessage {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

fn fail_requested() -> Status {
    Status::invalid_argument("fail requested")
}

/// The echo service as a tower `Service` that `tonic::transport::Server` can route to.
#[derive(Debug, Clone)]
pub struct EchoService {
    backend: Arc<str>,
    calls: Arc<AtomicUsize>,
}

impl EchoService {
    pub fn new(backend: &str, calls: Arc<AtomicUsize>) -> Self {
        Self {
            backend: backend.into(),
            calls,
        }
    }

    fn with_backend<T>(&self, mut response: Response<T>) -> Response<T> {
        if let Ok(value) = MetadataValue::try_from(&*self.backend) {
            response.metadata_mut().insert("x-backend", value);
        }
        response
    }
}

impl NamedService for EchoService {
    const NAME: &'static str = ECHO_SERVICE;
}

impl UnaryService<EchoMessage> for EchoService {
    type Response = EchoMessage;
    type Future = BoxFuture<Response<EchoMessage>, Status>;

    fn call(&mut self, request: Request<EchoMessage>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let msg = request.into_inner();
            if msg.text == FAIL {
                return Err(fail_requested());
            }
            Ok(this.with_backend(Response::new(msg)))
        })
    }
}

/// The `Bidi` method (a separate type: one type cannot be both kinds of tonic method).
#[derive(Debug, Clone)]
struct Bidi(EchoService);

impl StreamingService<EchoMessage> for Bidi {
    type Response = EchoMessage;
    type ResponseStream = BoxStream<EchoMessage>;
    type Future = BoxFuture<Response<Self::ResponseStream>, Status>;

    fn call(&mut self, request: Request<Streaming<EchoMessage>>) -> Self::Future {
        let this = self.0.clone();
        Box::pin(async move {
            // Echo until the client's stream ends; a "fail" message ends the call with an error.
            let echoes = futures_util::stream::unfold(Some(request.into_inner()), |inbound| async move {
                let mut inbound = inbound?;
                match inbound.next().await? {
                    Ok(msg) if msg.text == FAIL => Some((Err(fail_requested()), None)),
                    Ok(msg) => Some((Ok(msg), Some(inbound))),
                    Err(status) => Some((Err(status), None)),
                }
            });
            let stream: Self::ResponseStream = Box::pin(echoes);
            Ok(this.with_backend(Response::new(stream)))
        })
    }
}

impl<B> Service<http::Request<B>> for EchoService
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let this = self.clone();
        match req.uri().path() {
            "/mesh.test.Echo/Unary" => Box::pin(async move {
                this.calls.fetch_add(1, Ordering::SeqCst);
                let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
                let response = Grpc::new(codec).unary(this, req).await;
                Ok(response.map(add_echo_trailer))
            }),
            "/mesh.test.Echo/Bidi" => Box::pin(async move {
                this.calls.fetch_add(1, Ordering::SeqCst);
                let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
                Ok(Grpc::new(codec).streaming(Bidi(this), req).await)
            }),
            _ => Box::pin(async move { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// Adds `x-echo-trailer: yes` to the body's trailers (a successful call ends with trailers that
/// carry `grpc-status`; a failed unary call is trailers-only and has none to extend).
fn add_echo_trailer(body: Body) -> Body {
    Body::new(body.map_frame(|frame| match frame.into_trailers() {
        Ok(mut trailers) => {
            trailers.insert("x-echo-trailer", http::HeaderValue::from_static("yes"));
            http_body::Frame::trailers(trailers)
        }
        Err(frame) => frame,
    }))
}
