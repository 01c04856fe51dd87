//! Hand-encoded `grpc.health.v1` messages in gRPC's length-prefixed framing; two one-field
//! messages do not need generated code:
//!
//! ```text
//! message HealthCheckRequest  { string service = 1; }
//! message HealthCheckResponse { ServingStatus status = 1; }   // UNKNOWN 0, SERVING 1, NOT_SERVING 2
//! frame := compressed-flag (1 byte, 0) · message length (4 bytes, big-endian) · message
//! ```

use crate::outcome::ProbeFailure;
use bytes::{BufMut, Bytes, BytesMut};

pub(super) const SERVING: i32 = 1;

/// Field 1, wire type 2 (length-delimited).
const SERVICE_KEY: u8 = (1 << 3) | 2;

/// One framed `HealthCheckRequest`; an empty `service` is omitted, as proto3 does.
pub(super) fn encode_request(service: &str) -> Result<Bytes, String> {
    let mut message = BytesMut::new();
    if !service.is_empty() {
        message.put_u8(SERVICE_KEY);
        put_varint(&mut message, service.len() as u64);
        message.put_slice(service.as_bytes());
    }
    let len = u32::try_from(message.len()).map_err(|_| "service name too long".to_owned())?;
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(len);
    frame.put_slice(&message);
    Ok(frame.freeze())
}

/// The `status` of the first framed `HealthCheckResponse` in `body`; unknown fields are skipped
/// and an absent status is `UNKNOWN` (0), as proto3 decoding does.
pub(super) fn decode_response(body: &[u8]) -> Result<i32, ProbeFailure> {
    let malformed = |what: &str| ProbeFailure::Malformed(what.to_owned());
    let (&[flag, a, b, c, d], rest) = body
        .split_first_chunk::<5>()
        .ok_or_else(|| malformed("no gRPC message"))?;
    if flag != 0 {
        return Err(malformed("compressed gRPC message"));
    }
    let len = usize::try_from(u32::from_be_bytes([a, b, c, d])).map_err(|_| malformed("huge message"))?;
    let mut message = rest
        .get(..len)
        .ok_or_else(|| malformed("truncated gRPC message"))?;
    let mut status = 0;
    while !message.is_empty() {
        let key = varint(&mut message).ok_or_else(|| malformed("bad protobuf key"))?;
        let skip = match key & 7 {
            0 => {
                let value = varint(&mut message).ok_or_else(|| malformed("bad protobuf varint"))?;
                if key >> 3 == 1 {
                    // An enum is an int32 on the wire: negative values are sign-extended to 64 bits.
                    status = value as i32;
                }
                0
            }
            1 => 8,
            2 => {
                let n = varint(&mut message).ok_or_else(|| malformed("bad protobuf length"))?;
                usize::try_from(n).map_err(|_| malformed("bad protobuf length"))?
            }
            5 => 4,
            _ => return Err(malformed("unsupported protobuf wire type")),
        };
        message = message
            .get(skip..)
            .ok_or_else(|| malformed("truncated protobuf field"))?;
    }
    Ok(status)
}

fn put_varint(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Reads one base-128 varint off the front of `input`; `None` if truncated or over 64 bits.
fn varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *input = input.get(i + 1..)?;
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(message: &[u8]) -> Vec<u8> {
        let mut f = vec![0];
        f.extend((message.len() as u32).to_be_bytes());
        f.extend(message);
        f
    }

    #[test]
    fn requests_are_framed_proto3() {
        assert_eq!(&encode_request("").unwrap()[..], &[0, 0, 0, 0, 0]);
        assert_eq!(
            &encode_request("db").unwrap()[..],
            &[0, 0, 0, 0, 4, 0x0a, 2, b'd', b'b']
        );
        let long = "s".repeat(200);
        let framed = encode_request(&long).unwrap();
        assert_eq!(&framed[5..8], &[0x0a, 0xc8, 0x01], "two-byte varint length");
    }

    #[test]
    fn responses_decode_with_unknown_fields() {
        assert_eq!(decode_response(&frame(&[0x08, 1])), Ok(SERVING));
        assert_eq!(decode_response(&frame(&[0x08, 2])), Ok(2));
        assert_eq!(decode_response(&frame(&[])), Ok(0), "absent status is UNKNOWN");
        // field 2 (string "x"), field 3 (fixed32), then status.
        let message = [0x12, 1, b'x', 0x1d, 0, 0, 0, 0, 0x08, 1];
        assert_eq!(decode_response(&frame(&message)), Ok(SERVING));
        let negative = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(decode_response(&frame(&negative)), Ok(-1));
    }

    #[test]
    fn bad_responses_are_malformed() {
        for body in [
            &[][..],
            &[0, 0, 0],
            &[1, 0, 0, 0, 0],
            &[0, 0, 0, 0, 2, 0x08],
            &[0, 0, 0, 0, 1, 0x08],
        ] {
            assert!(
                matches!(decode_response(body), Err(ProbeFailure::Malformed(_))),
                "{body:?}"
            );
        }
        let overlong = frame(&[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        assert!(decode_response(&overlong).is_err());
    }
}
