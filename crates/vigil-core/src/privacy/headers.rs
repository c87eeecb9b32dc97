//! The header and cookie rule: names that always have their value
//! filtered, whatever `send_default_pii` says (protocol.md §7.4).

use super::FILTERED;

/// Header (and cookie) names containing one of these, ignoring case,
/// always have their value replaced by [`FILTERED`].
const SENSITIVE_HEADER_PARTS: &[&str] = &[
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "key",
    "jwt",
    "bearer",
    "sso",
    "saml",
    "csrf",
    "xsrf",
    "credentials",
    "session",
    "sid",
    "identity",
];

/// Cookie names filtered as a whole besides the header rule: the
/// session cookies of Relay's default scrubbing that the parts above do
/// not catch.
const SENSITIVE_COOKIE_NAMES: &[&str] = &["su", "sudo", "symfony"];

/// Whether a header named `name` always has its value filtered: its name
/// contains (ignoring ASCII case) `auth`, `token`, `secret`, `password`,
/// `passwd`, `pwd`, `key`, `jwt`, `bearer`, `sso`, `saml`, `csrf`,
/// `xsrf`, `credentials`, `session`, `sid` or `identity`.
///
/// This runs for every header of every request that sends request data,
/// so it is one pass over the name: at each byte only the words starting
/// with it are compared, with no lower-cased copy.
///
/// ```
/// use vigil_core::privacy::is_sensitive_header;
/// assert!(is_sensitive_header("X-Api-Key"));
/// assert!(is_sensitive_header("Authorization"));
/// assert!(!is_sensitive_header("User-Agent"));
/// ```
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.as_bytes();
    (0..name.len()).any(|start| {
        let rest = &name[start..];
        let mut candidates = WORDS_STARTING_WITH[usize::from(rest[0].to_ascii_lowercase())];
        while candidates != 0 {
            let word = SENSITIVE_HEADER_PARTS[candidates.trailing_zeros() as usize].as_bytes();
            if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
                return true;
            }
            candidates &= candidates - 1;
        }
        false
    })
}

/// For each byte, the [`SENSITIVE_HEADER_PARTS`] that start with it, as a
/// set of indices (bit `i` for `SENSITIVE_HEADER_PARTS[i]`).
const WORDS_STARTING_WITH: [u32; 256] = {
    assert!(SENSITIVE_HEADER_PARTS.len() <= 32, "one bit per word");
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < SENSITIVE_HEADER_PARTS.len() {
        table[SENSITIVE_HEADER_PARTS[i].as_bytes()[0] as usize] |= 1 << i;
        i += 1;
    }
    table
};

/// Whether a cookie named `name` has its value filtered: the header rule
/// ([`is_sensitive_header`]), or one of the session cookie names `su`,
/// `sudo`, `symfony` (ignoring case).
pub fn is_sensitive_cookie(name: &str) -> bool {
    is_sensitive_header(name)
        || SENSITIVE_COOKIE_NAMES
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
}

/// Filters a `Cookie` (or, with `set_cookie`, a `Set-Cookie`) value cookie
/// by cookie: the value of a cookie with a sensitive name
/// ([`is_sensitive_cookie`]) becomes [`FILTERED`]. `None` when the value
/// does not parse: the caller then sends [`FILTERED`] for the whole
/// header, so a raw cookie header is never sent.
///
/// ```
/// use vigil_core::privacy::filter_cookies;
/// assert_eq!(
///     filter_cookies("theme=dark; sessionid=abc", false).as_deref(),
///     Some("theme=dark; sessionid=[Filtered]")
/// );
/// assert_eq!(filter_cookies("not a cookie", false), None);
/// ```
pub fn filter_cookies(value: &str, set_cookie: bool) -> Option<String> {
    filter_cookies_by(value, set_cookie, is_sensitive_cookie)
}

/// [`filter_cookies`] with `sensitive` deciding which cookie names are
/// filtered.
pub(crate) fn filter_cookies_by(
    value: &str,
    set_cookie: bool,
    sensitive: impl Fn(&str) -> bool,
) -> Option<String> {
    let mut out = Vec::new();
    for (i, part) in value.split(';').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        // In `Set-Cookie` only the first pair is the cookie; the rest are
        // attributes (`Path=/`, `HttpOnly`).
        let is_cookie = !set_cookie || i == 0;
        match part.split_once('=') {
            Some((name, v)) => {
                let name = name.trim();
                if name.is_empty() {
                    return None;
                }
                if is_cookie && sensitive(name) {
                    out.push(format!("{name}={FILTERED}"));
                } else {
                    out.push(format!("{name}={}", v.trim()));
                }
            }
            None if !is_cookie => out.push(part.to_owned()),
            None => return None,
        }
    }
    Some(out.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_header_names() {
        for name in [
            "Authorization",
            "X-Api-Key",
            "x-csrf-token",
            "X-XSRF-TOKEN",
            "x-session-id",
            "x-amz-security-token",
            "x-identity",
            "proxy-authorization",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in [
            "user-agent",
            "accept",
            "content-type",
            "cookie",
            "x-forwarded-for",
        ] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }

    #[test]
    fn sensitive_cookie_names() {
        for name in [
            "sessionid",
            "PHPSESSID",
            "su",
            "SUDO",
            "symfony",
            "csrftoken",
        ] {
            assert!(is_sensitive_cookie(name), "{name}");
        }
        for name in ["theme", "lang", "sugar"] {
            assert!(!is_sensitive_cookie(name), "{name}");
        }
    }

    /// The one-pass matcher agrees with the plain definition (a lower-cased
    /// copy containing one of the words) on every name built from word
    /// fragments, cut words, case changes and other bytes.
    #[test]
    fn sensitive_header_matches_the_plain_definition() {
        let plain = |name: &str| {
            let lower = name.to_ascii_lowercase();
            SENSITIVE_HEADER_PARTS
                .iter()
                .any(|word| lower.contains(word))
        };
        let mut pieces: Vec<String> = vec!["".into(), "-".into(), "x".into(), "é".into()];
        for word in SENSITIVE_HEADER_PARTS {
            pieces.push((*word).to_owned());
            pieces.push(word.to_ascii_uppercase());
            pieces.push(word[..word.len() - 1].to_owned());
            pieces.push(word[1..].to_owned());
        }
        let mut checked = 0;
        for a in &pieces {
            for b in &pieces {
                for c in ["", "-id", "K", "S"] {
                    let name = format!("{a}{b}{c}");
                    assert_eq!(is_sensitive_header(&name), plain(&name), "{name:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000);
    }
}
