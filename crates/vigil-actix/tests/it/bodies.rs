//! Request bodies under `max_request_body_size`: attached to the events
//! of the request once the application read them, as JSON, form fields or
//! (with `send_default_pii`) text; never when larger than the limit, and
//! the application always receives the whole body, chunk for chunk.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use bytes::Bytes;
use futures_core::Stream;
use serde_json::{Value, json};
use vigil_actix::{MaxRequestBodySize, Sentry, VigilMiddleware};
use vigil_core::ClientOptions;
use vigil_core::protocol::Level;

use crate::support::{envelopes, events_json, traced, transactions_json};

/// How the request's body is sent.
#[derive(Clone, Copy)]
enum Framing {
    /// One piece with a `Content-Length`.
    Length,
    /// A stream of 100-byte chunks without a length (as chunked encoding
    /// or HTTP/2 deliver it).
    Chunks,
}

/// A stream of chunks.
struct Chunks(VecDeque<Bytes>);

impl Stream for Chunks {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// What the handler saw and the events it and the middleware sent.
struct Outcome {
    /// The body as the handler received it.
    received: Vec<u8>,
    events: Vec<Value>,
    transactions: Vec<Value>,
}

/// POSTs `body` as `content_type` to `/echo/{id}`, whose handler captures
/// a message before reading the body (`early`), reads it whole, captures
/// another (`late`) and answers 500 (captured by the middleware).
fn post(
    middleware: VigilMiddleware,
    options: ClientOptions,
    content_type: &'static str,
    body: &[u8],
    framing: Framing,
) -> Outcome {
    let body = body.to_vec();
    let mut received = Vec::new();
    let envelopes = envelopes(options, || async {
        let app = atest::init_service(App::new().wrap(middleware).route(
            "/echo/{id}",
            web::post().to(|mut payload: web::Payload| async move {
                vigil_core::capture_message("early", Level::Info);
                let mut received = Vec::new();
                while let Some(chunk) = futures_core_next(&mut payload).await {
                    received.extend_from_slice(&chunk.expect("a chunk"));
                }
                vigil_core::capture_message("late", Level::Info);
                HttpResponse::InternalServerError().body(received)
            }),
        ))
        .await;
        let mut request = atest::TestRequest::post()
            .uri("/echo/1")
            .insert_header(("host", "example.com"))
            .insert_header(("content-type", content_type));
        let request = match framing {
            Framing::Length => request
                .insert_header(("content-length", body.len().to_string()))
                .set_payload(body.clone())
                .to_request(),
            Framing::Chunks => {
                request = request.insert_header(("transfer-encoding", "chunked"));
                let chunks: VecDeque<Bytes> =
                    body.chunks(100).map(Bytes::copy_from_slice).collect();
                let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                    Box::pin(Chunks(chunks));
                let (request, _) = request.to_request().replace_payload(Payload::from(stream));
                request
            }
        };
        let response = atest::call_service(&app, request).await;
        assert_eq!(response.status(), 500);
        received = atest::read_body(response).await.to_vec();
    });
    Outcome {
        received,
        events: events_json(&envelopes),
        transactions: transactions_json(&envelopes),
    }
}

/// The next item of a stream.
async fn futures_core_next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn small() -> VigilMiddleware {
    VigilMiddleware::new().max_request_body_size(MaxRequestBodySize::Small)
}

fn pii() -> ClientOptions {
    ClientOptions::new().send_default_pii(true)
}

/// The `request.data` of the events `early`, `late` and the 500.
fn data(outcome: &Outcome) -> [Value; 3] {
    assert_eq!(outcome.events.len(), 3, "{:#?}", outcome.events);
    assert_eq!(outcome.events[0]["message"], "early");
    assert_eq!(outcome.events[1]["message"], "late");
    assert_eq!(outcome.events[2]["message"], "500 Internal Server Error");
    [0, 1, 2].map(|i| outcome.events[i]["request"]["data"].clone())
}

#[test]
fn a_json_body_is_attached_once_read_with_sensitive_keys_filtered() {
    let body =
        br#"{"order": 42, "items": [{"sku": "A-1", "qty": 2}], "card": {"password": "hunter2"}}"#;
    for framing in [Framing::Length, Framing::Chunks] {
        for options in [ClientOptions::new(), pii()] {
            let outcome = post(small(), options, "application/json", body, framing);
            assert_eq!(outcome.received, body);
            let [early, late, server_error] = data(&outcome);
            assert_eq!(early, Value::Null, "not read yet");
            let expected = json!({
                "order": 42,
                "items": [{"sku": "A-1", "qty": 2}],
                "card": {"password": "[Filtered]"},
            });
            assert_eq!(late, expected);
            assert_eq!(server_error, expected);
        }
    }
}

#[test]
fn a_body_larger_than_the_limit_is_not_attached_but_reaches_the_handler_whole() {
    // 1,001 bytes of JSON: one more than `Small` allows.
    let mut body = br#"{"pad":""#.to_vec();
    body.resize(1_001 - 2, b'x');
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), 1_001);
    for framing in [Framing::Length, Framing::Chunks] {
        let outcome = post(small(), pii(), "application/json", &body, framing);
        assert_eq!(outcome.received, body, "the handler reads it whole");
        assert_eq!(data(&outcome), [Value::Null, Value::Null, Value::Null]);
    }
    // Exactly at the limit: attached.
    body.truncate(1_000 - 2);
    body.extend_from_slice(br#""}"#);
    let outcome = post(small(), pii(), "application/json", &body, Framing::Chunks);
    assert_eq!(outcome.received, body);
    let [_, late, _] = data(&outcome);
    assert_eq!(late["pad"].as_str().map(str::len), Some(1_000 - 10));
}

