//! Every request belongs to a trace: the one its caller sent in
//! `sentry-trace`/`baggage` (or `traceparent`), or a new one of its own.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use serde_json::Value;
use tower::{Service, ServiceExt};
use vigil_core::protocol::Event;
use vigil_tower::VigilLayer;

use crate::support::{capture_default, capturing_handler};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";

fn trace_of(event: &Event) -> Value {
    serde_json::to_value(&event.contexts["trace"]).expect("a trace context")
}

fn request(headers: &[(&str, &[u8])]) -> http::Request<Body> {
    let mut request = http::Request::get("/h").header("host", "example.com");
    for (name, value) in headers {
        request = request.header(
            *name,
            http::HeaderValue::from_bytes(value).expect("a header value"),
        );
    }
    request.body(Body::empty()).expect("a request")
}

/// Sends the requests one after another through one app and returns the
/// events, one per request.
fn events_of(requests: Vec<http::Request<Body>>) -> Vec<Event> {
    let count = requests.len();
    let events = capture_default(async move {
        let mut app = Router::new()
            .route("/h", get(capturing_handler))
            .layer(VigilLayer::new());
        for request in requests {
            let ready = ServiceExt::<http::Request<Body>>::ready(&mut app)
                .await
                .expect("ready");
            let response = ready.call(request).await.expect("a response");
            assert_eq!(response.status(), 200);
        }
    });
    assert_eq!(events.len(), count);
    events
}

#[test]
fn a_request_continues_its_callers_trace() {
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let events = events_of(vec![request(&[
        ("sentry-trace", sentry_trace.as_bytes()),
        ("baggage", b"sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=k,sentry-release=up%401"),
    ])]);
    let trace = trace_of(&events[0]);
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], SPAN);
}

#[test]
fn requests_without_a_trace_each_start_their_own() {
    let events = events_of(vec![request(&[]), request(&[])]);
    let (a, b) = (trace_of(&events[0]), trace_of(&events[1]));
    assert_ne!(a["trace_id"], b["trace_id"]);
    assert!(a.get("parent_span_id").is_none() && b.get("parent_span_id").is_none());
}

#[test]
fn a_malformed_or_non_text_trace_header_starts_a_new_trace() {
    let upper = format!("{}-{SPAN}-1", TRACE.to_uppercase());
    let valid = format!("{TRACE}-{SPAN}-1");
    let events = events_of(vec![
        request(&[("sentry-trace", upper.as_bytes())]),
        request(&[
            ("sentry-trace", valid.as_bytes()),
            ("baggage", b"sentry-release=\xff"),
        ]),
        request(&[
            ("sentry-trace", valid.as_bytes()),
            ("baggage", b"sentry-a=1,sentry-a=2"),
        ]),
    ]);
    for event in &events {
        let trace = trace_of(event);
        assert_ne!(trace["trace_id"], TRACE, "{trace}");
        assert!(trace.get("parent_span_id").is_none());
    }
}

/// Sends `request` through an app with a `/users/{id}` route whose handler
/// captures an error and answers `status`, with tracing at `rate`; returns
/// the envelopes.
fn traced(
    rate: f32,
    status: u16,
    request: http::Request<Body>,
) -> Vec<vigil_core::protocol::Envelope> {
    let options = vigil_core::ClientOptions::new().traces_sample_rate(rate);
    vigil_core::test::with_captured_envelopes_options(
        || {
            crate::support::block_on(async move {
                let app = Router::new()
                    .route(
                        "/users/{id}",
                        get(move || async move {
                            vigil_core::capture_message(
                                "inside",
                                vigil_core::protocol::Level::Error,
                            );
                            http::StatusCode::from_u16(status).unwrap()
                        }),
                    )
                    .layer(VigilLayer::new());
                let response = app.oneshot(request).await.expect("a response");
                assert_eq!(response.status().as_u16(), status);
            });
        },
        options,
    )
}

fn users_request(headers: &[(&str, &[u8])]) -> http::Request<Body> {
    let mut request = http::Request::get("/users/42?token=secret").header("host", "example.com");
    for (name, value) in headers {
        request = request.header(*name, http::HeaderValue::from_bytes(value).unwrap());
    }
    request.body(Body::empty()).unwrap()
}

/// Needs axum's `MatchedPath` (feature `axum`) for the route name.
#[cfg(feature = "axum")]
#[test]
fn with_tracing_each_request_is_a_transaction_holding_its_errors() {
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let envelopes = traced(
        1.0,
        200,
        users_request(&[("sentry-trace", sentry_trace.as_bytes())]),
    );
    assert_eq!(envelopes.len(), 2, "the error, then the transaction");
    let event = envelopes[0].event().expect("the error");
    let tx = envelopes[1].transaction().expect("the transaction");
    let payload = serde_json::to_value(tx).unwrap();
    assert_eq!(payload["transaction"], "GET /users/{id}");
    assert_eq!(payload["transaction_info"]["source"], "route");
    let trace = &payload["contexts"]["trace"];
    assert_eq!(trace["op"], "http.server");
    assert_eq!(trace["status"], "ok");
    assert_eq!(trace["origin"], "auto.http.tower");
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], SPAN);
    assert_eq!(trace["data"]["http.request.method"], "GET");
    assert_eq!(trace["data"]["http.response.status_code"], 200);
    assert_eq!(trace["data"]["url"], "http://example.com/users/42");
    assert!(payload["request"]["url"].as_str().is_some());
    // The error carries the transaction's trace and span.
    let error_trace = trace_of(event);
    assert_eq!(error_trace["trace_id"], TRACE);
    assert_eq!(error_trace["span_id"], trace["span_id"]);
}

#[test]
fn the_status_follows_the_response() {
    for (code, status) in [
        (404, "not_found"),
        (500, "internal_error"),
        (503, "unavailable"),
    ] {
        let envelopes = traced(1.0, code, users_request(&[]));
        let tx = envelopes
            .iter()
            .find_map(|e| e.transaction())
            .expect("a transaction");
        let payload = serde_json::to_value(tx).unwrap();
        assert_eq!(payload["contexts"]["trace"]["status"], status, "{code}");
    }
}

#[test]
fn without_tracing_or_when_sampled_out_no_transaction_is_sent() {
    for rate in [0.0, 0.000_000_1] {
        let envelopes = traced(rate, 200, users_request(&[]));
        assert!(
            envelopes.iter().all(|e| e.transaction().is_none()),
            "rate {rate}"
        );
        assert_eq!(envelopes.len(), 1, "the error is still sent");
    }
}
