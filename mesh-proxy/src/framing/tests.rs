use super::*;

fn track(chunks: &[&[u8]]) -> (Arc<Framing>, Tracker) {
    let shared = Arc::new(Framing::default());
    let mut t = Tracker::new(shared.clone());
    for c in chunks {
        t.feed(c);
    }
    (shared, t)
}

/// The verdicts the request path would get for `n` requests, in order.
fn verdicts(shared: &Framing, n: usize) -> Vec<bool> {
    (0..n).map(|_| shared.conflicts()).collect()
}

#[test]
fn flags_a_head_with_both_framings_in_either_order() {
    for req in [
        &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"[..],
        &b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"[..],
    ] {
        let (shared, _) = track(&[req]);
        assert_eq!(verdicts(&shared, 1), [true]);
    }
}

#[test]
fn follows_fixed_and_chunked_bodies_to_the_next_head() {
    // Body 1 is 28 bytes and body 2 one 21-byte (0x15) chunk, both shaped like headers.
    let stream = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\n\
        Transfer-Encoding: chunked\r\n\
        POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
        15\r\nContent-Length: 1\r\n\r\n\r\n0\r\nx-trailer: 1\r\n\r\n\
        POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    // Byte-at-a-time feeding must give the same answer as one read.
    let (whole, _) = track(&[&stream[..]]);
    let split: Vec<&[u8]> = stream.chunks(1).collect();
    let (bytewise, _) = track(&split);
    for shared in [whole, bytewise] {
        assert_eq!(shared.heads.load(Ordering::Relaxed), 3);
        assert_eq!(
            verdicts(&shared, 3),
            [false, false, true],
            "bodies that look like headers are bodies"
        );
    }
}

#[test]
fn a_plain_keep_alive_stream_is_never_flagged() {
    let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let (shared, _) = track(&[one, one, one]);
    assert_eq!(verdicts(&shared, 3), [false, false, false]);
}

#[test]
fn stops_tracking_h2c_and_upgrades() {
    let (shared, t) = track(&[
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    ]);
    assert!(matches!(t.state, State::Off));
    assert_eq!(verdicts(&shared, 1), [false]);

    let (_, t) =
        track(&[b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"]);
    assert!(matches!(t.state, State::Off));
}

#[test]
fn only_the_first_conflict_counts() {
    let bad =
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    let (shared, _) = track(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bad, bad]);
    assert_eq!(verdicts(&shared, 3), [false, true, false]);
}

#[test]
fn split_reads_like_hyper_does() {
    let (shared, t) = track(&[
        b"POST / HTTP/1.1\r\nHost: x",
        b"\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]);
    assert!(matches!(t.state, State::Start), "{:?}", t.state);
    assert_eq!(verdicts(&shared, 1), [true]);
}
