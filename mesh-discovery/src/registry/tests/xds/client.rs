//! The test side of ADS: a registry with xDS on, and a tonic ADS stream driven by hand.

use super::super::*;
use crate::xds::api::envoy::config::core::v3::{address, socket_address};
use crate::xds::api::envoy::config::endpoint::v3::{ClusterLoadAssignment, lb_endpoint};
use crate::xds::api::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use crate::xds::api::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use prost::Message;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How long any one response may take here: generous, for a loaded machine. Promptness itself
/// is asserted where it matters (a registration reaches EDS within a second).
pub(super) const PROMPT: Duration = Duration::from_secs(5);

/// A registry with xDS on, both on OS-chosen ports.
pub(super) async fn serve_xds() -> (RegistryHandle, Arc<MemoryStore>) {
    let registry = Registry::new(RegistryConfig::default()).unwrap();
    let store = registry.store();
    let xds = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (registry.with_xds(xds).serve(http).unwrap(), store)
}

/// One ADS stream from the client side.
pub(super) struct Ads {
    pub(super) requests: mpsc::Sender<DiscoveryRequest>,
    pub(super) responses: tonic::Streaming<DiscoveryResponse>,
}

impl Ads {
    pub(super) async fn connect(handle: &RegistryHandle) -> Ads {
        let url = format!("http://{}", handle.xds_addr().unwrap());
        let mut client = AggregatedDiscoveryServiceClient::connect(url).await.unwrap();
        let (requests, rx) = mpsc::channel(16);
        let responses = client
            .stream_aggregated_resources(ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        Ads { requests, responses }
    }

    pub(super) async fn send(&self, type_url: &str, names: &[&str], acking: Option<&DiscoveryResponse>) {
        let request = DiscoveryRequest {
            type_url: type_url.into(),
            resource_names: names.iter().map(|n| (*n).into()).collect(),
            version_info: acking.map(|r| r.version_info.clone()).unwrap_or_default(),
            response_nonce: acking.map(|r| r.nonce.clone()).unwrap_or_default(),
            ..DiscoveryRequest::default()
        };
        self.requests.send(request).await.unwrap();
    }

    /// The next response, which must come within `PROMPT`.
    pub(super) async fn recv(&mut self) -> DiscoveryResponse {
        let next = tokio::time::timeout(PROMPT, self.responses.message()).await;
        next.expect("a response within PROMPT").unwrap().unwrap()
    }

    /// The next response, or `None` if nothing comes within `wait`.
    pub(super) async fn quiet_for(&mut self, wait: Duration) -> Option<DiscoveryResponse> {
        let next = tokio::time::timeout(wait, self.responses.message()).await.ok()?;
        next.unwrap()
    }
}

pub(super) fn decode<M: Message + Default>(response: &DiscoveryResponse) -> Vec<M> {
    let decoded = response
        .resources
        .iter()
        .map(|any| M::decode(any.value.as_slice()));
    decoded.collect::<Result<_, _>>().unwrap()
}

/// The `(address, weight, zone)` of every endpoint in an assignment.
pub(super) fn endpoints(assignment: &ClusterLoadAssignment) -> Vec<(SocketAddr, u32, String)> {
    let mut out = Vec::new();
    for locality in &assignment.endpoints {
        assert_eq!(
            locality.load_balancing_weight,
            Some(1),
            "gRPC drops weightless localities"
        );
        for lb in &locality.lb_endpoints {
            let Some(lb_endpoint::HostIdentifier::Endpoint(endpoint)) = &lb.host_identifier else {
                panic!("an endpoint, not a name: {lb:?}");
            };
            let Some(address::Address::SocketAddress(socket)) =
                endpoint.address.as_ref().unwrap().address.clone()
            else {
                panic!("a socket address");
            };
            let Some(socket_address::PortSpecifier::PortValue(port)) = socket.port_specifier else {
                panic!("a port number");
            };
            let ip: std::net::IpAddr = socket.address.parse().unwrap();
            let zone = locality.locality.clone().unwrap_or_default().zone;
            out.push((
                SocketAddr::new(ip, port as u16),
                lb.load_balancing_weight.unwrap(),
                zone,
            ));
        }
    }
    out
}
