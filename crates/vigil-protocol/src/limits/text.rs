//! Cutting text to a length limit: on a character boundary, ending in
//! `...`, measured in characters, bytes or percent-encoded URL characters.

use std::borrow::Cow;

use smol_str::SmolStr;

/// What a cut string ends in.
pub(super) const ELLIPSIS: &str = "...";

/// Cuts `s` to `limit` characters (`limit - 3` plus `...`) if it is longer.
pub(super) fn truncate_chars(s: &mut String, limit: usize) {
    // A string of at most `limit` bytes has at most `limit` chars.
    if s.len() <= limit || s.chars().nth(limit).is_none() {
        return;
    }
    let keep = limit.saturating_sub(ELLIPSIS.len());
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

/// [`truncate_chars`] for a string that may be borrowed (copied only when
/// it is longer than `limit` bytes).
pub(super) fn truncate_cow(s: &mut Cow<'static, str>, limit: usize) {
    if s.len() > limit {
        truncate_chars(s.to_mut(), limit);
    }
}

/// [`truncate_chars`] for a short string (copied only when it is longer
/// than `limit` bytes).
pub(super) fn truncate_smol(text: &mut SmolStr, limit: usize) {
    if text.len() > limit {
        let mut owned = text.to_string();
        truncate_chars(&mut owned, limit);
        *text = SmolStr::from(owned);
    }
}

/// [`truncate_smol`] for an optional short string.
pub(super) fn truncate_opt_smol(s: &mut Option<SmolStr>, limit: usize) {
    if let Some(text) = s {
        truncate_smol(text, limit);
    }
}

/// [`truncate_chars`] for an optional string.
pub(super) fn truncate_opt(s: &mut Option<String>, limit: usize) {
    if let Some(s) = s {
        truncate_chars(s, limit);
    }
}

/// Cuts `s` to at most `limit` bytes (on a char boundary, plus `...`).
pub(super) fn truncate_bytes(s: &mut String, limit: usize) {
    if s.len() <= limit {
        return;
    }
    let mut cut = limit.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

/// How many characters `c` may become once Relay has parsed and
/// re-serialized a URL: percent-encoded (`%XX` per byte) or, in a host name,
/// Punycode (`xn--` and a few characters per code point).
pub(super) fn url_len(c: char) -> usize {
    if c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%|^\\".contains(c) {
        1
    } else if c.is_ascii() {
        3
    } else {
        4 * c.len_utf8()
    }
}

/// Cuts a URL so that even its percent-encoded form has at most `limit`
/// characters (`...` included).
pub(super) fn truncate_url(url: &mut String, limit: usize) {
    if url.chars().map(url_len).sum::<usize>() <= limit {
        return;
    }
    cut_with_ellipsis(url, limit.saturating_sub(ELLIPSIS.len()), url_len);
}

/// Cuts `s` after the longest prefix whose chars cost at most `room`
/// (each as `cost` says), then appends `...`.
pub(super) fn cut_with_ellipsis(s: &mut String, room: usize, cost: impl Fn(char) -> usize) {
    let mut used = 0;
    let cut = s
        .char_indices()
        .find(|&(_, c)| {
            used += cost(c);
            used > room
        })
        .map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

/// Removes leading and trailing whitespace (allocating only when there is
/// some).
pub(super) fn trim_whitespace(s: &mut String) {
    if !s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace) {
        return;
    }
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        *s = trimmed.to_owned();
    }
}
