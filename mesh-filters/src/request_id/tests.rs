//! The layer with `tower_test` mocks; the sampling rule's statistics in `tests/props.rs`.

mod props;

use super::*;
use http::HeaderName;
use mesh_core::policy::Percent;
use tower::ServiceExt;
use tower_test::mock;

/// What the upstream received, and the response the caller got back.
struct Exchange {
    upstream: Request<()>,
    response: Response<()>,
}

impl Exchange {
    fn upstream_id(&self) -> Option<&str> {
        let mut values = self.upstream.headers().get_all(&X_REQUEST_ID).iter();
        let first = values.next().map(|v| v.to_str().unwrap());
        assert!(values.next().is_none(), "the upstream got more than one ID");
        first
    }

    fn recorded_id(&self) -> Option<&HeaderValue> {
        self.upstream.extensions().get::<RequestIdValue>().map(|v| &v.0)
    }

    fn sampled(&self) -> bool {
        self.upstream
            .extensions()
            .get::<Sampled>()
            .expect("Sampled is always set")
            .0
    }

    fn echoed_id(&self) -> Option<&str> {
        self.response
            .headers()
            .get(&X_REQUEST_ID)
            .map(|v| v.to_str().unwrap())
    }
}

/// Sends `req` through the layer to a mock upstream that answers `response`.
async fn exchange(policy: RequestIdPolicy, req: Request<()>, response: Response<()>) -> Exchange {
    let (inner, mut handle) = mock::pair::<Request<()>, Response<()>>();
    let call = tokio::spawn(RequestIdLayer::new(policy).layer(inner).oneshot(req));
    let (upstream, respond) = handle.next_request().await.unwrap();
    respond.send_response(response);
    let response = call.await.unwrap().unwrap();
    Exchange { upstream, response }
}

async fn send(policy: RequestIdPolicy, req: Request<()>) -> Exchange {
    exchange(policy, req, Response::new(())).await
}

fn with_id(id: &str) -> Request<()> {
    Request::builder().header(&X_REQUEST_ID, id).body(()).unwrap()
}

fn trusted(mut req: Request<()>) -> Request<()> {
    req.extensions_mut().insert(TrustedPeer);
    req
}

fn percent(p: f64) -> Percent {
    Percent::new(p).unwrap()
}

const CALLER_ID: &str = "caller-chosen-id-42";

fn assert_fresh_uuid_v4(id: &str) {
    let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id:?} is not a UUID: {e}"));
    assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{id}");
    assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
}

#[test]
fn defaults_are_envoys() {
    let p = RequestIdPolicy::default();
    assert!(p.generate && !p.preserve_external && !p.echo_in_response);
    assert_eq!(p.header, "x-request-id");
    assert_eq!(p.sampling, percent(1.0));
}

#[tokio::test]
async fn an_absent_id_is_generated_as_uuid_v4_and_sent_upstream() {
    let ex = send(RequestIdPolicy::default(), Request::new(())).await;
    let id = ex.upstream_id().expect("an ID went upstream");
    assert_fresh_uuid_v4(id);
    assert_eq!(ex.recorded_id().unwrap(), id);
    assert_eq!(ex.sampled(), sampled(id.as_bytes(), percent(1.0)));
    assert_eq!(ex.echoed_id(), None, "echo is off by default");

    let again = send(RequestIdPolicy::default(), Request::new(())).await;
    assert_ne!(again.upstream_id(), Some(id), "each request gets its own ID");
}

#[tokio::test]
async fn a_trusted_peers_id_is_kept() {
    let ex = send(RequestIdPolicy::default(), trusted(with_id(CALLER_ID))).await;
    assert_eq!(ex.upstream_id(), Some(CALLER_ID));
    assert_eq!(ex.recorded_id().unwrap(), CALLER_ID);
}

#[tokio::test]
async fn an_untrusted_id_is_replaced_unless_external_ids_are_preserved() {
    let ex = send(RequestIdPolicy::default(), with_id(CALLER_ID)).await;
    let id = ex.upstream_id().unwrap();
    assert_ne!(id, CALLER_ID);
    assert_fresh_uuid_v4(id);
    assert_eq!(ex.recorded_id().unwrap(), id);

    let preserve = RequestIdPolicy {
        preserve_external: true,
        ..RequestIdPolicy::default()
    };
    let ex = send(preserve, with_id(CALLER_ID)).await;
    assert_eq!(ex.upstream_id(), Some(CALLER_ID));
    assert_eq!(ex.recorded_id().unwrap(), CALLER_ID);
}

#[tokio::test]
async fn unacceptable_ids_are_replaced_even_from_trusted_peers() {
    let too_long = "x".repeat(MAX_ID_LEN + 1);
    let longest = "y".repeat(MAX_ID_LEN);
    for bad in ["", "two words", "tab\tid", too_long.as_str()] {
        let ex = send(RequestIdPolicy::default(), trusted(with_id(bad))).await;
        let id = ex.upstream_id().unwrap();
        assert_fresh_uuid_v4(id);
        assert_eq!(ex.recorded_id().unwrap(), id, "{bad:?}");
    }
    let non_ascii = Request::builder()
        .header(&X_REQUEST_ID, HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap())
        .body(())
        .unwrap();
    assert_fresh_uuid_v4(
        send(RequestIdPolicy::default(), trusted(non_ascii))
            .await
            .upstream_id()
            .unwrap(),
    );

    let ex = send(RequestIdPolicy::default(), trusted(with_id(&longest))).await;
    assert_eq!(
        ex.upstream_id(),
        Some(longest.as_str()),
        "128 characters is still fine"
    );
}

