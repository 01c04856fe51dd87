//! The TCP checker; see the [module docs](super).

use super::connect;
use crate::outcome::{Outcome, ProbeFailure};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A reply this long without a match fails the check rather than buffering without bound.
const MAX_REPLY: usize = 64 * 1024;

pub(super) async fn check(addr: SocketAddr, send: Option<&[u8]>, receive: &[Vec<u8>]) -> Outcome {
    match exchange(addr, send, receive).await {
        Ok(()) => Outcome::Healthy,
        Err(failure) => Outcome::Unhealthy(failure),
    }
}

async fn exchange(addr: SocketAddr, send: Option<&[u8]>, receive: &[Vec<u8>]) -> Result<(), ProbeFailure> {
    let io = |e: std::io::Error| ProbeFailure::Io(e.to_string());
    let mut stream = connect(addr).await?;
    if let Some(payload) = send {
        stream.write_all(payload).await.map_err(io)?;
    }
    if receive.is_empty() {
        return Ok(());
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(ProbeFailure::ConnectionClosed);
        }
        reply.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if fuzzy_match(receive, &reply) {
            return Ok(());
        }
        if reply.len() >= MAX_REPLY {
            return Err(ProbeFailure::ReplyTooLong(reply.len()));
        }
    }
}

/// Envoy's TCP "fuzzy match": every `expected` byte string occurs in `reply`, in order and without
/// overlapping; anything may come before, between and after them.
///
/// ```
/// use mesh_health::fuzzy_match;
/// let expected = [b"PO".to_vec(), b"NG".to_vec()];
/// assert!(fuzzy_match(&expected, b"+PONG\r\n"));
/// assert!(!fuzzy_match(&expected, b"NG PO"));
/// ```
pub fn fuzzy_match(expected: &[Vec<u8>], reply: &[u8]) -> bool {
    let mut rest = reply;
    for segment in expected {
        let Some(at) = find(rest, segment) else {
            return false;
        };
        rest = rest.get(at + segment.len()..).unwrap_or_default();
    }
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::fuzzy_match;

    #[test]
    fn fuzzy_match_is_ordered_and_partial() {
        let ping = [b"PONG".to_vec()];
        assert!(fuzzy_match(&ping, b"PONG"));
        assert!(fuzzy_match(&ping, b"xxPONGxx"));
        assert!(!fuzzy_match(&ping, b"PON"));
        let two = [b"AB".to_vec(), b"AB".to_vec()];
        assert!(!fuzzy_match(&two, b"AB"), "segments may not overlap");
        assert!(fuzzy_match(&two, b"ABAB"));
        assert!(fuzzy_match(&[], b""));
    }
}
