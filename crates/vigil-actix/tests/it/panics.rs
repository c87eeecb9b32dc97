//! `capture_panics`: a handler's panic is captured as a fatal, unhandled
//! event with the request's data and then resumed with its original
//! payload; the transaction ends as `internal_error`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use serde_json::json;
use vigil_actix::VigilMiddleware;
use vigil_core::ClientOptions;
use vigil_core::protocol::{Envelope, Level};

use crate::support::{block_on, events_json, transactions_json};

async fn exploding() -> HttpResponse {
    vigil_core::configure_scope(|s| s.set_tag("before", "panic"));
    actix_web::rt::task::yield_now().await;
    panic!("handler exploded");
}

/// Sends one request to a panicking handler under a test hub; returns the
/// envelopes and the panic message that came out of the middleware.
fn run(middleware: VigilMiddleware, options: ClientOptions) -> (Vec<Envelope>, String) {
    let mut message = None;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                block_on(async {
                    let app = atest::init_service(
                        App::new()
                            .wrap(middleware)
                            .route("/boom/{id}", web::get().to(exploding)),
                    )
                    .await;
                    let request = atest::TestRequest::get()
                        .uri("/boom/7?x=1")
                        .insert_header(("host", "example.com"))
                        .to_request();
                    atest::call_service(&app, request).await
                })
            }));
            let payload = outcome.expect_err("the panic propagates");
            message = payload.downcast_ref::<&str>().map(|s| (*s).to_owned());
            // The test's hub is current again and untouched.
            vigil_core::capture_message("after", Level::Info);
        },
        options,
    );
    (envelopes, message.expect("the original &str payload"))
}

#[test]
fn captured_then_resumed() {
    let (envelopes, message) = run(
        VigilMiddleware::new().capture_panics(true),
        ClientOptions::new().traces_sample_rate(1.0),
    );
    assert_eq!(message, "handler exploded");
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 2, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["level"], "fatal");
    assert_eq!(
        event["exception"]["values"],
        json!([{
            "type": "panic",
            "value": "handler exploded",
            "mechanism": {"type": "auto.http.actix", "handled": false},
        }])
    );
    assert_eq!(event["tags"]["before"], "panic");
    assert_eq!(event["transaction"], "GET /boom/{id}");
    assert_eq!(event["request"]["url"], "http://example.com/boom/7");
    assert_eq!(event["request"]["query_string"], "x=1");

    let transactions = transactions_json(&envelopes);
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx["transaction"], "GET /boom/{id}");
    assert_eq!(tx["contexts"]["trace"]["status"], "internal_error");
    assert_eq!(
        event["contexts"]["trace"]["span_id"],
        tx["contexts"]["trace"]["span_id"]
    );

    let after = &events[1];
    assert_eq!(after["message"], "after");
    assert!(after.get("tags").is_none(), "{after}");
    assert!(after.get("request").is_none());
    assert!(after.get("transaction").is_none());
}

#[test]
fn not_captured_by_default_but_still_propagates() {
    let (envelopes, message) = run(VigilMiddleware::new(), ClientOptions::new());
    assert_eq!(message, "handler exploded");
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["message"], "after");
}

/// A middleware inside `VigilMiddleware` whose `call` panics (before any
/// future exists).
struct PanicInCall;

impl<S> actix_web::dev::Transform<S, actix_web::dev::ServiceRequest> for PanicInCall
where
    S: actix_web::dev::Service<actix_web::dev::ServiceRequest>,
{
    type Response = actix_web::dev::ServiceResponse;
    type Error = actix_web::Error;
    type Transform = PanicInCallService;
    type InitError = ();
    type Future = std::future::Ready<Result<PanicInCallService, ()>>;

    fn new_transform(&self, _: S) -> Self::Future {
        std::future::ready(Ok(PanicInCallService))
    }
}

struct PanicInCallService;

impl actix_web::dev::Service<actix_web::dev::ServiceRequest> for PanicInCallService {
    type Response = actix_web::dev::ServiceResponse;
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    actix_web::dev::always_ready!();

    fn call(&self, _: actix_web::dev::ServiceRequest) -> Self::Future {
        vigil_core::configure_scope(|s| s.set_tag("in", "call"));
        panic!("{}", String::from("call exploded"));
    }
}

#[test]
fn a_panic_in_call_is_captured_with_the_request_hub_current() {
    let mut message = None;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                block_on(async {
                    let app = atest::init_service(
                        App::new()
                            .wrap(PanicInCall)
                            .wrap(VigilMiddleware::new().capture_panics(true))
                            .route("/sync", web::get().to(HttpResponse::Ok)),
                    )
                    .await;
                    let request = atest::TestRequest::get().uri("/sync").to_request();
                    atest::call_service(&app, request).await
                })
            }));
            let payload = outcome.expect_err("the panic propagates");
            message = payload.downcast_ref::<String>().cloned();
        },
        ClientOptions::new().traces_sample_rate(1.0),
    );
    assert_eq!(message.as_deref(), Some("call exploded"));
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["exception"]["values"][0]["value"],
        "call exploded"
    );
    assert_eq!(events[0]["level"], "fatal");
    assert_eq!(events[0]["tags"]["in"], "call");
    assert_eq!(events[0]["transaction"], "GET /sync");
    let transactions = transactions_json(&envelopes);
    assert_eq!(transactions.len(), 1);
    assert_eq!(
        transactions[0]["contexts"]["trace"]["status"],
        "internal_error"
    );
}
