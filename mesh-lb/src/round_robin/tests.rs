use super::*;
use futures_util::FutureExt;
use futures_util::stream::{self, PollFn};
use std::convert::Infallible;
use std::num::NonZeroU32;
use tokio::sync::mpsc;
use tower::discover::ServiceList;
use tower_test::mock::{self, Handle, Mock, Spawn};

type Endpoint = Weighted<Mock<(), ()>>;
type Changes<E> = mpsc::UnboundedSender<Result<Change<&'static str, Endpoint>, E>>;
type Stream<E> = PollFn<
    Box<dyn FnMut(&mut Context<'_>) -> Poll<Option<Result<Change<&'static str, Endpoint>, E>>> + Unpin>,
>;

/// A mock endpoint with `weight`, and the handle that sees its requests.
fn endpoint(weight: u32) -> (Endpoint, Handle<(), ()>) {
    let (svc, handle) = mock::pair();
    (Weighted::new(svc, NonZeroU32::new(weight).unwrap()), handle)
}

/// A discover stream fed by hand.
fn channel<E: 'static>() -> (Changes<E>, Stream<E>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    (tx, stream::poll_fn(Box::new(move |cx| rx.poll_recv(cx))))
}

/// Polls the balancer ready, sends one request and says which endpoint received it.
fn pick<S>(lb: &mut Spawn<S>, handles: &mut [(&'static str, Handle<(), ()>)]) -> &'static str
where
    S: Service<(), Error = BoxError>,
{
    assert!(matches!(lb.poll_ready(), Poll::Ready(Ok(()))));
    drop(lb.call(()));
    let got: Vec<&'static str> = handles
        .iter_mut()
        .filter_map(|(name, h)| matches!(h.poll_request(), Poll::Ready(Some(_))).then_some(*name))
        .collect();
    assert_eq!(got.len(), 1, "one endpoint gets each request: {got:?}");
    got[0]
}

fn picks<S>(lb: &mut Spawn<S>, handles: &mut [(&'static str, Handle<(), ()>)], n: usize) -> String
where
    S: Service<(), Error = BoxError>,
{
    (0..n).map(|_| pick(lb, handles)).collect()
}

#[test]
fn distributes_by_weight_smoothly() {
    let (a, ha) = endpoint(5);
    let (b, hb) = endpoint(1);
    let (c, hc) = endpoint(1);
    let mut handles = [("a", ha), ("b", hb), ("c", hc)];
    let mut lb = Spawn::new(RoundRobin::new(ServiceList::new::<()>(vec![a, b, c])));
    assert_eq!(picks(&mut lb, &mut handles, 14), "aabacaaaabacaa");
    assert_eq!(lb.get_ref().len(), 3);
}

#[test]
fn skips_an_endpoint_that_is_not_ready() {
    let (a, ha) = endpoint(2);
    let (b, mut hb) = endpoint(1);
    let (c, hc) = endpoint(1);
    hb.allow(0);
    let mut handles = [("a", ha), ("b", hb), ("c", hc)];
    let mut lb = Spawn::new(RoundRobin::new(ServiceList::new::<()>(vec![a, b, c])));
    assert_eq!(picks(&mut lb, &mut handles, 6), "acaaca");

    handles[1].1.allow(u64::MAX);
    let got = picks(&mut lb, &mut handles, 8);
    assert_eq!(got.matches('b').count(), 2, "{got}");
    assert_eq!(got.matches('a').count(), 4, "{got}");
}

#[test]
fn waits_while_no_endpoint_is_ready() {
    let (a, mut ha) = endpoint(1);
    ha.allow(0);
    let mut lb = Spawn::new(RoundRobin::new(ServiceList::new::<()>(vec![a])));
    assert!(lb.poll_ready().is_pending());
    ha.allow(1);
    assert!(lb.is_woken());
    assert_eq!(picks(&mut lb, &mut [("a", ha)], 1), "a");
}

#[test]
fn follows_inserts_and_removes() {
    let (tx, discover) = channel::<Infallible>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    let (a, ha) = endpoint(1);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    let mut handles = vec![("a", ha)];
    assert_eq!(picks(&mut lb, &mut handles, 2), "aa");

    let (b, hb) = endpoint(3);
    tx.send(Ok(Change::Insert("b", b))).unwrap();
    handles.push(("b", hb));
    let got = picks(&mut lb, &mut handles, 8);
    assert_eq!(got.matches('b').count(), 6, "{got}");

    tx.send(Ok(Change::Remove("a"))).unwrap();
    assert_eq!(picks(&mut lb, &mut handles, 3), "bbb");
    assert_eq!(lb.get_ref().len(), 1);
}

#[test]
fn empty_set_fails_fast_with_no_endpoints() {
    let (tx, discover) = channel::<Infallible>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    assert!(lb.get_ref().is_empty());
    assert!(matches!(lb.poll_ready(), Poll::Ready(Ok(()))));
    let err = lb.call(()).now_or_never().unwrap().unwrap_err();
    assert!(err.is::<NoEndpoints>(), "{err}");

    // Not terminal: the balancer serves as soon as an endpoint shows up...
    let (a, ha) = endpoint(1);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    assert!(lb.is_woken());
    assert_eq!(picks(&mut lb, &mut [("a", ha)], 1), "a");

    // ...and fails fast again once the last one is removed.
    tx.send(Ok(Change::Remove("a"))).unwrap();
    assert!(matches!(lb.poll_ready(), Poll::Ready(Ok(()))));
    let err = lb.call(()).now_or_never().unwrap().unwrap_err();
    assert!(err.is::<NoEndpoints>(), "{err}");
}

#[test]
fn removing_the_selected_endpoint_selects_again() {
    let (tx, discover) = channel::<Infallible>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    let (a, ha) = endpoint(1);
    let (b, hb) = endpoint(1);
    let (c, hc) = endpoint(1);
    for (key, svc) in [("a", a), ("b", b), ("c", c)] {
        tx.send(Ok(Change::Insert(key, svc))).unwrap();
    }
    assert!(matches!(lb.poll_ready(), Poll::Ready(Ok(())))); // selects a
    tx.send(Ok(Change::Remove("a"))).unwrap();
    let mut handles = [("a", ha), ("b", hb), ("c", hc)];
    assert_eq!(picks(&mut lb, &mut handles, 4), "bcbc");
}

#[test]
fn ended_discovery_keeps_serving() {
    let (tx, discover) = channel::<Infallible>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    let (a, ha) = endpoint(1);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    drop(tx);
    assert_eq!(picks(&mut lb, &mut [("a", ha)], 3), "aaa");
}

#[test]
fn discovery_error_is_returned_boxed() {
    let (tx, discover) = channel::<std::io::Error>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    tx.send(Err(std::io::Error::other("registry down"))).unwrap();
    match lb.poll_ready() {
        Poll::Ready(Err(err)) => assert!(err.is::<std::io::Error>(), "{err}"),
        other => panic!("expected the discovery error, got {other:?}"),
    }
}

#[test]
fn failed_endpoint_is_dropped() {
    let (a, mut ha) = endpoint(1);
    let (b, hb) = endpoint(1);
    ha.send_error("broken");
    let mut handles = [("a", ha), ("b", hb)];
    let mut lb = Spawn::new(RoundRobin::new(ServiceList::new::<()>(vec![a, b])));
    assert_eq!(picks(&mut lb, &mut handles, 3), "bbb");
    assert_eq!(lb.get_ref().len(), 1);
}

#[test]
fn reinserted_key_takes_its_new_weight() {
    let (tx, discover) = channel::<Infallible>();
    let mut lb = Spawn::new(RoundRobin::new(discover));
    let (a, ha) = endpoint(1);
    let (b, hb) = endpoint(1);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    tx.send(Ok(Change::Insert("b", b))).unwrap();
    let mut handles = vec![("a", ha), ("b", hb)];
    assert_eq!(picks(&mut lb, &mut handles, 4), "abab");

    let (a2, ha2) = endpoint(3);
    tx.send(Ok(Change::Insert("a", a2))).unwrap();
    handles[0] = ("a", ha2);
    let got = picks(&mut lb, &mut handles, 8);
    assert_eq!(got.matches('a').count(), 6, "{got}");
    assert!(!got.contains("aaaa"), "{got}");
}

#[test]
fn call_without_poll_ready_is_an_error() {
    let (a, _ha) = endpoint(1);
    let mut lb = RoundRobin::new(ServiceList::new::<()>(vec![a]));
    let err = lb.call(()).now_or_never().unwrap().unwrap_err();
    assert!(err.is::<NotReady>(), "{err}");
}

#[test]
fn debug_does_not_need_debug_services() {
    let lb = RoundRobin::new(ServiceList::new::<()>(Vec::<Endpoint>::new()));
    assert!(format!("{lb:?}").starts_with("RoundRobin"));
}
