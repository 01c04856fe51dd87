use super::*;
use crate::trace::{b3, w3c};
use mesh_core::policy::Percent;

const TRACE: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
const SPAN: [u8; 8] = [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7];
const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn ctx(sampled: Option<bool>) -> TraceContext {
    TraceContext {
        trace_id: TRACE,
        span_id: SPAN,
        sampled,
    }
}

#[test]
fn traceparent_valid_forms() {
    assert_eq!(w3c::parse(VALID.as_bytes()), Some(ctx(Some(true))));
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    assert_eq!(w3c::parse(unsampled.as_bytes()), Some(ctx(Some(false))));
    // Only bit 0 of the flags is the sampled flag; other bits are carried, not understood.
    let other_bits = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02";
    assert_eq!(w3c::parse(other_bits.as_bytes()).unwrap().sampled, Some(false));
    let other_bits = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
    assert_eq!(w3c::parse(other_bits.as_bytes()).unwrap().sampled, Some(true));
    // A future version with more fields is read by its first four.
    let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";
    assert_eq!(w3c::parse(future.as_bytes()), Some(ctx(Some(true))));
}

#[test]
fn traceparent_invalid_forms_are_ignored() {
    let bad = [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // version 00 is exactly 55
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", // flags not hex
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x", // extension without '-'
    ];
    for text in bad {
        assert_eq!(w3c::parse(text.as_bytes()), None, "{text:?}");
    }
    // Two traceparent headers: ambiguous, so none.
    assert_eq!(
        extract(&headers(&[("traceparent", VALID), ("traceparent", VALID)])),
        None
    );
}

#[test]
fn traceparent_round_trips() {
    for sampled in [true, false] {
        let hop = ctx(Some(sampled));
        let text = w3c::format(&hop);
        assert_eq!(text.len(), 55);
        assert_eq!(w3c::parse(text.as_bytes()), Some(hop));
    }
    assert_eq!(w3c::format(&ctx(Some(true))), VALID);
}

