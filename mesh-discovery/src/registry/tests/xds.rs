//! The registry over xDS, from a real tonic ADS client on 127.0.0.1:0: what a client
//! subscribed to CDS and EDS sees as hosts come and go, NACKs, and named EDS subscriptions.

mod client;

use super::*;
use crate::xds::api::envoy::config::cluster::v3::Cluster;
use crate::xds::api::envoy::config::endpoint::v3::ClusterLoadAssignment;
use crate::xds::api::envoy::config::listener::v3::Listener;
use crate::xds::api::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use crate::xds::api::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DiscoveryRequest, DiscoveryResponse,
};
use crate::xds::api::google::rpc::Status;
use crate::xds::api::type_url::{CLUSTER as CDS, CLUSTER_LOAD_ASSIGNMENT as EDS, LISTENER as LDS};
use client::{Ads, PROMPT, decode, endpoints, serve_xds};
use std::collections::BTreeMap;

/// Receives `n` responses, ACKs each (CDS as a wildcard, EDS for `api`), and returns them by
/// type URL.
async fn recv_and_ack(ads: &mut Ads, n: usize) -> BTreeMap<String, DiscoveryResponse> {
    let mut by_type = BTreeMap::new();
    for _ in 0..n {
        let response = ads.recv().await;
        let names: &[&str] = if response.type_url == EDS { &["api"] } else { &[] };
        ads.send(&response.type_url, names, Some(&response)).await;
        by_type.insert(response.type_url.clone(), response);
    }
    by_type
}

#[tokio::test]
async fn a_registered_host_appears_in_eds_and_goes_on_deregistration() {
    let (handle, store) = serve_xds().await;
    let mut ads = Ads::connect(&handle).await;
    ads.send(CDS, &[], None).await;
    let clusters = recv_and_ack(&mut ads, 1).await.remove(CDS).unwrap();
    assert!(clusters.resources.is_empty(), "nothing registered yet");

    // Asking for `api` by name makes the registry serve it, empty: the cluster shows up for
    // the wildcard CDS subscription too.
    ads.send(EDS, &["api"], None).await;
    let mut empty = recv_and_ack(&mut ads, 2).await;
    let cluster: Vec<Cluster> = decode(&empty.remove(CDS).unwrap());
    assert_eq!(cluster.len(), 1);
    assert_eq!(cluster[0].name, "api");
    assert!(cluster[0].eds_cluster_config.is_some(), "endpoints come from EDS");
    let assignment: Vec<ClusterLoadAssignment> = decode(&empty.remove(EDS).unwrap());
    assert_eq!(assignment[0].cluster_name, "api");
    assert!(endpoints(&assignment[0]).is_empty());

    let host = Instance {
        zone: Some("zone-a".into()),
        weight: Some(3),
        ..Instance::new(addr("127.0.0.1:9001"))
    };
    let registered = std::time::Instant::now();
    store
        .register(&name("api"), host, Duration::from_secs(60))
        .await
        .unwrap();
    let eds = recv_and_ack(&mut ads, 1)
        .await
        .remove(EDS)
        .expect("an EDS update");
    let latency = registered.elapsed();
    assert!(latency < Duration::from_secs(1), "EDS took {latency:?}");
    let assignment: Vec<ClusterLoadAssignment> = decode(&eds);
    assert_eq!(
        endpoints(&assignment[0]),
        [(addr("127.0.0.1:9001"), 3, "zone-a".to_owned())]
    );
    let quiet = ads.quiet_for(Duration::from_millis(300)).await;
    assert!(quiet.is_none(), "the cluster did not change: {quiet:?}");

    store
        .deregister(&name("api"), addr("127.0.0.1:9001"))
        .await
        .unwrap();
    let gone = ads.recv().await;
    assert_eq!(
        gone.type_url, EDS,
        "the cluster stays while subscribed, its endpoints go"
    );
    let assignment: Vec<ClusterLoadAssignment> = decode(&gone);
    assert_eq!(
        assignment.len(),
        1,
        "an empty assignment, not silence: EDS clients keep what they had"
    );
    assert!(endpoints(&assignment[0]).is_empty());
    assert_eq!(handle.xds_stats().unwrap().nacks(), 0);
}

