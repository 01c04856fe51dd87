//! The client's side of the protocol against a scripted ADS server that records every
//! request: ACKs repeat the response's version and nonce, NACKs keep the last accepted
//! version and say why, EDS follows CDS, and a reconnect resumes with the versions held.

use super::{XdsOptions, start};
use crate::xds::api::envoy::config::cluster::v3::Cluster;
use crate::xds::api::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, EdsClusterConfig,
};
use crate::xds::api::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ConfigSource, SocketAddress, address, config_source, socket_address,
};
use crate::xds::api::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use crate::xds::api::envoy::service::discovery::v3::aggregated_discovery_service_server::{
    AggregatedDiscoveryService, AggregatedDiscoveryServiceServer,
};
use crate::xds::api::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use crate::xds::api::type_url;
use futures_util::Stream;
use prost::Message;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Request, Response, Status, Streaming};

type Responses = mpsc::UnboundedReceiver<Result<DiscoveryResponse, Status>>;
type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Each stream answers from the next queued response channel; every request is recorded.
struct Scripted {
    requests: mpsc::UnboundedSender<DiscoveryRequest>,
    streams: Arc<Mutex<VecDeque<Responses>>>,
}

#[tonic::async_trait]
impl AggregatedDiscoveryService for Scripted {
    type StreamAggregatedResourcesStream = Boxed<DiscoveryResponse>;
    type DeltaAggregatedResourcesStream = Boxed<DeltaDiscoveryResponse>;

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamAggregatedResourcesStream>, Status> {
        let Some(responses) = self.streams.lock().unwrap().pop_front() else {
            return Err(Status::unavailable("no script for another stream"));
        };
        let (mut incoming, record) = (request.into_inner(), self.requests.clone());
        tokio::spawn(async move {
            while let Ok(Some(r)) = incoming.message().await {
                let _ = record.send(r);
            }
        });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(responses))))
    }

    async fn delta_aggregated_resources(
        &self,
        _: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaAggregatedResourcesStream>, Status> {
        Err(Status::unimplemented("state of the world only"))
    }
}

struct Harness {
    requests: mpsc::UnboundedReceiver<DiscoveryRequest>,
    streams: Arc<Mutex<VecDeque<Responses>>>,
    server: std::net::SocketAddr,
}

impl Harness {
    async fn start() -> Harness {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        let (tx, requests) = mpsc::unbounded_channel();
        let streams = Arc::new(Mutex::new(VecDeque::new()));
        let service = AggregatedDiscoveryServiceServer::new(Scripted {
            requests: tx,
            streams: streams.clone(),
        });
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming),
        );
        Harness {
            requests,
            streams,
            server,
        }
    }

    /// Queues the responses of the next stream; dropping the sender ends that stream.
    fn next_stream(&self) -> mpsc::UnboundedSender<Result<DiscoveryResponse, Status>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.streams.lock().unwrap().push_back(rx);
        tx
    }

    /// The next request of type `kind`, skipping others (bounded).
    async fn request(&mut self, kind: &str) -> DiscoveryRequest {
        let wait = async {
            loop {
                let r = self.requests.recv().await.expect("the server stopped");
                if r.type_url == kind {
                    return r;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("no request of that type")
    }
}

fn response(
    kind: &str,
    version: &str,
    nonce: &str,
    resources: Vec<prost_types::Any>,
) -> Result<DiscoveryResponse, Status> {
    Ok(DiscoveryResponse {
        version_info: version.into(),
        resources,
        type_url: kind.into(),
        nonce: nonce.into(),
        ..DiscoveryResponse::default()
    })
}

fn cluster(name: &str, kind: DiscoveryType) -> prost_types::Any {
    let c = Cluster {
        name: name.into(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(kind.into())),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..ConfigSource::default()
            }),
            service_name: String::new(),
        }),
        ..Cluster::default()
    };
    prost_types::Any {
        type_url: type_url::CLUSTER.into(),
        value: c.encode_to_vec(),
    }
}

fn assignment(name: &str, port: u32) -> prost_types::Any {
    let address = Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: "127.0.0.1".into(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..SocketAddress::default()
        })),
    };
    let cla = ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: vec![LbEndpoint {
                host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                    address: Some(address),
                    ..Endpoint::default()
                })),
                ..LbEndpoint::default()
            }],
            ..LocalityLbEndpoints::default()
        }],
        ..ClusterLoadAssignment::default()
    };
    prost_types::Any {
        type_url: type_url::CLUSTER_LOAD_ASSIGNMENT.into(),
        value: cla.encode_to_vec(),
    }
}

