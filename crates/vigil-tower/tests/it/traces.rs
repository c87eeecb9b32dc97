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
