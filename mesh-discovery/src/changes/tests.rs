use super::*;
use crate::fixed;
use futures_util::{FutureExt, StreamExt};
use std::num::NonZeroU32;
use tower::discover::Discover;

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Insert(&'static str, u32),
    Remove(&'static str),
}
use Seen::{Insert, Remove};

fn ep(addr: &'static str, weight: u32) -> Endpoint {
    Endpoint {
        address: addr.parse().unwrap(),
        weight: NonZeroU32::new(weight).unwrap(),
        priority: 0,
        zone: None,
        metadata: Default::default(),
    }
}

fn set(endpoints: Vec<Endpoint>) -> Arc<EndpointSet> {
    Arc::new(EndpointSet {
        version: None,
        endpoints,
    })
}

/// The service made for an endpoint: its weight, to check re-inserts carry the new one.
type Changes = EndpointChanges<fn(&Endpoint) -> u32>;

fn changes(rx: Sets) -> Changes {
    EndpointChanges::new(rx, |e: &Endpoint| e.weight.get())
}

/// Everything the stream has ready now, with `A`..`D` named "a".."d".
fn ready(c: &mut Changes) -> Vec<Seen> {
    let name = |a: SocketAddr| {
        let i = [A, B, C, D].iter().position(|s| s.parse() == Ok(a)).unwrap();
        ["a", "b", "c", "d"][i]
    };
    let mut seen = Vec::new();
    while let Some(Some(Ok(change))) = c.next().now_or_never() {
        seen.push(match change {
            Change::Insert(a, w) => Insert(name(a), w),
            Change::Remove(a) => Remove(name(a)),
        });
    }
    seen
}

const A: &str = "10.0.0.1:80";
const B: &str = "10.0.0.2:80";
const C: &str = "10.0.0.3:80";
const D: &str = "10.0.0.4:80";

#[tokio::test]
async fn the_first_poll_inserts_everything_then_waits() {
    let (_tx, rx) = watch::channel(set(vec![ep(A, 1), ep(B, 2)]));
    let mut c = changes(rx);
    assert_eq!(ready(&mut c), [Insert("a", 1), Insert("b", 2)]);
    assert!(c.next().now_or_never().is_none(), "pending until the set changes");
}

#[tokio::test]
async fn each_new_set_yields_inserts_for_new_and_changed_then_removes() {
    let (tx, rx) = watch::channel(set(vec![ep(A, 1), ep(B, 1), ep(C, 1)]));
    let mut c = changes(rx);
    assert_eq!(ready(&mut c).len(), 3);

    tx.send(set(vec![ep(B, 1), ep(C, 5), ep(D, 1)])).unwrap();
    assert_eq!(ready(&mut c), [Insert("c", 5), Insert("d", 1), Remove("a")]);

    let mut zoned = ep(B, 1);
    zoned.zone = Some("z".into());
    tx.send(set(vec![zoned, ep(C, 5), ep(D, 1)])).unwrap();
    assert_eq!(ready(&mut c), [Insert("b", 1)], "a zone change re-inserts");

    tx.send(set(vec![])).unwrap();
    assert_eq!(ready(&mut c), [Remove("b"), Remove("c"), Remove("d")]);

    tx.send(set(vec![ep(A, 1)])).unwrap();
    assert_eq!(ready(&mut c), [Insert("a", 1)]);
}

#[tokio::test]
async fn an_equal_set_yields_nothing_and_sets_in_between_are_coalesced() {
    let (tx, rx) = watch::channel(set(vec![ep(A, 1)]));
    let mut c = changes(rx);
    assert_eq!(ready(&mut c).len(), 1);

    tx.send(set(vec![ep(A, 1)])).unwrap();
    assert_eq!(ready(&mut c), []);

    tx.send(set(vec![ep(B, 1)])).unwrap();
    tx.send(set(vec![ep(A, 1), ep(C, 1)])).unwrap();
    assert_eq!(ready(&mut c), [Insert("c", 1)], "only the latest set is diffed");
}

#[tokio::test]
async fn the_stream_ends_after_the_sender_is_dropped_and_due_changes_are_out() {
    let (tx, rx) = watch::channel(set(vec![ep(A, 1)]));
    let mut c = changes(rx);
    assert_eq!(ready(&mut c).len(), 1);
    tx.send(set(vec![ep(B, 1)])).unwrap();
    drop(tx);
    assert_eq!(ready(&mut c), [Insert("b", 1), Remove("a")]);
    assert!(matches!(c.next().now_or_never(), Some(None)), "ended");
}

#[tokio::test]
async fn a_fixed_set_is_inserted_once_and_then_the_stream_ends() {
    let rx = fixed(EndpointSet {
        version: Some("static".into()),
        endpoints: vec![ep(A, 1), ep(B, 3)],
    });
    assert_eq!(rx.borrow().version.as_deref(), Some("static"));
    let mut c = changes(rx);
    assert_eq!(ready(&mut c), [Insert("a", 1), Insert("b", 3)]);
    assert!(matches!(c.next().now_or_never(), Some(None)));
}

#[tokio::test]
async fn it_is_a_tower_discover_keyed_by_address() {
    fn discover<D: Discover<Key = SocketAddr, Service = u32> + Unpin + Send + Sync>(d: D) -> D {
        d
    }
    let (_tx, rx) = watch::channel(set(vec![ep(A, 4)]));
    let mut d = discover(changes(rx));
    let first = std::future::poll_fn(|cx| Pin::new(&mut d).poll_discover(cx)).await;
    assert!(matches!(first, Some(Ok(Change::Insert(a, 4))) if a == A.parse().unwrap()));
}
