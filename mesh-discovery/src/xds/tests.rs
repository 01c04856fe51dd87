//! The per-stream protocol ([`AdsStream`]) driven by hand: subscriptions, ACK/NACK, stale
//! nonces, named vs wildcard selection.

use super::api::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use super::api::google::rpc::Status;
use super::api::type_url::{CLUSTER as CDS, CLUSTER_LOAD_ASSIGNMENT as EDS};
use super::stream::AdsStream;
use super::*;
use prost_types::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

fn resource(value: &str) -> Any {
    Any {
        type_url: "test".into(),
        value: value.as_bytes().to_vec(),
    }
}

/// Publishes `(type_url, name, value)` resources and returns the resulting snapshot.
fn publish(cache: &SnapshotCache, items: &[(&str, &str, &str)]) -> Arc<Snapshot> {
    let mut by_type: BTreeMap<String, BTreeMap<String, Any>> = BTreeMap::new();
    for (type_url, name, value) in items {
        by_type
            .entry((*type_url).into())
            .or_default()
            .insert((*name).into(), resource(value));
    }
    cache.publish(by_type);
    cache.current()
}

fn stream() -> (AdsStream, Arc<AdsStats>) {
    let stats = Arc::new(AdsStats::default());
    let wildcard = [CDS.to_owned()].into_iter().collect();
    let subscriptions = Arc::default();
    (
        AdsStream::new(Arc::new(wildcard), Arc::clone(&stats), subscriptions),
        stats,
    )
}

fn request(type_url: &str, names: &[&str], version: &str, nonce: &str) -> DiscoveryRequest {
    DiscoveryRequest {
        type_url: type_url.into(),
        resource_names: names.iter().map(|n| (*n).into()).collect(),
        version_info: version.into(),
        response_nonce: nonce.into(),
        ..DiscoveryRequest::default()
    }
}

fn nack(of: &DiscoveryResponse, accepted_version: &str) -> DiscoveryRequest {
    DiscoveryRequest {
        error_detail: Some(Status {
            code: 3,
            message: "bad cluster".into(),
            details: Vec::new(),
        }),
        ..request(&of.type_url, &[], accepted_version, &of.nonce)
    }
}

fn values(response: &DiscoveryResponse) -> Vec<String> {
    let bytes = response.resources.iter().map(|r| r.value.clone());
    bytes.map(|b| String::from_utf8(b).unwrap()).collect()
}

#[test]
fn wildcard_cds_gets_everything_then_only_new_versions() {
    let cache = SnapshotCache::new();
    let (mut ads, stats) = stream();
    let snap = publish(&cache, &[(CDS, "a", "a1"), (CDS, "b", "b1")]);

    let first = ads.on_request(request(CDS, &[], "", ""), &snap).unwrap().unwrap();
    assert_eq!(values(&first), ["a1", "b1"]);
    assert_eq!(first.version_info, snap.get(CDS).unwrap().version);
    let ack = request(CDS, &[], &first.version_info, &first.nonce);
    assert!(
        ads.on_request(ack, &snap).unwrap().is_none(),
        "an ACK is not answered"
    );

    let snap = publish(&cache, &[(CDS, "a", "a2"), (CDS, "b", "b1")]);
    let update = ads.on_snapshot(&snap);
    assert_eq!(update.len(), 1);
    assert_eq!(values(&update[0]), ["a2", "b1"]);
    assert_ne!(update[0].nonce, first.nonce, "every response has a fresh nonce");
    assert!(ads.on_snapshot(&snap).is_empty(), "the same version is sent once");
    assert_eq!(stats.responses(), 2);
}

#[test]
fn a_nack_is_counted_and_the_rejected_version_is_not_sent_again() {
    let cache = SnapshotCache::new();
    let (mut ads, stats) = stream();
    let snap = publish(&cache, &[(CDS, "a", "a1")]);
    let first = ads.on_request(request(CDS, &[], "", ""), &snap).unwrap().unwrap();
    ads.on_request(request(CDS, &[], &first.version_info, &first.nonce), &snap)
        .unwrap();

    let snap = publish(&cache, &[(CDS, "a", "bad")]);
    let bad = ads.on_snapshot(&snap).remove(0);
    let answer = ads.on_request(nack(&bad, &first.version_info), &snap).unwrap();
    assert!(
        answer.is_none(),
        "a NACK is not answered with the version it rejects"
    );
    assert_eq!(stats.nacks(), 1);
    assert!(ads.on_snapshot(&snap).is_empty());

    let snap = publish(&cache, &[(CDS, "a", "fixed")]);
    let fixed = ads.on_snapshot(&snap);
    assert_eq!(fixed.len(), 1, "the next version is sent");
    assert_eq!(values(&fixed[0]), ["fixed"]);
}

