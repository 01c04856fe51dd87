//! The request hash for consistent-hashing clusters, from a route's `hash_policy`.
//!
//! Envoy's rules: entries are evaluated in order; each one that finds its input
//! folds it in as `hash = hash.rotate_left(1) ^ h(input)`; a `terminal` entry that
//! produced a key ends the evaluation. No entry producing a key means no hash
//! (the balancer then picks at random).

use super::RequestHead;
use crate::policy::{HashPolicy, HashSource};
use std::borrow::Cow;
use std::net::IpAddr;

impl HashPolicy {
    /// The bytes this entry hashes for a request, if the request carries them.
    pub fn key<'a>(
        &self,
        req: &RequestHead<'a>,
        query: Option<&'a str>,
        peer: IpAddr,
    ) -> Option<Cow<'a, [u8]>> {
        match &self.source {
            HashSource::Header(name) => req.headers.get(name).map(|v| Cow::Borrowed(v.as_bytes())),
            HashSource::Cookie(name) => req
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k == name)
                .map(|(_, v)| Cow::Borrowed(v.as_bytes())),
            HashSource::SourceIp => Some(Cow::Owned(peer.to_canonical().to_string().into_bytes())),
            HashSource::QueryParameter(name) => query?
                .split('&')
                .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
                .find(|(k, _)| k == name)
                .map(|(_, v)| Cow::Borrowed(v.as_bytes())),
        }
    }
}

/// Folds every applicable entry of `policies` into one hash with `hash_fn`.
pub fn request_hash(
    policies: &[HashPolicy],
    req: &RequestHead<'_>,
    query: Option<&str>,
    peer: IpAddr,
    hash_fn: impl Fn(&[u8]) -> u64,
) -> Option<u64> {
    let mut hash: Option<u64> = None;
    for p in policies {
        if let Some(key) = p.key(req, query, peer) {
            let h = hash_fn(&key);
            hash = Some(hash.map_or(h, |acc| acc.rotate_left(1) ^ h));
            if p.terminal {
                break;
            }
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, Method};

    fn policy(source: HashSource, terminal: bool) -> HashPolicy {
        HashPolicy { source, terminal }
    }

    fn head<'a>(headers: &'a HeaderMap, method: &'a Method) -> RequestHead<'a> {
        RequestHead {
            method,
            authority: "a",
            path: "/",
            scheme: "http",
            headers,
        }
    }

    /// A stand-in hash that makes the folding visible.
    fn len_hash(b: &[u8]) -> u64 {
        b.len() as u64
    }

    #[test]
    fn each_source_finds_its_key() {
        let mut h = HeaderMap::new();
        h.insert("x-user", HeaderValue::from_static("alice"));
        h.append("cookie", HeaderValue::from_static("a=1; session=xyz"));
        h.append("cookie", HeaderValue::from_static("b=2"));
        let m = Method::GET;
        let req = head(&h, &m);
        let peer: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        let key = |s| {
            policy(s, false)
                .key(&req, Some("u=42&flag"), peer)
                .map(|k| k.into_owned())
        };
        assert_eq!(
            key(HashSource::Header(http::HeaderName::from_static("x-user"))),
            Some(b"alice".to_vec())
        );
        assert_eq!(key(HashSource::Cookie("session".into())), Some(b"xyz".to_vec()));
        assert_eq!(key(HashSource::Cookie("b".into())), Some(b"2".to_vec()));
        assert_eq!(key(HashSource::Cookie("missing".into())), None);
        assert_eq!(key(HashSource::SourceIp), Some(b"10.0.0.7".to_vec()));
        assert_eq!(key(HashSource::QueryParameter("u".into())), Some(b"42".to_vec()));
        assert_eq!(key(HashSource::QueryParameter("flag".into())), Some(Vec::new()));
        assert_eq!(key(HashSource::QueryParameter("nope".into())), None);
    }

    #[test]
    fn entries_fold_and_terminal_stops() {
        let mut h = HeaderMap::new();
        h.insert("x-a", HeaderValue::from_static("aaaa"));
        h.insert("x-b", HeaderValue::from_static("bb"));
        let m = Method::GET;
        let req = head(&h, &m);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let a = HashSource::Header(http::HeaderName::from_static("x-a"));
        let b = HashSource::Header(http::HeaderName::from_static("x-b"));
        let missing = HashSource::Header(http::HeaderName::from_static("x-none"));
        let both = [
            policy(missing.clone(), true),
            policy(a.clone(), false),
            policy(b.clone(), false),
        ];
        assert_eq!(
            request_hash(&both, &req, None, peer, len_hash),
            Some(4u64.rotate_left(1) ^ 2)
        );
        let stop = [policy(a, true), policy(b, false)];
        assert_eq!(request_hash(&stop, &req, None, peer, len_hash), Some(4));
        assert_eq!(
            request_hash(&[policy(missing, false)], &req, None, peer, len_hash),
            None
        );
    }
}
