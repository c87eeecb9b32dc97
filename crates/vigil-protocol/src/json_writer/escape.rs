//! JSON strings escaped exactly as `serde_json` escapes them: `"` and `\`
//! get a backslash; backspace, form feed, newline, carriage return and tab
//! their two-character escapes; the other bytes below `0x20` are written
//! `\u00XX` with lowercase hex digits. Every other byte, non-ASCII
//! included, is copied as it is.
//!
//! Most strings need no escape at all, so both functions first look for
//! the next byte that does, a window of bytes at a time with no early exit
//! inside a window (which the compiler turns into a few vector compares),
//! and copy or count the clean run before it in one step.

/// The hex digits of a `\u00XX` escape, as `serde_json` writes them.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Whether `byte` has to be escaped inside a JSON string.
#[inline]
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The length of the longest prefix of `bytes` that needs no escape.
#[inline]
fn clean_prefix_len(bytes: &[u8]) -> usize {
    let first_dirty = match bytes.len() {
        16.. => first_dirty_by_window::<16>(bytes),
        8.. => first_dirty_by_window::<8>(bytes),
        4.. => first_dirty_by_window::<4>(bytes),
        _ => bytes.iter().position(|&b| needs_escape(b)),
    };
    first_dirty.unwrap_or(bytes.len())
}

/// The index of the first byte of `bytes` that needs an escape, checking
/// `N` bytes at a time; the last window ends at the end of `bytes` and may
/// overlap the one before it (whose bytes are clean). For `bytes` shorter
/// than `N` it finds nothing.
#[inline]
fn first_dirty_by_window<const N: usize>(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(N)?;
    let mut at = 0;
    loop {
        let window: &[u8; N] = bytes.get(at..)?.first_chunk()?;
        // A fold over the whole window, without early exit, so that it
        // compiles to a few vector compares.
        if window
            .iter()
            .fold(false, |dirty, &b| dirty | needs_escape(b))
        {
            return window.iter().position(|&b| needs_escape(b)).map(|i| at + i);
        }
        if at == last {
            return None;
        }
        at = (at + N).min(last);
    }
}

/// The escape sequence of a byte that [`needs_escape`], and how much of
/// the returned buffer it takes.
#[inline]
fn escape_of(byte: u8) -> ([u8; 6], usize) {
    let short = |c: u8| ([b'\\', c, 0, 0, 0, 0], 2);
    match byte {
        b'"' => short(b'"'),
        b'\\' => short(b'\\'),
        b'\n' => short(b'n'),
        b'\r' => short(b'r'),
        b'\t' => short(b't'),
        0x08 => short(b'b'),
        0x0c => short(b'f'),
        _ => (
            [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX_DIGITS[usize::from(byte >> 4)],
                HEX_DIGITS[usize::from(byte & 0x0f)],
            ],
            6,
        ),
    }
}

/// Appends `text` to `out` as a JSON string, quotes included.
pub(super) fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    loop {
        let clean = clean_prefix_len(rest);
        let (run, tail) = rest.split_at(clean);
        out.extend_from_slice(run);
        let Some((&byte, tail)) = tail.split_first() else {
            break;
        };
        let (escape, len) = escape_of(byte);
        out.extend_from_slice(&escape[..len]);
        rest = tail;
    }
    out.push(b'"');
}

/// The number of bytes [`write_escaped`] appends for `text`.
pub(crate) fn escaped_size(text: &str) -> usize {
    let bytes = text.as_bytes();
    let clean = clean_prefix_len(bytes);
    let escapes: usize = bytes[clean..]
        .iter()
        .map(|&b| {
            if needs_escape(b) {
                escape_of(b).1 - 1
            } else {
                0
            }
        })
        .sum();
    bytes.len() + escapes + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_escapes_it() {
        for c in (0..=0x7f_u8).map(char::from).chain(['é', '\u{2028}', '😀']) {
            for text in [
                c.to_string(),
                format!("a{c}b"),
                format!("{}{c}{}", "x".repeat(15), "y".repeat(19)),
                format!("{}{c}", "x".repeat(10)),
                format!("{}{c}", "x".repeat(20)),
            ] {
                let expected = serde_json::to_string(&text).unwrap();
                assert_eq!(escaped(&text), expected, "{text:?}");
                assert_eq!(escaped_size(&text), expected.len(), "{text:?}");
            }
        }
    }

    #[test]
    fn clean_runs_are_found_in_every_window() {
        for len in 0..50 {
            let clean = "a".repeat(len);
            assert_eq!(clean_prefix_len(clean.as_bytes()), len);
            for after in [0, 1, 7, 8, 15, 16, 17, 40] {
                let dirty = format!("{clean}\"{}", "b\n".repeat(after));
                assert_eq!(clean_prefix_len(dirty.as_bytes()), len, "{dirty:?}");
                assert_eq!(escaped(&dirty), serde_json::to_string(&dirty).unwrap());
                assert_eq!(
                    escaped_size(&dirty),
                    serde_json::to_string(&dirty).unwrap().len()
                );
            }
        }
    }
}