#[test]
fn a_request_with_a_stale_nonce_is_ignored() {
    let cache = SnapshotCache::new();
    let (mut ads, _) = stream();
    let snap = publish(&cache, &[(EDS, "a", "a1"), (EDS, "b", "b1")]);
    let first = ads
        .on_request(request(EDS, &["a"], "", ""), &snap)
        .unwrap()
        .unwrap();
    let snap = publish(&cache, &[(EDS, "a", "a2"), (EDS, "b", "b1")]);
    let second = ads.on_snapshot(&snap).remove(0);

    // The client's answer to the first response crosses the second one: stale, ignored whole,
    // even though it changes the subscription.
    let late = request(EDS, &["a", "b"], &first.version_info, &first.nonce);
    assert!(ads.on_request(late, &snap).unwrap().is_none());
    let current = request(EDS, &["a", "b"], &second.version_info, &second.nonce);
    let both = ads.on_request(current, &snap).unwrap().unwrap();
    assert_eq!(values(&both), ["a2", "b1"]);
}

#[test]
fn named_eds_gets_only_its_names_and_is_not_woken_by_others() {
    let cache = SnapshotCache::new();
    let (mut ads, _) = stream();
    let snap = publish(&cache, &[(EDS, "a", "a1"), (EDS, "b", "b1")]);
    let first = ads
        .on_request(request(EDS, &["b"], "", ""), &snap)
        .unwrap()
        .unwrap();
    assert_eq!(values(&first), ["b1"]);

    let snap = publish(&cache, &[(EDS, "a", "a2"), (EDS, "b", "b1")]);
    assert!(ads.on_snapshot(&snap).is_empty(), "only a changed");
    let ack = request(EDS, &["b"], &first.version_info, &first.nonce);
    assert!(ads.on_request(ack, &snap).unwrap().is_none());

    let snap = publish(&cache, &[(EDS, "a", "a2"), (EDS, "b", "b2")]);
    assert_eq!(values(&ads.on_snapshot(&snap)[0]), ["b2"]);
}

#[test]
fn an_empty_list_after_names_means_none_and_star_means_all() {
    let cache = SnapshotCache::new();
    let (mut ads, _) = stream();
    let snap = publish(&cache, &[(CDS, "a", "a1"), (CDS, "b", "b1")]);
    let named = ads
        .on_request(request(CDS, &["a"], "", ""), &snap)
        .unwrap()
        .unwrap();
    assert_eq!(values(&named), ["a1"]);
    let v = named.version_info.clone();
    let none = ads
        .on_request(request(CDS, &[], &v, &named.nonce), &snap)
        .unwrap()
        .unwrap();
    assert!(values(&none).is_empty());
    let all = ads
        .on_request(request(CDS, &["*"], &v, &none.nonce), &snap)
        .unwrap()
        .unwrap();
    assert_eq!(values(&all), ["a1", "b1"]);
}

#[test]
fn a_type_not_yet_published_is_answered_when_it_is() {
    let cache = SnapshotCache::new();
    let (mut ads, _) = stream();
    let snap = publish(&cache, &[(CDS, "a", "a1")]);
    assert!(
        ads.on_request(request(EDS, &["a"], "", ""), &snap)
            .unwrap()
            .is_none()
    );
    let snap = publish(&cache, &[(CDS, "a", "a1"), (EDS, "a", "e1")]);
    let sent = ads.on_snapshot(&snap);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].type_url, EDS);

    let untyped = request("", &[], "", "");
    assert_eq!(ads.on_request(untyped, &snap).unwrap_err(), MissingTypeUrl);
}

#[test]
fn a_named_resource_not_yet_served_is_sent_when_it_appears() {
    let cache = SnapshotCache::new();
    let (mut ads, _) = stream();
    let snap = publish(&cache, &[(EDS, "a", "a1")]);
    let early = ads.on_request(request(EDS, &["b"], "", ""), &snap).unwrap();
    assert!(early.is_none(), "nothing to tell a client that has nothing");
    let snap = publish(&cache, &[(EDS, "a", "a1"), (EDS, "b", "b1")]);
    assert_eq!(values(&ads.on_snapshot(&snap)[0]), ["b1"]);
}
