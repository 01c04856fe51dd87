//! gRPC through a TLS listener: the client negotiates `h2` by ALPN, the proxy terminates TLS and
//! forwards over cleartext h2c to the backend.
//!
//! tonic is built without its TLS features here, so the channel gets a connector that dials the
//! proxy and runs the rustls handshake itself (ring provider, trusting only the test CA).

use http::Uri;
use http::uri::PathAndQuery;
use hyper_util::rt::TokioIo;
use mesh_tests::backend::Grpc;
use mesh_tests::backend::grpc::EchoMessage;
use mesh_tests::{BoxError, proxy, tls, within};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tonic::codegen::{BoxFuture, Service};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_prost::ProstCodec;

const T: Duration = Duration::from_secs(30);

/// Dials `addr` whatever the URI says, and speaks TLS for `localhost` offering only `h2`.
#[derive(Clone)]
struct TlsDial {
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
}

impl Service<Uri> for TlsDial {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let (addr, config) = (self.addr, self.config.clone());
        Box::pin(async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let stream = TlsConnector::from(config)
                .connect(tls::server_name("localhost"), tcp)
                .await?;
            let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            if alpn.as_deref() != Some(tls::H2.as_bytes()) {
                return Err(format!("proxy chose ALPN {alpn:?}, want h2").into());
            }
            Ok(TokioIo::new(stream))
        })
    }
}

#[tokio::test]
async fn grpc_over_a_tls_listener() {
    within(T, async {
        let g1 = Grpc::start("g1").await;
        let (_proxy, addr) = proxy::Config::new("grpc", &[g1.addr()])
            .protocol("http2")
            .route_timeout("0s")
            .listener_tls()
            .domain("localhost")
            .start()
            .await;
        let dial = TlsDial {
            addr,
            config: tls::client_config(&[tls::H2]),
        };
        // The URI gives `:scheme https` and `:authority localhost`; the connector ignores it.
        let channel: Channel = Endpoint::from_static("https://localhost")
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector(dial)
            .await
            .unwrap();

        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let path = PathAndQuery::from_static("/mesh.test.Echo/Unary");
        let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
        let reply = grpc
            .unary(Request::new(EchoMessage::new("secret")), path.clone(), codec)
            .await
            .unwrap();
        let (metadata, msg, _) = reply.into_parts();
        assert_eq!(msg.text, "secret");
        assert_eq!(metadata.get("x-backend").unwrap(), "g1");
        assert_eq!(metadata.get("x-echo-trailer").unwrap(), "yes");

        grpc.ready().await.unwrap();
        let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
        let status = grpc
            .unary(Request::new(EchoMessage::new("fail")), path, codec)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "fail requested");

        let mut health = HealthClient::new(channel);
        let check = HealthCheckRequest {
            service: "mesh.test.Echo".to_owned(),
        };
        let status = health.check(check).await.unwrap().into_inner().status();
        assert_eq!(status, ServingStatus::Serving);
        assert_eq!(g1.calls(), 2);
    })
    .await;
}
