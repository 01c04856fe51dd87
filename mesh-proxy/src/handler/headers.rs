//! Header hygiene between hops: hop-by-hop removal, `x-forwarded-*`, cookie joining.

use http::header::{CONNECTION, COOKIE, HeaderMap, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE};
use std::net::IpAddr;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Removes every `x-mesh-*` header: the per-request controls (timeouts, retries,
/// faults) that only a trusted peer may send. Header names are lowercase here, so a
/// byte prefix test is exact.
pub(crate) fn strip_control_headers(headers: &mut HeaderMap) {
    let control: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-mesh-"))
        .cloned()
        .collect();
    for name in control {
        headers.remove(&name);
    }
}

/// Removes headers that describe one connection rather than the message: RFC 9110
/// §7.6.1's list plus whatever the `Connection` header names. With `upgrade`, the
/// `Connection: upgrade` / `Upgrade` pair survives so the upstream can switch protocols.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    if headers.contains_key(&CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(&CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !(upgrade && t.eq_ignore_ascii_case("upgrade")))
            .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
            .collect();
        for name in named {
            if name != TE {
                headers.remove(&name);
            }
        }
        headers.remove(&CONNECTION);
    }
    headers.remove(&KEEP_ALIVE);
    headers.remove(&PROXY_CONNECTION);
    headers.remove(&TRANSFER_ENCODING);
    if upgrade {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(&UPGRADE);
    }
    // `te: trailers` is the one TE value HTTP/2 allows, and gRPC relies on it.
    if let Some(te) = headers.get(&TE)
        && !te.as_bytes().eq_ignore_ascii_case(b"trailers")
    {
        headers.remove(&TE);
    }
}

/// Joins repeated `cookie` fields into one with `"; "`: HTTP/2 clients may send each cookie as
/// its own field (RFC 9113 §8.2.3), but an HTTP/1.1 request may carry only one Cookie line
/// (RFC 6265 §5.4), and many servers read just the first. The joined form is valid in h2 too.
pub(crate) fn join_cookies(headers: &mut HeaderMap) {
    if headers.get_all(&COOKIE).iter().nth(1).is_none() {
        return;
    }
    let parts: Vec<&[u8]> = headers
        .get_all(&COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    // Joining valid field values with "; " always yields a valid one; if not, leave them be.
    if let Ok(joined) = HeaderValue::from_bytes(&parts.join(&b"; "[..])) {
        headers.insert(COOKIE, joined);
    }
}

/// Whether the request asks to switch protocols (WebSocket and friends).
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(&UPGRADE)
        && headers
            .get_all(&CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Appends the downstream peer to `x-forwarded-for` and sets `x-forwarded-proto`.
pub(crate) fn forwarded(headers: &mut HeaderMap, peer: IpAddr, tls: bool) {
    let ip = peer.to_canonical().to_string();
    // Repeated field lines are one comma-separated list (RFC 9110 §5.3): read them all, or
    // every hop but the first line's would be lost when the joined value replaces them.
    let mut hops: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .collect();
    hops.push(&ip);
    let value = hops.join(", ");
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    let proto = if tls { "https" } else { "http" };
    headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn strips_every_control_header_and_nothing_else() {
        let mut h = map(&[
            ("x-mesh-max-retries", "5"),
            ("x-mesh-upstream-rq-timeout-ms", "1"),
            ("x-meshy", "kept"),
            ("x-envoy-max-retries", "kept"),
            ("accept", "*/*"),
        ]);
        h.append("x-mesh-max-retries", HeaderValue::from_static("6"));
        strip_control_headers(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x-envoy-max-retries", "x-meshy"]);
    }

    #[test]
    fn strips_standard_and_connection_named_headers() {
        let mut h = map(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "gzip"),
            ("x-kept", "yes"),
        ]);
        strip_hop_by_hop(&mut h, false);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["x-kept"]);
    }

    #[test]
    fn keeps_te_trailers_and_the_upgrade_pair() {
        let mut h = map(&[
            ("te", "trailers"),
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
        ]);
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "upgrade");
    }

    #[test]
    fn appends_to_x_forwarded_for() {
        let mut h = map(&[("x-forwarded-for", "10.0.0.1")]);
        forwarded(&mut h, "127.0.0.1".parse().unwrap(), true);
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "https");
        let mut h = HeaderMap::new();
        forwarded(&mut h, "::ffff:127.0.0.2".parse().unwrap(), false);
        assert_eq!(h["x-forwarded-for"], "127.0.0.2");
        assert_eq!(h["x-forwarded-proto"], "http");
    }

    #[test]
    fn joins_repeated_cookies() {
        let mut h = map(&[("cookie", "a=1"), ("cookie", "b=2; c=3")]);
        join_cookies(&mut h);
        let all: Vec<_> = h.get_all("cookie").iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);
        let mut one = map(&[("cookie", "a=1")]);
        join_cookies(&mut one);
        assert_eq!(one["cookie"], "a=1");
    }

    #[test]
    fn appends_to_every_x_forwarded_for_line() {
        let mut h = map(&[
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2, 10.0.0.3"),
        ]);
        forwarded(&mut h, "127.0.0.1".parse().unwrap(), false);
        let all: Vec<_> = h.get_all("x-forwarded-for").iter().collect();
        assert_eq!(all, ["10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"]);
    }
}