#[test]
fn medium_always_and_explicit_limits() {
    let text = "x".repeat(10_001);
    for (size, attached) in [
        (MaxRequestBodySize::Medium, false),
        (MaxRequestBodySize::Always, true),
        (MaxRequestBodySize::Explicit(10_001), true),
        (MaxRequestBodySize::Explicit(10_000), false),
        (MaxRequestBodySize::None, false),
    ] {
        let outcome = post(
            VigilMiddleware::new().max_request_body_size(size),
            pii(),
            "text/plain; charset=utf-8",
            text.as_bytes(),
            Framing::Chunks,
        );
        assert_eq!(outcome.received, text.as_bytes());
        let [_, late, _] = data(&outcome);
        // Attached, the client fits it to the 8 KiB Relay keeps of a
        // request body, as it does with every event's `request.data`.
        let sent = late.as_str().unwrap_or_default();
        assert_eq!(!sent.is_empty(), attached, "{size:?}");
        if attached {
            assert!(
                sent.len() <= 8 * 1024 && sent.len() > 8_000,
                "{}",
                sent.len()
            );
            assert!(sent.ends_with("...") && text.starts_with(sent.trim_end_matches('.')));
        }
    }
    let medium = "y".repeat(8_000);
    let outcome = post(
        VigilMiddleware::new().max_request_body_size(MaxRequestBodySize::Medium),
        pii(),
        "text/plain",
        medium.as_bytes(),
        Framing::Length,
    );
    assert_eq!(data(&outcome)[1], Value::from(medium));
}

#[test]
fn forms_are_attached_as_fields_with_sensitive_values_filtered() {
    let body = b"name=Ada+Lovelace&password=hunter2&tag=a&tag=b&access_token=t";
    let outcome = post(
        small(),
        ClientOptions::new(),
        "application/x-www-form-urlencoded",
        body,
        Framing::Length,
    );
    assert_eq!(
        data(&outcome)[1],
        json!({
            "name": "Ada Lovelace",
            "password": "[Filtered]",
            "tag": ["a", "b"],
            "access_token": "[Filtered]",
        })
    );
}

#[test]
fn text_only_with_pii_and_only_when_utf8() {
    let body = b"plain words";
    let outcome = post(
        small(),
        ClientOptions::new(),
        "text/plain",
        body,
        Framing::Length,
    );
    assert_eq!(outcome.received, body);
    assert_eq!(data(&outcome), [Value::Null, Value::Null, Value::Null]);
    let outcome = post(small(), pii(), "text/plain", body, Framing::Length);
    assert_eq!(data(&outcome)[1], "plain words");
    let binary = b"\x89PNG\r\n\x1a\n\xff\xfe";
    let outcome = post(
        small(),
        pii(),
        "application/octet-stream",
        binary,
        Framing::Length,
    );
    assert_eq!(outcome.received, binary);
    assert_eq!(data(&outcome)[1], Value::Null);
}

#[test]
fn off_by_default_and_never_on_transactions() {
    let body = br#"{"a": 1}"#;
    let outcome = post(
        VigilMiddleware::new(),
        pii(),
        "application/json",
        body,
        Framing::Length,
    );
    assert_eq!(data(&outcome), [Value::Null, Value::Null, Value::Null]);
    let outcome = post(
        Sentry::builder()
            .start_transaction(true)
            .max_request_body_size(MaxRequestBodySize::Always)
            .finish()
            .into_inner(),
        traced().send_default_pii(true),
        "application/json",
        body,
        Framing::Length,
    );
    assert_eq!(data(&outcome)[1], json!({"a": 1}));
    assert_eq!(outcome.transactions.len(), 1);
    assert!(outcome.transactions[0]["request"].get("data").is_none());
}