fn options(server: std::net::SocketAddr) -> XdsOptions {
    XdsOptions {
        server,
        node_id: "proxy-1".into(),
        node_cluster: "edge".into(),
        zone: Some("a".into()),
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn acks_repeat_version_and_nonce_nacks_keep_the_last_good_version_and_a_reconnect_resumes() {
    let mut h = Harness::start().await;
    let first = h.next_stream();
    let base = mesh_core::config::Bootstrap {
        dynamic_resources: Some(mesh_core::config::DynamicResources {
            ads: Some(mesh_core::config::Ads {
                address: Some(h.server.to_string()),
                initial_fetch_timeout: None,
            }),
        }),
        ..mesh_core::config::Bootstrap::default()
    };
    let client = start(options(h.server), Arc::new(base));

    let cds = h.request(type_url::CLUSTER).await;
    let node = cds.node.clone().unwrap();
    assert_eq!((node.id.as_str(), node.cluster.as_str()), ("proxy-1", "edge"));
    assert_eq!(node.locality.unwrap().zone, "a");
    assert!(
        cds.resource_names.is_empty() && cds.version_info.is_empty(),
        "a wildcard first request"
    );

    first
        .send(response(
            type_url::CLUSTER,
            "1",
            "n1",
            vec![cluster("web", DiscoveryType::Eds)],
        ))
        .unwrap();
    let ack = h.request(type_url::CLUSTER).await;
    assert_eq!(ack.error_detail.map(|e| e.message), None);
    assert_eq!(
        (ack.version_info.as_str(), ack.response_nonce.as_str()),
        ("1", "n1")
    );
    let eds = h.request(type_url::CLUSTER_LOAD_ASSIGNMENT).await;
    assert_eq!(
        eds.resource_names,
        vec!["web".to_owned()],
        "EDS follows the accepted clusters"
    );
    let config = client.configs.borrow().clone().unwrap();
    assert_eq!(config.clusters[0].name, "web");

    first
        .send(response(
            type_url::CLUSTER,
            "2",
            "n2",
            vec![cluster("web", DiscoveryType::LogicalDns)],
        ))
        .unwrap();
    let nack = h.request(type_url::CLUSTER).await;
    assert_eq!(
        (nack.version_info.as_str(), nack.response_nonce.as_str()),
        ("1", "n2")
    );
    let detail = nack.error_detail.expect("a NACK says why");
    assert!(detail.message.contains("web"), "{}", detail.message);
    assert_eq!(client.stats().rejected(), 1);
    assert!(
        Arc::ptr_eq(&client.configs.borrow().clone().unwrap(), &config),
        "the accepted config stays"
    );

    let mut sets = client.endpoints.subscribe("web");
    first
        .send(response(
            type_url::CLUSTER_LOAD_ASSIGNMENT,
            "e1",
            "n3",
            vec![assignment("web", 8080)],
        ))
        .unwrap();
    let ack = h.request(type_url::CLUSTER_LOAD_ASSIGNMENT).await;
    assert_eq!(
        (ack.version_info.as_str(), ack.response_nonce.as_str()),
        ("e1", "n3")
    );
    sets.wait_for(|s| s.endpoints.len() == 1).await.unwrap();
    assert_eq!(sets.borrow().version.as_deref(), Some("e1"));

    // The server goes away; the client comes back asking with what it holds.
    let _second = h.next_stream();
    drop(first);
    let cds = h.request(type_url::CLUSTER).await;
    assert_eq!(
        (cds.version_info.as_str(), cds.response_nonce.as_str()),
        ("1", "")
    );
    let eds = h.request(type_url::CLUSTER_LOAD_ASSIGNMENT).await;
    assert_eq!(
        (eds.version_info.as_str(), eds.resource_names.clone()),
        ("e1", vec!["web".to_owned()])
    );
    // Counted once the stream's headers are back, which may be just after its first requests.
    for _ in 0..200 {
        if client.stats().connects() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(client.stats().connects(), 2);
    assert_eq!(
        sets.borrow().endpoints.len(),
        1,
        "endpoints survive the reconnect"
    );
}
