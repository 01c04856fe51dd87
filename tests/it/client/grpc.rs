//! A tonic channel to a named service through the egress proxy: the call's request ID and
//! trace arrive at a tonic server that takes them in with `MeshContextLayer`; a proxy failure
//! reply maps back to its kind.

use super::{T, Upstream, egress, trace_id};
use http::uri::PathAndQuery;
use mesh_client::context::{MeshContext, REQUEST_ID, TRACEPARENT};
use mesh_client::{ErrorKind, MeshClient, MeshContextLayer};
use mesh_tests::backend::grpc::{ECHO_SERVICE, EchoMessage, EchoService};
use mesh_tests::within;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::NamedService;
use tonic_prost::ProstCodec;
use tower::Service;

const TRACEPARENT_IN: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// The echo service, noting the context each call ran in.
#[derive(Clone)]
struct Recording {
    echo: EchoService,
    seen: Arc<Mutex<Vec<Option<MeshContext>>>>,
}

impl NamedService for Recording {
    const NAME: &'static str = ECHO_SERVICE;
}

impl Service<http::Request<Body>> for Recording {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        self.seen.lock().unwrap().push(MeshContext::current());
        self.echo.call(req)
    }
}

#[tokio::test]
async fn a_tonic_channel_through_the_proxy_carries_the_request_id_and_trace() {
    within(T, async {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recording = Recording {
            echo: EchoService::new("echo", Arc::default()),
            seen: seen.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_addr = listener.local_addr().unwrap();
        let server = tonic::transport::Server::builder()
            .layer(MeshContextLayer::new())
            .add_service(recording)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
        let _server = mesh_tests::AbortOnDrop(tokio::spawn(async move {
            let _ = server.await;
        }));
        let upstreams = [
            Upstream {
                name: "echo",
                endpoints: &[server_addr],
                extra: "protocol: http2",
            },
            Upstream {
                name: "gone",
                endpoints: &[],
                extra: "protocol: http2",
            },
        ];
        let (_proxy, client) = egress(&upstreams, MeshClient::builder()).await;

        let ctx = MeshContext::new()
            .with(&REQUEST_ID, "grpc-rid-7".parse().unwrap())
            .with(&TRACEPARENT, TRACEPARENT_IN.parse().unwrap());
        let channel = client.channel("echo").unwrap();
        let reply = ctx
            .scope(async {
                let mut grpc = tonic::client::Grpc::new(channel);
                grpc.ready().await.unwrap();
                grpc.unary(
                    tonic::Request::new(EchoMessage::new("hello")),
                    PathAndQuery::from_static("/mesh.test.Echo/Unary"),
                    ProstCodec::<EchoMessage, EchoMessage>::default(),
                )
                .await
            })
            .await
            .expect("the echo call through the proxy");
        assert_eq!(reply.get_ref().text, "hello");

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let at_server = seen[0].clone().expect("the server layer set a context");
        assert_eq!(at_server.request_id(), Some("grpc-rid-7"));
        assert_eq!(
            at_server.traceparent().map(trace_id),
            Some(trace_id(TRACEPARENT_IN))
        );

        // A proxy failure reply is a trailers-only status whose flags map back.
        let mut grpc = tonic::client::Grpc::new(client.channel("gone").unwrap());
        grpc.ready().await.unwrap();
        let status = grpc
            .unary(
                tonic::Request::new(EchoMessage::new("hello")),
                PathAndQuery::from_static("/mesh.test.Echo/Unary"),
                ProstCodec::<EchoMessage, EchoMessage>::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert_eq!(
            mesh_client::grpc::error_kind(&status),
            Some(ErrorKind::NoHealthyUpstream)
        );
    })
    .await;
}