#[tokio::test]
async fn duplicate_ids_reach_the_upstream_as_one() {
    let req = Request::builder()
        .header(&X_REQUEST_ID, "first")
        .header(&X_REQUEST_ID, "second")
        .body(())
        .unwrap();
    // `upstream_id` fails the test if more than one value went upstream.
    let ex = send(RequestIdPolicy::default(), trusted(req)).await;
    assert_eq!(ex.upstream_id(), Some("first"));
}

#[tokio::test]
async fn the_id_is_echoed_only_when_configured_and_the_upstream_set_none() {
    let echo = RequestIdPolicy {
        echo_in_response: true,
        ..RequestIdPolicy::default()
    };

    let ex = send(echo.clone(), trusted(with_id(CALLER_ID))).await;
    assert_eq!(ex.echoed_id(), Some(CALLER_ID));
    let ex = send(echo.clone(), Request::new(())).await;
    assert_eq!(ex.echoed_id(), ex.upstream_id());
    assert!(ex.echoed_id().is_some());

    let ex = send(RequestIdPolicy::default(), trusted(with_id(CALLER_ID))).await;
    assert_eq!(ex.echoed_id(), None);

    let own = Response::builder()
        .header(&X_REQUEST_ID, "upstream-own")
        .body(())
        .unwrap();
    let ex = exchange(echo, trusted(with_id(CALLER_ID)), own).await;
    let echoed: Vec<_> = ex.response.headers().get_all(&X_REQUEST_ID).iter().collect();
    assert_eq!(
        echoed,
        ["upstream-own"],
        "the upstream's own header is left alone"
    );
}

#[tokio::test]
async fn without_generation_the_layer_only_vouches_for_kept_ids() {
    let off = RequestIdPolicy {
        generate: false,
        echo_in_response: true,
        ..RequestIdPolicy::default()
    };

    let ex = send(off.clone(), Request::new(())).await;
    assert_eq!(ex.upstream_id(), None, "an absent ID stays absent");
    assert_eq!(ex.recorded_id(), None);
    assert!(!ex.sampled());
    assert_eq!(ex.echoed_id(), None);

    // Envoy leaves the header alone with generation off; the layer just does not vouch for it.
    let ex = send(off.clone(), with_id(CALLER_ID)).await;
    assert_eq!(ex.upstream_id(), Some(CALLER_ID));
    assert_eq!(ex.recorded_id(), None);
    assert!(!ex.sampled());

    let all = RequestIdPolicy {
        sampling: Percent::HUNDRED,
        ..off
    };
    let ex = send(all, trusted(with_id(CALLER_ID))).await;
    assert_eq!(ex.recorded_id().unwrap(), CALLER_ID);
    assert!(ex.sampled());
    assert_eq!(ex.echoed_id(), Some(CALLER_ID));
}

#[tokio::test]
async fn sampling_at_zero_and_hundred_percent() {
    for (share, expected) in [(Percent::ZERO, false), (Percent::HUNDRED, true)] {
        let policy = RequestIdPolicy {
            sampling: share,
            ..RequestIdPolicy::default()
        };
        for _ in 0..50 {
            assert_eq!(
                send(policy.clone(), Request::new(())).await.sampled(),
                expected,
                "{share}"
            );
        }
        // The last bucket (0x270f = 9999) is the one 100% must still include.
        let edge = trusted(with_id("0000270f-0000-4000-8000-000000000000"));
        assert_eq!(send(policy, edge).await.sampled(), expected, "{share}");
    }
}

#[tokio::test]
async fn every_hop_of_a_chain_reaches_the_same_decision() {
    let policy = RequestIdPolicy {
        sampling: percent(50.0),
        ..RequestIdPolicy::default()
    };
    let (mut traced, mut untraced) = (0, 0);
    for _ in 0..200 {
        // The edge hop: an outside caller, whose ID is replaced.
        let edge = send(policy.clone(), with_id(CALLER_ID)).await;
        let id = edge.upstream_id().unwrap();
        // The next proxy sees only headers, and trusts its mesh peer.
        let next = send(policy.clone(), trusted(with_id(id))).await;
        assert_eq!(next.upstream_id(), Some(id));
        assert_eq!(next.sampled(), edge.sampled(), "{id}");
        if edge.sampled() {
            traced += 1
        } else {
            untraced += 1
        }
    }
    // Both outcomes happened, so agreement was not trivial.
    assert!(traced > 0 && untraced > 0, "{traced} traced, {untraced} not");
}

#[tokio::test]
async fn a_custom_header_carries_the_id() {
    let header = HeaderName::from_static("x-correlation-id");
    let policy = RequestIdPolicy {
        header: header.clone(),
        ..RequestIdPolicy::default()
    };
    let req = trusted(Request::builder().header(&header, CALLER_ID).body(()).unwrap());
    let ex = send(policy, req).await;
    assert_eq!(ex.upstream.headers()[&header], CALLER_ID);
    assert_eq!(ex.upstream_id(), None, "x-request-id is not touched");
}

#[tokio::test]
async fn upstream_errors_pass_through() {
    let (inner, mut handle) = mock::pair::<Request<()>, Response<()>>();
    let call = tokio::spawn(RequestIdLayer::default().layer(inner).oneshot(Request::new(())));
    let (_req, respond) = handle.next_request().await.unwrap();
    respond.send_error(std::io::Error::other("upstream reset"));
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(err.to_string(), "upstream reset");
}
