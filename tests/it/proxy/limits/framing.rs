//! Request-smuggling defences: a request with both `Content-Length` and `Transfer-Encoding`, or an
//! unparsable `Content-Length`, gets 400, the connection is closed, and nothing is forwarded.

use super::start;
use crate::proxy::routing::T;
use mesh_tests::client::raw::{self, RawOutcome};
use mesh_tests::within;
use std::time::Duration;

const CL_THEN_TE: &[u8] =
    b"POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
const TE_THEN_CL: &[u8] =
    b"POST /smuggle HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

/// Status codes of every response in `out`, in order.
fn statuses(out: &RawOutcome) -> Vec<u16> {
    out.text()
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|rest| rest.get(..3)?.parse().ok())
        .collect()
}

fn has_flag(out: &RawOutcome, flag: &str) -> bool {
    out.text()
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("x-mesh-response-flags: {flag}")))
}

#[tokio::test]
async fn content_length_with_transfer_encoding_is_refused() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        for (order, bytes) in [("CL, TE", CL_THEN_TE), ("TE, CL", TE_THEN_CL)] {
            let out = raw::exchange(addr, bytes, Duration::from_secs(10)).await.unwrap();
            assert_eq!(statuses(&out), [400], "{order}: {:?}", out.text());
            assert!(has_flag(&out, "DPE"), "{order}: {:?}", out.text());
            assert!(out.closed, "{order}: the connection must be closed");
        }
        assert_eq!(b1.requests(), 0, "nothing may reach the backend");
    })
    .await;
}

#[tokio::test]
async fn smuggling_request_pipelined_after_a_good_one_is_refused() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        for bytes in [CL_THEN_TE, TE_THEN_CL] {
            let mut pipelined = b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
            pipelined.extend_from_slice(bytes);
            // And a third request that must never be read as one.
            pipelined.extend_from_slice(b"GET /third HTTP/1.1\r\nHost: a\r\n\r\n");
            let out = raw::exchange(addr, &pipelined, Duration::from_secs(10))
                .await
                .unwrap();
            assert_eq!(statuses(&out), [200, 400], "{:?}", out.text());
            assert!(out.closed, "the connection must be closed after the 400");
        }
        assert_eq!(
            b1.requests(),
            2,
            "only the first request of each connection is forwarded"
        );
    })
    .await;
}

#[tokio::test]
async fn invalid_content_length_is_refused() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        for bytes in [
            &b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\nhello"[..],
            &b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"[..],
            &b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello"[..],
        ] {
            let out = raw::exchange(addr, bytes, Duration::from_secs(10)).await.unwrap();
            let what = String::from_utf8_lossy(bytes);
            assert_eq!(statuses(&out), [400], "{what:?}: {:?}", out.text());
            assert!(out.closed, "{what:?}: the connection must be closed");
        }
        assert_eq!(b1.requests(), 0, "nothing may reach the backend");
    })
    .await;
}

#[tokio::test]
async fn http11_request_without_host_is_refused() {
    within(T, async {
        let (b1, _proxy, addr) = start("").await;
        let out = raw::exchange(addr, b"GET /x HTTP/1.1\r\n\r\n", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(statuses(&out), [400], "{:?}", out.text());
        assert!(has_flag(&out, "DPE"), "{:?}", out.text());
        assert!(out.closed);
        assert_eq!(b1.requests(), 0);
    })
    .await;
}
