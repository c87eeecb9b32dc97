//! Hex text of trace and span ids: written in lowercase, read strictly
//! (headers) or in either case (JSON, as Relay reads it).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Which letters a hex reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Letters {
    /// `a`-`f` only, as the propagation headers require.
    Lowercase,
    /// `a`-`f` and `A`-`F`.
    AnyCase,
}

/// Writes `bytes` as lowercase hex into the front of `out`, which must be
/// at least twice as long, and returns the text.
pub(super) fn encode<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    let out = &mut out[..bytes.len() * 2];
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    std::str::from_utf8(out).expect("hex digits are ASCII")
}

/// Reads exactly `2 * N` hex digits into `N` bytes.
pub(super) fn decode<const N: usize>(text: &[u8], letters: Letters) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut bytes = [0; N];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *byte = (digit(pair[0], letters)? << 4) | digit(pair[1], letters)?;
    }
    Some(bytes)
}

fn digit(c: u8, letters: Letters) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' if letters == Letters::AnyCase => Some(c - b'A' + 10),
        _ => None,
    }
}
