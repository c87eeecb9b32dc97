//! Limits of the `request` interface: URL, body, headers, environment,
//! query string and cookies.

use crate::limits::bags::{fit_bag, fit_pair_list, fit_string_pairs};
use crate::limits::text::truncate_url;
use crate::request::Request;

const URL_CHARS: usize = 256;
/// `(bytes, depth)` of the request body.
const REQUEST_DATA_BAG: (usize, usize) = (8 * 1024, 7);
const REQUEST_HEADERS_BYTES: usize = 8 * 1024;
const REQUEST_ENV_BYTES: usize = 8 * 1024;
const QUERY_STRING_BYTES: usize = 1024;
const COOKIES_BYTES: usize = 2048;

/// Fits every field of the request.
pub(super) fn trim_request(request: &mut Request) {
    if let Some(url) = &mut request.url {
        truncate_url(url, URL_CHARS);
    }
    if let Some(data) = &mut request.data
        && !fit_bag(data, REQUEST_DATA_BAG, 1)
    {
        request.data = None;
    }
    if let Some(query) = &mut request.query_string {
        fit_pair_list(query, '&', QUERY_STRING_BYTES);
    }
    if let Some(cookies) = &mut request.cookies {
        clean_cookies(cookies);
        fit_pair_list(cookies, ';', COOKIES_BYTES);
    }
    fit_string_pairs(&mut request.headers, REQUEST_HEADERS_BYTES);
    fit_string_pairs(&mut request.env, REQUEST_ENV_BYTES);
}

/// Removes the `;`-separated pairs of a cookie header that Relay rejects:
/// without `=`, with an empty name, or not UTF-8 once percent-decoded.
fn clean_cookies(cookies: &mut String) {
    let valid = |pair: &str| {
        let pair = pair.trim();
        pair.is_empty()
            || pair
                .split_once('=')
                .is_some_and(|(name, _)| !name.trim().is_empty() && percent_decodes(pair))
    };
    if cookies.split(';').all(valid) {
        return;
    }
    let kept: Vec<&str> = cookies
        .split(';')
        .filter(|pair| !pair.trim().is_empty() && valid(pair))
        .collect();
    *cookies = kept.join(";");
}

/// Whether percent-decoding `s` (`%XX` with two hex digits; anything else
/// stays as it is) gives UTF-8.
fn percent_decodes(s: &str) -> bool {
    if !s.contains('%') {
        return true;
    }
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if let (b'%', Some(&hi), Some(&lo)) = (bytes[i], bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(hi), Some(lo)) = (hex(hi), hex(lo))
        {
            decoded.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    std::str::from_utf8(&decoded).is_ok()
}
