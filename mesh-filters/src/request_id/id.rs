//! Making and vetting request IDs.
//!
//! New IDs are UUIDv4. The 122 random bits come from rand's thread-local generator (a CSPRNG,
//! seeded from the OS and already a dependency) rather than the `uuid` crate's `v4` feature,
//! which would ask the OS for 16 bytes on every request; the `uuid` crate, without features,
//! still sets the version and variant bits and formats the text, which is easy to get subtly
//! wrong by hand.

use http::HeaderValue;
use rand::Rng;

/// Longest ID kept from a peer: room for any UUID or trace-style ID, too short to smuggle a
/// payload into every log line and upstream header.
pub const MAX_ID_LEN: usize = 128;

/// A new random (version 4, RFC 4122 variant) UUID, lowercase and hyphenated.
pub(crate) fn generate() -> HeaderValue {
    from_random_bytes(rand::rng().random())
}

/// The UUIDv4 made of `bytes`, its version and variant bits overwritten.
pub(crate) fn from_random_bytes(bytes: [u8; 16]) -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text))
        // Unreachable: hyphenated hex is always a valid header value; the fallback keeps
        // the request path free of panics all the same.
        .unwrap_or_else(|_| HeaderValue::from_static("00000000-0000-4000-8000-000000000000"))
}

/// Whether `value` is fit to keep: 1..=[`MAX_ID_LEN`] visible ASCII characters, so no
/// spaces, controls or non-ASCII bytes reach logs and upstream headers.
pub(crate) fn is_acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_ID_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptable_ids_are_short_visible_ascii() {
        let ok = |s: &str| is_acceptable(&HeaderValue::from_str(s).unwrap());
        assert!(ok("a"));
        assert!(ok("0b6f6a9e-5a4f-4c39-9d3c-6d1f1e0c2a11"));
        assert!(ok("trace:abc/123_~!"));
        assert!(ok(&"x".repeat(MAX_ID_LEN)));

        assert!(!ok(""));
        assert!(!ok(&"x".repeat(MAX_ID_LEN + 1)));
        assert!(!ok("has space"));
        assert!(!ok("tab\there"));
        assert!(!is_acceptable(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()));
    }

    #[test]
    fn generated_ids_are_fresh_acceptable_uuid_v4() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        for id in [a, b] {
            assert!(is_acceptable(&id));
            let text = id.to_str().unwrap();
            // Checked by hand as well as by the parser: version digit and variant digit.
            assert_eq!(text.len(), 36);
            assert_eq!(&text[14..15], "4", "{text}");
            assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
            assert_eq!(text, text.to_lowercase());
            let parsed = uuid::Uuid::parse_str(text).unwrap();
            assert_eq!(parsed.get_version(), Some(uuid::Version::Random));
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        }
    }

    #[test]
    fn version_and_variant_bits_are_forced() {
        let all_ones = from_random_bytes([0xff; 16]);
        assert_eq!(all_ones, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let all_zeros = from_random_bytes([0; 16]);
        assert_eq!(all_zeros, "00000000-0000-4000-8000-000000000000");
    }
}
