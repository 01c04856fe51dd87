//! A hand-written client for `mesh.test.Echo` and `grpc.health.v1.Health` over a tonic `Channel`.

use super::echo::EchoMessage;
use crate::BoxError;
use http::uri::PathAndQuery;
use std::net::SocketAddr;
use std::time::Duration;
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_prost::ProstCodec;

/// A unary reply: the echoed text and the response metadata (headers and trailers merged).
#[derive(Debug)]
pub struct UnaryReply {
    pub text: String,
    pub metadata: MetadataMap,
}

impl UnaryReply {
    /// A metadata value as text.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key)?.to_str().ok()
    }
}

/// A client for the echo and health services (plaintext h2).
#[derive(Debug, Clone)]
pub struct EchoClient {
    channel: Channel,
}

impl EchoClient {
    /// Connects to `addr` with `:authority` = `addr`.
    pub async fn connect(addr: SocketAddr) -> Result<EchoClient, BoxError> {
        Self::connect_with_authority(addr, &addr.to_string()).await
    }

    /// Connects to `addr` (a proxy, say) while sending `:authority: {authority}`.
    pub async fn connect_with_authority(addr: SocketAddr, authority: &str) -> Result<EchoClient, BoxError> {
        let channel = Endpoint::from_shared(format!("http://{addr}"))?
            .origin(format!("http://{authority}").parse()?)
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await?;
        Ok(EchoClient { channel })
    }

    fn grpc(&self) -> tonic::client::Grpc<Channel> {
        tonic::client::Grpc::new(self.channel.clone())
    }

    /// Calls `/mesh.test.Echo/Unary`.
    pub async fn unary(&self, text: &str) -> Result<UnaryReply, Status> {
        let mut grpc = self.grpc();
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
        let path = PathAndQuery::from_static("/mesh.test.Echo/Unary");
        let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
        let response = grpc
            .unary(Request::new(EchoMessage::new(text)), path, codec)
            .await?;
        let (metadata, msg, _) = response.into_parts();
        Ok(UnaryReply {
            text: msg.text,
            metadata,
        })
    }

    /// Calls `/mesh.test.Echo/Bidi`, sending `texts` and collecting every echo until the server ends.
    pub async fn bidi(&self, texts: Vec<String>) -> Result<Vec<String>, Status> {
        let mut grpc = self.grpc();
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
        let path = PathAndQuery::from_static("/mesh.test.Echo/Bidi");
        let codec = ProstCodec::<EchoMessage, EchoMessage>::default();
        let outbound = futures_util::stream::iter(texts.into_iter().map(EchoMessage::new));
        let response = grpc.streaming(Request::new(outbound), path, codec).await?;
        let mut inbound = response.into_inner();
        let mut echoes = Vec::new();
        while let Some(msg) = inbound.message().await? {
            echoes.push(msg.text);
        }
        Ok(echoes)
    }

    /// `grpc.health.v1.Health/Check` for `service` (`""` for the server as a whole).
    pub async fn health(&self, service: &str) -> Result<ServingStatus, Status> {
        let mut health = HealthClient::new(self.channel.clone());
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?;
        Ok(response.into_inner().status())
    }
}
