//! Keeping secrets and personal data out of what is sent: the rules the
//! request, HTTP client and log integrations and the
//! [`EventScrubber`](crate::EventScrubber) share.
//!
//! - Query strings and URLs: [`filter_query`], [`filter_url`] (values of
//!   sensitive parameters, [`is_sensitive_parameter`], and URL user info).
//! - Headers and cookies: [`is_sensitive_header`], [`filter_cookies`],
//!   [`is_client_identity_header`], and the whole rule for a request
//!   header's value, [`request_header_value`].

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

mod headers;
mod request_headers;

pub(crate) use self::headers::filter_cookies_by;
pub use self::headers::{filter_cookies, is_sensitive_cookie, is_sensitive_header};
pub use self::request_headers::{is_client_identity_header, request_cookies, request_header_value};

/// What a filtered value is replaced with.
pub const FILTERED: &str = "[Filtered]";

/// Query parameter names containing one of these (ignoring case) are
/// sensitive: the denylists of sentry-python's scrubber and Relay's
/// `@password` rule, as substrings.
const SENSITIVE_PARTS: &[&str] = &[
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
    "credential",
    "session",
    "sessid",
    ".sid",
    "signature",
    "private",
];

/// Query parameter names that are sensitive only as a whole (as parts
/// they would catch too much: `code` in `country_code`).
const SENSITIVE_NAMES: &[&str] = &["code", "sig", "sid", "otp", "pin", "ticket", "nonce"];

/// Whether a query parameter (or form field) named `name` holds a secret
/// by the rules above. `name` may be percent-encoded.
pub fn is_sensitive_parameter(name: &str) -> bool {
    if name.contains('%') {
        let decoded = name
            .to_ascii_lowercase()
            .replace("%5f", "_")
            .replace("%2d", "-");
        return is_sensitive_decoded(&decoded);
    }
    is_sensitive_decoded(name)
}

/// [`is_sensitive_parameter`] of a name without percent-escapes, ignoring
/// ASCII case; allocates nothing.
fn is_sensitive_decoded(name: &str) -> bool {
    static PARTS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(SENSITIVE_PARTS)
            .ok()
    });
    SENSITIVE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
        || match PARTS.as_ref() {
            Some(parts) => parts.is_match(name),
            None => {
                let name = name.to_ascii_lowercase();
                SENSITIVE_PARTS.iter().any(|part| name.contains(part))
            }
        }
}

/// `query` (a URL's query string, without `?`) with the value of every
/// sensitive parameter ([`is_sensitive_parameter`]) replaced by
/// [`FILTERED`]; the names, the order and the other values are kept.
///
/// ```
/// use vigil_core::privacy::filter_query;
/// assert_eq!(
///     filter_query("page=2&access_token=abc&code=xyz"),
///     "page=2&access_token=[Filtered]&code=[Filtered]"
/// );
/// assert_eq!(filter_query("page=2&q=rust"), "page=2&q=rust");
/// ```
pub fn filter_query(query: &str) -> Cow<'_, str> {
    filter_query_values(query, is_sensitive_parameter)
}

/// `query` with every value replaced by [`FILTERED`] (names kept): for
/// queries of URLs that identify what a user did (a `Referer`) when
/// personal data is not to be sent.
pub fn filter_all_query_values(query: &str) -> Cow<'_, str> {
    filter_query_values(query, |_| true)
}

fn filter_query_values(query: &str, sensitive: impl Fn(&str) -> bool) -> Cow<'_, str> {
    let filtered = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(name, value)| sensitive(name) && value != FILTERED)
    };
    if !query.split('&').any(filtered) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if filtered(pair) => Cow::Owned(format!("{name}={FILTERED}")),
            _ => Cow::Borrowed(pair),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// `url` with its user info replaced by `[Filtered]:[Filtered]` and the
/// values of its sensitive query parameters by [`FILTERED`]
/// ([`filter_query`]); with `all_values`, every query value. Text that is
/// not an absolute URL keeps its form, its query filtered the same way.
pub fn filter_url(url: &str, all_values: bool) -> Cow<'_, str> {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (before_fragment, None),
    };
    let base = filter_userinfo(base);
    let query = query.map(|q| {
        if all_values {
            filter_all_query_values(q)
        } else {
            filter_query(q)
        }
    });
    if matches!(base, Cow::Borrowed(_))
        && query.as_ref().is_none_or(|q| matches!(q, Cow::Borrowed(_)))
    {
        return Cow::Borrowed(url);
    }
    let mut out = base.into_owned();
    if let Some(query) = query {
        out.push('?');
        out.push_str(&query);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Cow::Owned(out)
}

/// `scheme://user:password@host/...` → `scheme://[Filtered]:[Filtered]@host/...`.
fn filter_userinfo(url: &str) -> Cow<'_, str> {
    // Byte scans: URLs are short, and most have no user info.
    let bytes = url.as_bytes();
    let Some(start) = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b':')
        .find(|&(i, _)| bytes[i + 1..].starts_with(b"//"))
        .map(|(i, _)| i + 3)
    else {
        return Cow::Borrowed(url);
    };
    let authority_end = bytes[start..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(url.len(), |i| start + i);
    let Some(at) = bytes[start..authority_end].iter().rposition(|&b| b == b'@') else {
        return Cow::Borrowed(url);
    };
    let filtered = format!("{FILTERED}:{FILTERED}");
    if url[start..start + at] == filtered {
        return Cow::Borrowed(url);
    }
    Cow::Owned(format!("{}{filtered}{}", &url[..start], &url[start + at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_parameters() {
        for name in [
            "token",
            "access_token",
            "api_key",
            "apiKey",
            "X-API-KEY",
            "password",
            "client_secret",
            "code",
            "sig",
            "Signature",
            "session_id",
            "PHPSESSID",
            "csrfmiddlewaretoken",
            "private_key",
            "auth",
            "id_token",
            "api%5Fkey",
            "connect.sid",
        ] {
            assert!(is_sensitive_parameter(name), "{name}");
        }
        for name in ["page", "q", "country_code", "sort", "id", "lang", "user"] {
            assert!(!is_sensitive_parameter(name), "{name}");
        }
    }

    #[test]
    fn queries_keep_their_shape() {
        assert_eq!(filter_query(""), "");
        assert_eq!(filter_query("token"), "token", "a name without value");
        assert_eq!(filter_query("a=1&&token=x&b"), "a=1&&token=[Filtered]&b");
        assert_eq!(filter_query("token=a=b"), "token=[Filtered]");
        assert!(matches!(filter_query("a=1&b=2"), Cow::Borrowed(_)));
        assert!(matches!(filter_query("token=[Filtered]"), Cow::Borrowed(_)));
        assert_eq!(
            filter_all_query_values("a=1&b&c=3"),
            "a=[Filtered]&b&c=[Filtered]"
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            filter_url(
                "https://u:p@example.com:8080/cb?code=abc&state=s#frag",
                false
            ),
            "https://[Filtered]:[Filtered]@example.com:8080/cb?code=[Filtered]&state=s#frag"
        );
        assert_eq!(
            filter_url("https://example.com/search?q=rust&page=2", true),
            "https://example.com/search?q=[Filtered]&page=[Filtered]"
        );
        assert!(matches!(
            filter_url("https://example.com/a?page=2", false),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            filter_url("/relative?token=1", false),
            "/relative?token=[Filtered]"
        );
        assert_eq!(filter_url("mailto:a@b", false), "mailto:a@b");
    }
}
