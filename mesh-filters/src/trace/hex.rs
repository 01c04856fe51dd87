//! Lowercase hex for trace and span IDs, without allocating on the way in.

/// Decodes exactly `N` bytes from `2 * N` hex digits. Upper case is refused when `lower_only`
/// (W3C requires lowercase; B3 readers accept either).
pub(super) fn decode<const N: usize>(text: &[u8], lower_only: bool) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *byte = digit(*hi, lower_only)? << 4 | digit(*lo, lower_only)?;
    }
    Some(out)
}

fn digit(c: u8, lower_only: bool) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' if !lower_only => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `bytes` as lowercase hex.
pub(super) fn encode(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}
