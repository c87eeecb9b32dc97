//! The value a request header is sent with (protocol.md §7.4), for every
//! web integration alike, whatever its HTTP types: the integration hands
//! over the lower-case name and the raw values.

use super::{FILTERED, filter_cookies, filter_url, is_sensitive_header};

/// Headers that carry the client's address or identity (set by proxies
/// and identity-aware load balancers): sent only with `send_default_pii`.
const CLIENT_IDENTITY_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "x-original-forwarded-for",
    "x-envoy-external-address",
    "x-appengine-user-ip",
    "x-azure-clientip",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-preferred-username",
    "x-forwarded-groups",
    "remote-user",
    "x-remote-user",
];

/// Prefixes of identity headers sent only with `send_default_pii` (AWS ALB
/// OIDC, Azure App Service authentication).
const CLIENT_IDENTITY_PREFIXES: &[&str] = &["x-amzn-oidc-", "x-ms-client-principal"];

/// Whether a header (its lower-case name) carries the client's address or
/// identity: `X-Forwarded-For`, `Forwarded`, `X-Real-IP`,
/// `CF-Connecting-IP`, `True-Client-IP`, the user headers of
/// authenticating proxies (`X-Forwarded-User`, `Remote-User`,
/// `X-Amzn-Oidc-*`, `X-Ms-Client-Principal*`), … Such headers are sent
/// only with `send_default_pii`.
///
/// ```
/// use vigil_core::privacy::is_client_identity_header;
/// assert!(is_client_identity_header("x-forwarded-for"));
/// assert!(is_client_identity_header("x-amzn-oidc-identity"));
/// assert!(!is_client_identity_header("accept"));
/// ```
pub fn is_client_identity_header(name: &str) -> bool {
    CLIENT_IDENTITY_HEADERS.contains(&name)
        || CLIENT_IDENTITY_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The value a request header named `name` (lower case, as HTTP libraries
/// give it) with the raw `values` (a repeated header's, in order) is sent
/// with:
///
/// | header | without `send_default_pii` | with it |
/// | --- | --- | --- |
/// | a sensitive name ([`is_sensitive_header`]) | `[Filtered]` | `[Filtered]` |
/// | `cookie` | `[Filtered]` | the cookies joined with `; `, sensitive ones filtered ([`filter_cookies`]) |
/// | `set-cookie` | `[Filtered]` | each value's sensitive cookies filtered, joined with `, ` |
/// | a client address or identity ([`is_client_identity_header`]) | `[Filtered]` | as sent |
/// | `referer` | the URL, every query value filtered | the URL, sensitive query values filtered |
/// | any other | as sent | as sent |
///
/// Values are joined with `, `; bytes that are not UTF-8 are replaced.
///
/// ```
/// use vigil_core::privacy::request_header_value;
/// let value = |name, raw: &[&str], pii| {
///     request_header_value(name, raw.iter().map(|v| v.as_bytes()), pii)
/// };
/// assert_eq!(value("accept", &["text/html", "*/*"], false), "text/html, */*");
/// assert_eq!(value("x-api-key", &["abc"], true), "[Filtered]");
/// assert_eq!(value("x-forwarded-for", &["10.0.0.1"], false), "[Filtered]");
/// assert_eq!(value("x-forwarded-for", &["10.0.0.1"], true), "10.0.0.1");
/// assert_eq!(value("cookie", &["theme=dark", "session=1"], true), "theme=dark; session=[Filtered]");
/// ```
pub fn request_header_value<'a>(
    name: &str,
    values: impl Iterator<Item = &'a [u8]>,
    send_default_pii: bool,
) -> String {
    if is_sensitive_header(name) {
        return FILTERED.to_owned();
    }
    match name {
        "cookie" | "set-cookie" if !send_default_pii => FILTERED.to_owned(),
        "cookie" => request_cookies(values).unwrap_or_else(|| FILTERED.to_owned()),
        "set-cookie" => {
            let filtered: Vec<String> = values
                .map(|v| {
                    filter_cookies(&String::from_utf8_lossy(v), true)
                        .unwrap_or_else(|| FILTERED.to_owned())
                })
                .collect();
            filtered.join(", ")
        }
        _ if !send_default_pii && is_client_identity_header(name) => FILTERED.to_owned(),
        // The page the user came from: its sensitive query values always
        // go, every query value without `send_default_pii`.
        "referer" => filter_url(&joined(values, ", "), !send_default_pii).into_owned(),
        _ => joined(values, ", "),
    }
}

/// The request's cookies as the `cookies` field of the request interface
/// (sent only with `send_default_pii`): the values of its `Cookie`
/// headers (HTTP/2 may split them) joined with `; `, sensitive cookies
/// filtered. `None` without a `Cookie` header, or when the header does not
/// parse as `name=value` pairs (Relay rejects such `cookies`; the header
/// itself is then sent `[Filtered]`).
///
/// ```
/// use vigil_core::privacy::request_cookies;
/// let cookies = request_cookies([&b"theme=dark"[..], b"session=1"].into_iter());
/// assert_eq!(cookies.as_deref(), Some("theme=dark; session=[Filtered]"));
/// assert_eq!(request_cookies(std::iter::empty()), None);
/// ```
pub fn request_cookies<'a>(mut values: impl Iterator<Item = &'a [u8]>) -> Option<String> {
    let first = values.next()?;
    let joined = joined(std::iter::once(first).chain(values), "; ");
    filter_cookies(&joined, false)
}

/// The values joined with `separator` (bytes that are not UTF-8
/// replaced); a header sent once, the usual case, is copied once.
fn joined<'a>(mut values: impl Iterator<Item = &'a [u8]>, separator: &str) -> String {
    let mut out = values
        .next()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    for value in values {
        out.push_str(separator);
        out.push_str(&String::from_utf8_lossy(value));
    }
    out
}
