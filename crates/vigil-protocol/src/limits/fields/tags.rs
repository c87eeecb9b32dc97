//! Limits of tags: keys made of the characters Relay allows, values
//! without line breaks, both at most 200 characters.

use std::collections::BTreeMap;

use smol_str::SmolStr;

use crate::limits::text::{trim_whitespace, truncate_chars};

const TAG_KEY_CHARS: usize = 200;
/// Also the limit of a span's tag values.
pub(super) const TAG_VALUE_CHARS: usize = 200;

/// A character Relay allows in a tag key.
fn is_tag_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// Fits tag keys and values, removing tags left empty.
pub(super) fn trim_tags(tags: &mut BTreeMap<SmolStr, SmolStr>) {
    // Checked on every event: bytes, not chars (a key char is ASCII).
    let needs_work = tags.iter().any(|(k, v)| {
        k.is_empty()
            || k.len() > TAG_KEY_CHARS
            || !k.bytes().all(|b| is_tag_key_char(char::from(b)))
            || v.is_empty()
            || v.len() > TAG_VALUE_CHARS
            || v.bytes().any(|b| b == b'\r' || b == b'\n')
            || v.starts_with(char::is_whitespace)
            || v.ends_with(char::is_whitespace)
    });
    if !needs_work {
        return;
    }
    let mut renamed = Vec::new();
    let mut out = BTreeMap::new();
    for (key, value) in std::mem::take(tags) {
        let key = String::from(key);
        let mut value = if value.contains(['\r', '\n']) {
            value.replace("\r\n", " ").replace(['\r', '\n'], " ")
        } else {
            String::from(value)
        };
        trim_whitespace(&mut value);
        truncate_chars(&mut value, TAG_VALUE_CHARS);
        if value.is_empty() {
            continue;
        }
        if key.chars().all(is_tag_key_char) {
            let mut key = key;
            truncate_chars(&mut key, TAG_KEY_CHARS);
            if !key.is_empty() {
                out.entry(SmolStr::from(key))
                    .or_insert_with(|| SmolStr::from(value));
            }
        } else {
            let mut key: String = key
                .chars()
                .map(|c| match c {
                    ' ' => '-',
                    c if is_tag_key_char(c) => c,
                    _ => '_',
                })
                .collect();
            truncate_chars(&mut key, TAG_KEY_CHARS);
            renamed.push((key, value));
        }
    }
    // Keys that were valid as given win over rewritten ones.
    for (key, value) in renamed {
        if !key.is_empty() {
            out.entry(SmolStr::from(key))
                .or_insert_with(|| SmolStr::from(value));
        }
    }
    *tags = out;
}
