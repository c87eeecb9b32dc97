//! The event's `request` interface for an actix-web request: URL, query
//! string, filtered headers, cookies and the client address, following
//! `send_default_pii` with the rules of `vigil-tower` (the crate docs'
//! table).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{COOKIE, HOST, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, Uri};
use vigil_core::privacy::{FILTERED, filter_query, request_cookies, request_header_value};
use vigil_core::protocol::Request;

/// The absolute URL without query string, its user info replaced by
/// `[Filtered]:[Filtered]@`. The host is the URI's, else the `Host`
/// header's (`host`); without either there is no absolute URL (`None`).
/// The scheme is the URI's, else `https` when the server serves TLS, else
/// `http`.
pub(crate) fn url_without_query(
    uri: &Uri,
    host: Option<&HeaderValue>,
    secure: bool,
) -> Option<String> {
    let authority = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| host.and_then(|h| h.to_str().ok()))
        .filter(|a| !a.is_empty())?;
    let scheme = uri
        .scheme_str()
        .unwrap_or(if secure { "https" } else { "http" });
    let path = uri.path();
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((_, host)) => (true, host),
        None => (false, authority),
    };
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

/// What a request says about itself, copied when it arrives (the
/// `ServiceRequest` itself goes to the application). The headers are
/// copied as a list, the cheapest copy (names and values are shared, not
/// copied); a header map is made of them again only when an event needs
/// the request's data.
#[derive(Debug)]
pub(crate) struct RequestParts {
    method: Method,
    uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    client_addr: Option<SocketAddr>,
    secure: bool,
    send_default_pii: bool,
}

impl RequestParts {
    pub(crate) fn of(req: &ServiceRequest, send_default_pii: bool) -> RequestParts {
        let map = req.headers();
        let mut headers = Vec::with_capacity(map.len());
        headers.extend(
            map.iter()
                .map(|(name, value)| (name.clone(), value.clone())),
        );
        RequestParts {
            method: req.method().clone(),
            uri: req.uri().clone(),
            headers,
            client_addr: req.peer_addr(),
            secure: req.app_config().secure(),
            send_default_pii,
        }
    }

    fn host(&self) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(name, _)| *name == HOST)
            .map(|(_, value)| value)
    }

    pub(crate) fn build(&self) -> Request {
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        build_request(
            &self.method,
            &self.uri,
            &headers,
            self.client_addr,
            self.secure,
            self.send_default_pii,
        )
    }
}

/// A request's `request` interface, built when an event first needs it:
/// most requests capture nothing, and filtering every header of each would
/// be wasted work. (A sampled transaction builds its own copy at once.)
#[derive(Debug)]
pub(crate) struct LazyRequest {
    parts: RequestParts,
    built: OnceLock<Request>,
}

impl LazyRequest {
    /// Built when first needed, from `parts`.
    pub(crate) fn new(parts: RequestParts) -> LazyRequest {
        LazyRequest {
            parts,
            built: OnceLock::new(),
        }
    }

    /// The `request` interface, built by the first call.
    pub(crate) fn get(&self) -> &Request {
        self.built.get_or_init(|| self.parts.build())
    }

    /// What the request said.
    pub(crate) fn parts(&self) -> &RequestParts {
        &self.parts
    }

    /// The method and the URL without query (just the path without a
    /// host), for the request's breadcrumb.
    pub(crate) fn method_and_url(&self) -> (&str, String) {
        let parts = &self.parts;
        let url = match self.built.get() {
            Some(request) => request.url.clone(),
            None => url_without_query(&parts.uri, parts.host(), parts.secure),
        };
        (
            parts.method.as_str(),
            url.unwrap_or_else(|| parts.uri.path().to_owned()),
        )
    }
}

/// Builds the event's `request` interface (without body: the body, when
/// allowed, is added per event).
pub(crate) fn build_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    client_addr: Option<SocketAddr>,
    secure: bool,
    send_default_pii: bool,
) -> Request {
    let mut request = Request {
        url: url_without_query(uri, headers.get(HOST), secure),
        method: Some(method.as_str().to_owned()),
        // Values of sensitive parameters (`token`, `code`, ...) are
        // filtered whatever `send_default_pii` says.
        query_string: uri
            .query()
            .filter(|q| !q.is_empty())
            .map(|q| filter_query(q).into_owned()),
        ..Request::default()
    };
    request.headers = filter_headers(headers, send_default_pii);
    if send_default_pii {
        // Only a cookie header that parses (the header itself is then
        // `[Filtered]`).
        let cookies = headers.get_all(COOKIE).map(HeaderValue::as_bytes);
        request.cookies = request_cookies(cookies).filter(|c| !c.is_empty());
        if let Some(addr) = client_addr {
            request
                .env
                .insert("REMOTE_ADDR".to_owned(), addr.ip().to_string());
        }
    }
    request
}

/// The headers, each value decided by the crate docs' table
/// ([`request_header_value`], the rule every web integration shares).
/// Repeated headers are joined with `, ` (`; ` for `Cookie`).
pub(crate) fn filter_headers(
    headers: &HeaderMap,
    send_default_pii: bool,
) -> BTreeMap<String, String> {
    headers
        .keys()
        .map(|name| {
            let key = name.as_str();
            let values = headers.get_all(name).map(HeaderValue::as_bytes);
            (
                key.to_owned(),
                request_header_value(key, values, send_default_pii),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_filters_userinfo_drops_query_and_follows_tls() {
        let uri: Uri = "http://user:pw@example.com:8080/a/b?x=1".parse().unwrap();
        assert_eq!(
            url_without_query(&uri, None, false).as_deref(),
            Some("http://[Filtered]:[Filtered]@example.com:8080/a/b")
        );
        let uri: Uri = "/only/path?x=1".parse().unwrap();
        assert_eq!(url_without_query(&uri, None, false), None);
        let host = HeaderValue::from_static("example.org");
        assert_eq!(
            url_without_query(&uri, Some(&host), false).as_deref(),
            Some("http://example.org/only/path")
        );
        assert_eq!(
            url_without_query(&uri, Some(&host), true).as_deref(),
            Some("https://example.org/only/path")
        );
    }
}
