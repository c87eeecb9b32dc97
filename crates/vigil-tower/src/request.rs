//! Request data for events: URL, query string, filtered headers, cookies
//! and the client address, following `send_default_pii`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use http::header::{COOKIE, HOST, HeaderMap, HeaderValue};
use http::{Method, Uri};
use vigil_core::privacy::{request_cookies, request_header_value};
use vigil_core::protocol::Request;

/// What replaces a value that must not be sent.
pub(crate) const FILTERED: &str = "[Filtered]";

/// The absolute URL without query string; userinfo is replaced by
/// `[Filtered]:[Filtered]@`. Without an authority in the URI, the `Host`
/// header gives the host; without either there is no absolute URL
/// (`None`). The scheme is the URI's, else `http` (a server behind TLS
/// termination cannot tell).
pub(crate) fn url_without_query(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let authority = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(HOST).and_then(|h| h.to_str().ok()))
        .filter(|a| !a.is_empty());
    let authority = authority?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let path = uri.path();
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((_, host)) => (true, host),
        None => (false, authority),
    };
    // Concatenated rather than formatted: this runs for every request.
    let mut url =
        String::with_capacity(scheme.len() + 3 + 2 * FILTERED.len() + 2 + host.len() + path.len());
    url.push_str(scheme);
    url.push_str("://");
    if userinfo {
        url.push_str(FILTERED);
        url.push(':');
        url.push_str(FILTERED);
        url.push('@');
    }
    url.push_str(host);
    url.push_str(path);
    Some(url)
}

/// A request's `request` interface, built when an event or a sampled
/// transaction first needs it: most requests capture nothing, and
/// filtering every header of each would be wasted work.
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, inside an Arc: boxing the parts would add an allocation"
)]
pub(crate) enum LazyRequest {
    /// Built when first needed, from what the request said.
    Later(RequestParts, OnceLock<Request>),
    /// Built at once (a sampled transaction needs it anyway), with no copy
    /// of the request kept.
    Ready(Request),
}

/// What a request says about itself, kept until its interface is built.
/// The header map is a copy (its values are shared, not copied).
pub(crate) struct RequestParts {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    client_addr: Option<SocketAddr>,
    send_default_pii: bool,
    grpc: bool,
}

impl LazyRequest {
    /// Keeps what `req` says about itself, to build the interface later.
    /// `grpc`: the request is a gRPC call (see [`filter_headers`]).
    pub(crate) fn new<B>(
        req: &http::Request<B>,
        client_addr: Option<SocketAddr>,
        send_default_pii: bool,
        grpc: bool,
    ) -> LazyRequest {
        let parts = RequestParts {
            method: req.method().clone(),
            uri: req.uri().clone(),
            headers: req.headers().clone(),
            client_addr,
            send_default_pii,
            grpc,
        };
        LazyRequest::Later(parts, OnceLock::new())
    }

    /// The `request` interface, built by the first call.
    pub(crate) fn get(&self) -> &Request {
        match self {
            LazyRequest::Ready(request) => request,
            LazyRequest::Later(parts, built) => built.get_or_init(|| {
                build_request(
                    &parts.method,
                    &parts.uri,
                    &parts.headers,
                    parts.client_addr,
                    parts.send_default_pii,
                    parts.grpc,
                )
            }),
        }
    }
}

/// Builds the event's `request` interface. Bodies are never read.
/// `grpc`: the request is a gRPC call (see [`filter_headers`]).
pub(crate) fn build_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    client_addr: Option<SocketAddr>,
    send_default_pii: bool,
    grpc: bool,
) -> Request {
    let mut request = Request {
        // A relative URL is rejected by some consumers (sentry-types):
        // without a host, leave it out.
        url: url_without_query(uri, headers),
        method: Some(method.as_str().to_owned()),
        // Values of sensitive parameters (`token`, `code`, ...) are
        // filtered whatever `send_default_pii` says.
        query_string: uri
            .query()
            .filter(|q| !q.is_empty())
            .map(|q| vigil_core::privacy::filter_query(q).into_owned()),
        ..Request::default()
    };
    request.headers = filter_headers(headers, send_default_pii, grpc);
    if send_default_pii {
        // Only a cookie header that parses: Relay rejects `cookies` that are
        // not name=value pairs (the header itself is then `[Filtered]`).
        let cookies = headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes);
        request.cookies = request_cookies(cookies).filter(|c| !c.is_empty());
        if let Some(addr) = client_addr {
            request
                .env
                .insert("REMOTE_ADDR".to_owned(), addr.ip().to_string());
        }
    }
    request
}

/// The headers with every value decided by the rules of protocol.md §7.4
/// ([`request_header_value`]): sensitive names are always `[Filtered]`;
/// cookies and client-address headers are `[Filtered]` without
/// `send_default_pii`, and cookies are filtered one by one with it.
/// Repeated headers are joined with `, ` (`; ` for `Cookie`). In a gRPC
/// call (`grpc`), binary metadata (a name ending in `-bin`, whose value is
/// base64 of arbitrary bytes) is always `[Filtered]`.
pub(crate) fn filter_headers(
    headers: &HeaderMap,
    send_default_pii: bool,
    grpc: bool,
) -> BTreeMap<String, String> {
    headers
        .keys()
        .map(|name| {
            let key = name.as_str();
            let value = if grpc && key.ends_with("-bin") {
                FILTERED.to_owned()
            } else {
                let values = headers.get_all(name).iter().map(HeaderValue::as_bytes);
                request_header_value(key, values, send_default_pii)
            };
            (key.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::privacy::filter_cookies;

    #[test]
    fn cookies_are_filtered_one_by_one() {
        assert_eq!(
            filter_cookies("theme=dark; sessionid=abc; csrftoken=x", false).as_deref(),
            Some("theme=dark; sessionid=[Filtered]; csrftoken=[Filtered]")
        );
        assert_eq!(filter_cookies("garbage", false), None);
        assert_eq!(filter_cookies("=x", false), None);
        assert_eq!(
            filter_cookies("sid=1; Path=/; HttpOnly", true).as_deref(),
            Some("sid=[Filtered]; Path=/; HttpOnly")
        );
        assert_eq!(filter_cookies("HttpOnly", true), None);
    }

    #[test]
    fn url_filters_userinfo_and_drops_query() {
        let headers = HeaderMap::new();
        let uri: Uri = "http://user:pw@example.com:8080/a/b?x=1".parse().unwrap();
        assert_eq!(
            url_without_query(&uri, &headers).as_deref(),
            Some("http://[Filtered]:[Filtered]@example.com:8080/a/b")
        );
        let uri: Uri = "/only/path?x=1".parse().unwrap();
        assert_eq!(url_without_query(&uri, &headers), None);
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "example.org".parse().unwrap());
        assert_eq!(
            url_without_query(&uri, &headers).as_deref(),
            Some("http://example.org/only/path")
        );
    }
}