#[tokio::test]
async fn a_nack_is_not_answered_with_the_same_version() {
    let (handle, store) = serve_xds().await;
    let ttl = Duration::from_secs(60);
    store
        .register(&name("api"), Instance::new(addr("127.0.0.1:9001")), ttl)
        .await
        .unwrap();
    let mut ads = Ads::connect(&handle).await;
    ads.send(CDS, &[], None).await;
    let first = ads.recv().await;
    assert_eq!(decode::<Cluster>(&first).len(), 1);

    let nack = DiscoveryRequest {
        type_url: CDS.into(),
        version_info: String::new(), // nothing accepted yet
        response_nonce: first.nonce.clone(),
        error_detail: Some(Status {
            code: 3,
            message: "cluster api: rejected for the test".into(),
            details: Vec::new(),
        }),
        ..DiscoveryRequest::default()
    };
    ads.requests.send(nack).await.unwrap();
    assert!(
        ads.quiet_for(Duration::from_millis(500)).await.is_none(),
        "the rejected version again"
    );
    assert_eq!(handle.xds_stats().unwrap().nacks(), 1);

    store
        .register(&name("web"), Instance::new(addr("127.0.0.1:9002")), ttl)
        .await
        .unwrap();
    let next = ads.recv().await;
    assert_ne!(next.version_info, first.version_info);
    let names: Vec<String> = decode::<Cluster>(&next).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["api", "web"]);
}

#[tokio::test]
async fn a_named_eds_subscription_gets_only_the_service_it_asked_for() {
    let (handle, store) = serve_xds().await;
    let ttl = Duration::from_secs(60);
    store
        .register(&name("a"), Instance::new(addr("127.0.0.1:9001")), ttl)
        .await
        .unwrap();
    store
        .register(&name("b"), Instance::new(addr("127.0.0.1:9002")), ttl)
        .await
        .unwrap();
    let mut ads = Ads::connect(&handle).await;
    ads.send(EDS, &["b"], None).await;
    let first = ads.recv().await;
    let assignments: Vec<ClusterLoadAssignment> = decode(&first);
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].cluster_name, "b");
    assert_eq!(endpoints(&assignments[0])[0].0, addr("127.0.0.1:9002"));
    ads.send(EDS, &["b"], Some(&first)).await;

    store
        .register(&name("a"), Instance::new(addr("127.0.0.1:9003")), ttl)
        .await
        .unwrap();
    assert!(
        ads.quiet_for(Duration::from_millis(300)).await.is_none(),
        "a's change is not b's business"
    );
    store
        .register(&name("b"), Instance::new(addr("127.0.0.1:9004")), ttl)
        .await
        .unwrap();
    let b: Vec<ClusterLoadAssignment> = decode(&ads.recv().await);
    assert_eq!(b.len(), 1);
    assert_eq!(endpoints(&b[0]).len(), 2);

    // The same registry answers gRPC's LDS lookup for the service by name.
    ads.send(LDS, &["b"], None).await;
    let listeners: Vec<Listener> = decode(&ads.recv().await);
    assert_eq!(listeners.len(), 1);
    assert_eq!(listeners[0].name, "b");
    assert!(listeners[0].api_listener.is_some());
}

#[tokio::test]
async fn delta_xds_is_refused_as_unimplemented() {
    let (handle, _store) = serve_xds().await;
    let url = format!("http://{}", handle.xds_addr().unwrap());
    let mut client = AggregatedDiscoveryServiceClient::connect(url).await.unwrap();
    let requests = tokio_stream::iter(Vec::<DeltaDiscoveryRequest>::new());
    let refused = tokio::time::timeout(PROMPT, client.delta_aggregated_resources(requests)).await;
    assert_eq!(refused.unwrap().unwrap_err().code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn stopping_the_registry_ends_xds_streams() {
    let (handle, _store) = serve_xds().await;
    let mut ads = Ads::connect(&handle).await;
    ads.send(CDS, &[], None).await;
    ads.recv().await;
    drop(handle);
    let end = tokio::time::timeout(PROMPT, ads.responses.message()).await;
    let status = end.expect("the stream ends promptly").unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status}");
}

#[tokio::test]
async fn a_name_is_served_while_some_client_asks_for_it() {
    let (handle, _store) = serve_xds().await;
    let mut watcher = Ads::connect(&handle).await;
    watcher.send(CDS, &[], None).await;
    let none = watcher.recv().await;
    assert!(none.resources.is_empty());
    watcher.send(CDS, &[], Some(&none)).await;

    // gRPC started before its backend: it asks for the listener of a service with no instances
    // yet, and gets it (with an empty cluster) rather than "does not exist".
    let mut early = Ads::connect(&handle).await;
    early.send(LDS, &["later"], None).await;
    let listeners: Vec<Listener> = decode(&early.recv().await);
    assert_eq!(listeners[0].name, "later");
    let seen = watcher.recv().await;
    let clusters: Vec<Cluster> = decode(&seen);
    assert_eq!(clusters[0].name, "later");
    watcher.send(CDS, &[], Some(&seen)).await;

    drop(early);
    let gone = watcher.recv().await;
    assert!(
        gone.resources.is_empty(),
        "no instances and nobody asking: not served"
    );
}
