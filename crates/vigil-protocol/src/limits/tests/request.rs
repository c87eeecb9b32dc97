//! The `request` interface.

use std::collections::BTreeMap;

use serde_json::json;

use super::{assert_cut, long, trimmed};
use crate::event::Event;
use crate::limits::bags::PAIR_OVERHEAD;
use crate::limits::json_size::json_size;
use crate::limits::text::url_len;
use crate::request::Request;

#[test]
fn request_fields_are_limited() {
    let request = trimmed(Event {
        request: Some(Request {
            url: Some(format!("https://example.com/{}", long(300))),
            method: Some("POST".into()),
            data: Some(json!({"body": long(10_000)})),
            query_string: Some(
                (0..200)
                    .map(|i| format!("k{i}=v"))
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
            cookies: Some(format!("session={}", long(3000))),
            headers: (0..200).map(|i| (format!("X-H{i:03}"), long(60))).collect(),
            env: BTreeMap::from([
                ("REMOTE_ADDR".into(), "127.0.0.1".into()),
                ("BIG".into(), long(9000)),
            ]),
        }),
        ..Default::default()
    })
    .request
    .unwrap();
    assert_cut(request.url.as_deref().unwrap(), 256);
    assert!(json_size(request.data.as_ref().unwrap()) <= 8192);
    let query = request.query_string.unwrap();
    assert!(
        query.starts_with("k0=v&k1=v&") && query.ends_with("=v"),
        "{query}"
    );
    let estimate: usize = query.split('&').map(|p| p.len() + 2 + PAIR_OVERHEAD).sum();
    assert!(estimate + 2 <= 1024, "{estimate}");
    assert!(query.split('&').count() > 40, "{query}");
    let cookies = request.cookies.unwrap();
    assert!(cookies.len() <= 2048 - PAIR_OVERHEAD && cookies.ends_with("..."));
    let header_size: usize = request
        .headers
        .iter()
        .map(|(k, v)| k.len() + v.len() + 10)
        .sum();
    assert!(header_size <= 8192, "{header_size}");
    assert!(request.headers.len() > 80);
    assert_eq!(request.env["REMOTE_ADDR"], "127.0.0.1");
    assert!(serde_json::to_vec(&request.env).unwrap().len() <= 8192);
}

#[test]
fn urls_are_limited_once_percent_encoded() {
    let url = |u: String| {
        trimmed(Event {
            request: Some(Request {
                url: Some(u),
                ..Default::default()
            }),
            ..Default::default()
        })
        .request
        .unwrap()
        .url
        .unwrap()
    };
    let plain = format!("https://example.com/{}", long(236));
    assert_eq!(plain.len(), 256);
    assert_eq!(url(plain.clone()), plain);
    // Spaces become `%20` and `é` becomes `%C3%A9` on the server.
    let cut = url(format!("https://example.com/{}", "a é".repeat(100)));
    assert!(cut.ends_with("..."));
    let encoded: usize = cut.chars().map(url_len).sum();
    assert!(encoded <= 256, "{encoded}");
    assert!(cut.chars().count() < 150, "{cut}");
}

#[test]
fn cookie_pairs_relay_cannot_parse_are_removed() {
    let cookies = |c: &str| {
        trimmed(Event {
            request: Some(Request {
                cookies: Some(c.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .request
        .unwrap()
        .cookies
        .unwrap()
    };
    assert_eq!(cookies("a=1; b=2"), "a=1; b=2");
    assert_eq!(
        cookies("a=; b=x=y; c=%zz; d=%C3%A9; é=1"),
        "a=; b=x=y; c=%zz; d=%C3%A9; é=1"
    );
    assert_eq!(
        cookies("a=1; flag; =2;  = 3; b=%ff; c=%e9x; d=4;;"),
        "a=1; d=4"
    );
    assert_eq!(cookies("broken"), "");
}
