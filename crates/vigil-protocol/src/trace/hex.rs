//! Hex text of trace and span ids: written in lowercase, read strictly
//! (headers) or in either case (JSON, as Relay reads it).

/// The lowercase hex digits.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Which letters a hex reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Letters {
    /// `a`-`f` only, as the propagation headers require.
    Lowercase,
    /// `a`-`f` and `A`-`F`.
    AnyCase,
}

/// The `M = 2 * N` lowercase hex digits of `bytes` (the lengths are checked
/// when the function is compiled).
pub(crate) fn encode_array<const N: usize, const M: usize>(bytes: &[u8; N]) -> [u8; M] {
    const { assert!(M == 2 * N, "two digits per byte") };
    let mut digits = [0; M];
    let words = bytes.chunks_exact(4);
    let rest = words.remainder();
    let (word_digits, rest_digits) = digits.split_at_mut(M - 2 * rest.len());
    for (out, word) in word_digits.chunks_exact_mut(8).zip(words) {
        out.copy_from_slice(&digits_of_word(word));
    }
    for (out, &byte) in rest_digits.chunks_exact_mut(2).zip(rest) {
        out.copy_from_slice(&[
            DIGITS[usize::from(byte >> 4)],
            DIGITS[usize::from(byte & 0x0f)],
        ]);
    }
    digits
}

/// The 8 hex digits of 4 bytes, worked out side by side in one `u64`: each
/// nibble is spread into a byte of its own, then turned into `0`-`9` or
/// `a`-`f` without a branch or a table.
fn digits_of_word(word: &[u8]) -> [u8; 8] {
    let mut spread = u64::from(u32::from_be_bytes(word.try_into().unwrap_or_default()));
    spread = (spread | (spread << 16)) & 0x0000_ffff_0000_ffff;
    spread = (spread | (spread << 8)) & 0x00ff_00ff_00ff_00ff;
    spread = (spread | (spread << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more: adding 6 carries it into
    // bit 4 (and never out of the byte).
    let letters = ((spread + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    // `0` is 0x30; a letter gets `a` - `0` - 10 = 0x27 more.
    (spread + 0x3030_3030_3030_3030 + letters * 0x27).to_be_bytes()
}

/// Hex digits (ASCII) as text.
pub(super) fn as_text(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or_default()
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