#[test]
fn b3_single_forms() {
    let full = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b90";
    assert_eq!(b3::parse_single(full.as_bytes()), Some(ctx(Some(true))));
    let debug = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-d";
    assert_eq!(b3::parse_single(debug.as_bytes()), Some(ctx(Some(true))));
    let denied = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0";
    assert_eq!(b3::parse_single(denied.as_bytes()), Some(ctx(Some(false))));
    let deferred = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
    assert_eq!(b3::parse_single(deferred.as_bytes()), Some(ctx(None)));
    // 64-bit trace IDs are widened with leading zeros; either case is read.
    let short = b3::parse_single(b"A3CE929D0E0E4736-00F067AA0BA902B7-1").unwrap();
    assert_eq!(
        short.trace_id,
        [
            0, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36
        ]
    );

    for bad in [
        "0",                                                   // sampling only: not covered
        "4bf92f3577b34da6a3ce929d0e0e4736",                    // no span
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-x", // bad sampling
        "4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-1",   // odd trace id length
        "00000000000000000000000000000000-00f067aa0ba902b7-1", // zero trace id
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1-zz",
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b90-extra",
    ] {
        assert_eq!(b3::parse_single(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn b3_multi_forms() {
    let base = [
        ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        b3::extract_multi(&headers(&all))
    };
    assert_eq!(with(&[]), Some(ctx(None)));
    assert_eq!(with(&[("x-b3-sampled", "1")]), Some(ctx(Some(true))));
    assert_eq!(with(&[("x-b3-sampled", "true")]), Some(ctx(Some(true))));
    assert_eq!(with(&[("x-b3-sampled", "0")]), Some(ctx(Some(false))));
    assert_eq!(
        with(&[("x-b3-flags", "1"), ("x-b3-sampled", "0")]),
        Some(ctx(Some(true)))
    );
    assert_eq!(with(&[("x-b3-sampled", "maybe")]), None);
    assert_eq!(b3::extract_multi(&headers(&base[..1])), None);
    let bad_span = headers(&[("x-b3-traceid", "4bf92f3577b34da6"), ("x-b3-spanid", "0")]);
    assert_eq!(b3::extract_multi(&bad_span), None);
}

#[test]
fn extract_prefers_w3c_then_b3_single_then_multi() {
    let multi = [
        ("x-b3-traceid", "1111111111111111"),
        ("x-b3-spanid", "2222222222222222"),
    ];
    let single = ("b3", "3333333333333333-4444444444444444-1");
    let all = headers(&[("traceparent", VALID), single, multi[0], multi[1]]);
    assert_eq!(extract(&all).unwrap().from, Propagation::W3c);
    let b3_only = headers(&[single, multi[0], multi[1]]);
    assert_eq!(extract(&b3_only).unwrap().from, Propagation::B3Single);
    assert_eq!(extract(&headers(&multi)).unwrap().from, Propagation::B3Multi);
    // An invalid traceparent does not hide a valid B3 context.
    let broken = headers(&[("traceparent", "00-zz"), single]);
    assert_eq!(extract(&broken).unwrap().from, Propagation::B3Single);
    assert_eq!(extract(&HeaderMap::new()), None);
}

#[test]
fn inject_answers_in_the_callers_style_and_round_trips() {
    let hop = TraceContext {
        span_id: [9; 8],
        ..ctx(Some(true))
    };
    for from in [Propagation::W3c, Propagation::B3Single, Propagation::B3Multi] {
        let parent = Extracted {
            context: ctx(Some(true)),
            from,
        };
        let mut h = HeaderMap::new();
        inject(&mut h, &hop, Some(&parent));
        // W3C always, and it reads back as this hop.
        assert_eq!(extract(&h).map(|e| e.context), Some(hop));
        assert_eq!(h.contains_key("b3"), from == Propagation::B3Single, "{from:?}");
        assert_eq!(
            h.contains_key("x-b3-spanid"),
            from == Propagation::B3Multi,
            "{from:?}"
        );
        // Each B3 style reads back as this hop too.
        h.remove("traceparent");
        match from {
            Propagation::W3c => assert_eq!(extract(&h), None),
            _ => assert_eq!(extract(&h), Some(Extracted { context: hop, from })),
        }
    }
}

#[test]
fn b3_keeps_64_bit_ids_and_names_the_parent() {
    let parent = Extracted {
        context: b3::parse_single(b"a3ce929d0e0e4736-00f067aa0ba902b7").unwrap(),
        from: Propagation::B3Multi,
    };
    let hop = TraceContext {
        span_id: [0xab; 8],
        sampled: Some(false),
        ..parent.context
    };
    let mut h = headers(&[("x-b3-flags", "1")]);
    inject(&mut h, &hop, Some(&parent));
    assert_eq!(h["x-b3-traceid"], "a3ce929d0e0e4736");
    assert_eq!(h["x-b3-spanid"], "abababababababab");
    assert_eq!(h["x-b3-parentspanid"], "00f067aa0ba902b7");
    assert_eq!(h["x-b3-sampled"], "0");
    assert!(!h.contains_key("x-b3-flags"));
    assert_eq!(
        h["traceparent"],
        "00-0000000000000000a3ce929d0e0e4736-abababababababab-00"
    );
    assert_eq!(
        b3::format_single(&hop, parent.context.span_id),
        "a3ce929d0e0e4736-abababababababab-0-00f067aa0ba902b7"
    );
}

#[test]
fn random_contexts_are_valid_and_fresh() {
    let a = TraceContext::random(false);
    let b = TraceContext::random(true);
    assert_ne!(a.trace_id, b.trace_id);
    assert_eq!(w3c::parse(w3c::format(&a).as_bytes()), Some(a));
    assert_eq!((a.sampled, b.sampled), (Some(false), Some(true)));
}

#[test]
fn sampling_follows_the_parent_else_the_request_id() {
    let half = Percent::new(50.0).unwrap();
    let never = || -> f64 { unreachable!("the draw is the last resort") };
    // Bucket 0 (sampled at any share above 0) and bucket 9999 (only at 100%).
    let low: &[u8] = b"00000000-0000-4000-8000-000000000000";
    let high: &[u8] = b"0000270f-0000-4000-8000-000000000000";
    assert!(decide(Some(&ctx(Some(true))), Some(high), Percent::ZERO, never));
    assert!(!decide(
        Some(&ctx(Some(false))),
        Some(low),
        Percent::HUNDRED,
        never
    ));
    // No decision in the parent (B3 deferred) or no parent: the request ID decides.
    assert!(decide(Some(&ctx(None)), Some(low), half, never));
    assert!(!decide(Some(&ctx(None)), Some(high), half, never));
    assert!(decide(None, Some(low), half, never));
    assert!(!decide(None, Some(high), half, never));
    assert!(decide(None, Some(high), Percent::HUNDRED, never));
    // Same ID, same answer, whichever hop asks.
    for i in 0..200u32 {
        let id = format!("{:08x}-rest", i * 7919);
        assert_eq!(
            decide(None, Some(id.as_bytes()), half, never),
            crate::request_id::sampled(id.as_bytes(), half)
        );
    }
    // Nothing to go by: the draw.
    assert!(decide(None, None, half, || 0.49));
    assert!(!decide(None, None, half, || 0.5));
}

#[test]
fn b3_riding_along_a_w3c_parent_is_rewritten_too() {
    // What a proxy before this one sends: both styles, same context.
    let mut h = headers(&[
        ("traceparent", VALID),
        (
            "b3",
            "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1-1111111111111111",
        ),
        ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
    ]);
    let parent = extract(&h).unwrap();
    assert_eq!(parent.from, Propagation::W3c);
    let hop = TraceContext {
        span_id: [9; 8],
        ..parent.context
    };
    inject(&mut h, &hop, Some(&parent));
    assert_eq!(
        h["b3"],
        "4bf92f3577b34da6a3ce929d0e0e4736-0909090909090909-1-00f067aa0ba902b7"
    );
    assert_eq!(h["x-b3-spanid"], "0909090909090909");
    assert_eq!(h["x-b3-parentspanid"], "00f067aa0ba902b7");
    // Without a parent nothing but traceparent is written.
    let mut fresh = HeaderMap::new();
    inject(&mut fresh, &hop, None);
    assert_eq!(fresh.len(), 1);
}
