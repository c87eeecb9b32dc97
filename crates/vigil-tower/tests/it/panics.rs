//! `capture_panics`: a panic is captured as a fatal, unhandled event and
//! then resumed with its original payload.

use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use tower::{Layer, ServiceExt, service_fn};
use vigil_core::protocol::{Event, Level};
use vigil_tower::VigilLayer;

use crate::support::{block_on, get as get_request};

async fn exploding() -> &'static str {
    vigil_core::configure_scope(|s| s.set_tag("before", "panic"));
    tokio::task::yield_now().await;
    panic!("handler exploded");
}

/// Sends one request to a panicking handler under a test hub; returns the
/// events and the panic message that came out of the layer.
fn run(layer: VigilLayer) -> (Vec<Event>, String) {
    let mut message = None;
    let events = vigil_core::test::with_captured_events(|| {
        let app = Router::new().route("/boom", get(exploding)).layer(layer);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            block_on(app.oneshot(get_request("/boom?x=1")))
        }));
        let payload = outcome.expect_err("the panic propagates");
        message = payload.downcast_ref::<&str>().map(|s| (*s).to_owned());
        // The test's hub is current again and untouched.
        vigil_core::capture_message("after", Level::Info);
    });
    (events, message.expect("the original &str payload"))
}

fn assert_panic_event(event: &Event, value: &str) {
    assert_eq!(event.level, Level::Fatal);
    let exception = &event.exception.values[0];
    assert_eq!(exception.ty, "panic");
    assert_eq!(exception.value.as_deref(), Some(value));
    let mechanism = exception.mechanism.as_ref().expect("a mechanism");
    assert_eq!(mechanism.ty, "auto.http.tower");
    assert_eq!(mechanism.handled, Some(false));
    assert_eq!(
        serde_json::to_string(mechanism).expect("serializes"),
        r#"{"type":"auto.http.tower","handled":false}"#
    );
}

#[test]
fn captured_then_resumed() {
    let (events, message) = run(VigilLayer::new().capture_panics(true));
    assert_eq!(message, "handler exploded");
    assert_eq!(events.len(), 2, "{events:#?}");
    let event = &events[0];
    assert_panic_event(event, "handler exploded");
    assert_eq!(event.tags["before"], "panic");
    let request = event.request.as_ref().expect("request data");
    assert_eq!(request.url.as_deref(), Some("http://example.com/boom"));
    assert_eq!(request.query_string.as_deref(), Some("x=1"));
    if cfg!(feature = "axum") {
        assert_eq!(event.transaction.as_deref(), Some("GET /boom"));
    }
    let after = &events[1];
    assert!(after.tags.is_empty(), "{:?}", after.tags);
    assert!(after.request.is_none());
    assert!(after.transaction.is_none());
}

#[test]
fn not_captured_by_default_but_still_propagates() {
    let (events, message) = run(VigilLayer::new());
    assert_eq!(message, "handler exploded");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("after"));
    assert!(events[0].tags.is_empty());
}

#[test]
fn panic_in_call_is_captured_with_the_request_hub_current() {
    let mut message = None;
    let events = vigil_core::test::with_captured_events(|| {
        let service = VigilLayer::new().capture_panics(true).layer(service_fn(
            |_req: http::Request<Body>| {
                // Runs synchronously inside `call`.
                vigil_core::configure_scope(|s| s.set_tag("in", "call"));
                if true {
                    panic!("{}", String::from("call exploded"));
                }
                async { Ok::<_, Infallible>(http::Response::new(Body::empty())) }
            },
        ));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            block_on(service.oneshot(get_request("/sync")))
        }));
        let payload = outcome.expect_err("the panic propagates");
        message = payload.downcast_ref::<String>().cloned();
    });
    assert_eq!(message.as_deref(), Some("call exploded"));
    assert_eq!(events.len(), 1);
    assert_panic_event(&events[0], "call exploded");
    assert_eq!(events[0].tags["in"], "call");
    assert!(events[0].request.is_some());
}

#[test]
fn sync_code_in_call_sees_the_request_hub() {
    let events = vigil_core::test::with_captured_events(|| {
        let service = VigilLayer::new().layer(service_fn(|_req: http::Request<Body>| {
            vigil_core::configure_scope(|s| s.set_tag("in", "call"));
            vigil_core::capture_message("sync", Level::Info);
            async { Ok::<_, Infallible>(http::Response::new(Body::empty())) }
        }));
        block_on(service.oneshot(get_request("/sync"))).expect("a response");
        vigil_core::capture_message("outside", Level::Info);
    });
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].tags["in"], "call");
    assert_eq!(
        events[0].request.as_ref().and_then(|r| r.url.as_deref()),
        Some("http://example.com/sync")
    );
    assert!(events[1].tags.is_empty());
}
