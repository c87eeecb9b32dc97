//! Transactions and traces: the name after the matched route pattern
//! (source `route`) or the path (source `url`), the caller's trace
//! continued, the status after the response, and the events of a request
//! inside its transaction.

use actix_web::http::StatusCode;
use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use serde_json::Value;
use vigil_actix::{Sentry, VigilMiddleware};
use vigil_core::protocol::Level;

use crate::support::{envelopes, events_json, traced, transactions_json};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";

async fn capture_then(status: u16) -> HttpResponse {
    vigil_core::capture_message("inside", Level::Error);
    HttpResponse::build(StatusCode::from_u16(status).expect("a status")).finish()
}

/// Sends each `(uri, headers)` through an app with `/users/{id}` (the
/// handler captures a message and answers `status`), nested
/// `/api/v1/orders/{order}/items/{item}` and nothing else; returns the
/// envelopes.
fn run(
    middleware: VigilMiddleware,
    options: vigil_core::ClientOptions,
    status: u16,
    requests: &[(&str, &[(&str, &str)])],
) -> Vec<vigil_core::protocol::Envelope> {
    let requests: Vec<(String, Vec<(String, String)>)> = requests
        .iter()
        .map(|(uri, headers)| {
            (
                (*uri).to_owned(),
                headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        })
        .collect();
    envelopes(options, move || async move {
        let app = atest::init_service(
            App::new()
                .wrap(middleware)
                .route(
                    "/users/{id}",
                    web::get().to(move || async move { capture_then(status).await }),
                )
                .service(web::scope("/api/v1").route(
                    "/orders/{order}/items/{item}",
                    web::get().to(move || async move { capture_then(status).await }),
                )),
        )
        .await;
        for (uri, headers) in requests {
            let mut request = atest::TestRequest::get()
                .uri(&uri)
                .insert_header(("host", "example.com"));
            for (name, value) in headers {
                request = request.insert_header((name, value));
            }
            let response = atest::call_service(&app, request.to_request()).await;
            assert!(!response.status().is_informational());
        }
    })
}

#[test]
fn a_request_is_a_transaction_named_after_its_route_holding_its_events() {
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let envelopes = run(
        VigilMiddleware::new().capture_server_errors(false),
        traced(),
        200,
        &[(
            "/users/42?token=secret&page=2",
            &[
                ("sentry-trace", &sentry_trace),
                (
                    "baggage",
                    "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=k,sentry-release=up%401",
                ),
            ],
        )],
    );
    assert_eq!(envelopes.len(), 2, "the event, then the transaction");
    let event = &events_json(&envelopes)[0];
    let tx = &transactions_json(&envelopes)[0];
    assert_eq!(tx["type"], "transaction");
    assert_eq!(tx["transaction"], "GET /users/{id}");
    assert_eq!(tx["transaction_info"]["source"], "route");
    let trace = &tx["contexts"]["trace"];
    assert_eq!(trace["op"], "http.server");
    assert_eq!(trace["origin"], "auto.http.actix");
    assert_eq!(trace["status"], "ok");
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], SPAN);
    assert_eq!(trace["data"]["http.request.method"], "GET");
    assert_eq!(trace["data"]["http.response.status_code"], 200);
    assert_eq!(trace["data"]["url"], "http://example.com/users/42");
    assert_eq!(tx["request"]["url"], "http://example.com/users/42");
    assert_eq!(tx["request"]["method"], "GET");
    assert_eq!(tx["request"]["query_string"], "token=[Filtered]&page=2");
    assert!(
        tx["request"].get("data").is_none(),
        "no body in transactions"
    );

    // The event: the same trace, the transaction's span, its name.
    assert_eq!(event["transaction"], "GET /users/{id}");
    assert_eq!(event["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(event["contexts"]["trace"]["span_id"], trace["span_id"]);
    assert_eq!(event["request"]["url"], "http://example.com/users/42");
    // The DSC of the caller travels with both envelopes.
    for envelope in &envelopes {
        let header = serde_json::to_value(envelope.headers()).expect("a header");
        assert_eq!(header["trace"]["trace_id"], TRACE, "{header}");
        assert_eq!(header["trace"]["release"], "up@1", "{header}");
    }
}

#[test]
fn nested_scopes_give_the_full_pattern_and_unmatched_paths_the_url() {
    let envelopes = run(
        VigilMiddleware::new(),
        traced(),
        200,
        &[("/api/v1/orders/7/items/3", &[]), ("/no/such/page", &[])],
    );
    let transactions = transactions_json(&envelopes);
    assert_eq!(transactions.len(), 2);
    assert_eq!(
        transactions[0]["transaction"],
        "GET /api/v1/orders/{order}/items/{item}"
    );
    assert_eq!(transactions[0]["transaction_info"]["source"], "route");
    assert_eq!(transactions[1]["transaction"], "GET /no/such/page");
    assert_eq!(transactions[1]["transaction_info"]["source"], "url");
    assert_eq!(transactions[1]["contexts"]["trace"]["status"], "not_found");
    assert_eq!(
        transactions[1]["contexts"]["trace"]["data"]["http.response.status_code"],
        404
    );
    // One event (the route's handler); the 404 captured nothing.
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["transaction"],
        "GET /api/v1/orders/{order}/items/{item}"
    );
}

#[test]
fn the_status_follows_the_response() {
    for (code, status) in [
        (201, "ok"),
        (401, "unauthenticated"),
        (404, "not_found"),
        (429, "resource_exhausted"),
        (500, "internal_error"),
        (503, "unavailable"),
    ] {
        let envelopes = run(VigilMiddleware::new(), traced(), code, &[("/users/1", &[])]);
        let tx = &transactions_json(&envelopes)[0];
        assert_eq!(tx["contexts"]["trace"]["status"], status, "{code}");
        assert_eq!(
            tx["contexts"]["trace"]["data"]["http.response.status_code"],
            code
        );
    }
}

#[test]
fn requests_without_a_trace_each_start_their_own() {
    let envelopes = run(
        VigilMiddleware::new(),
        vigil_core::ClientOptions::default(),
        200,
        &[("/users/1", &[]), ("/users/2", &[])],
    );
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 2);
    let trace = |e: &Value| e["contexts"]["trace"].clone();
    assert_ne!(trace(&events[0])["trace_id"], trace(&events[1])["trace_id"]);
    assert!(trace(&events[0]).get("parent_span_id").is_none());
    // Without tracing: no transaction, but events are named after the route.
    assert!(transactions_json(&envelopes).is_empty());
    assert_eq!(events[0]["transaction"], "GET /users/{id}");
}

#[test]
fn traceparent_is_continued_and_malformed_headers_start_a_new_trace() {
    let traceparent = format!("00-{TRACE}-{SPAN}-01");
    let upper = format!("{}-{SPAN}-1", TRACE.to_uppercase());
    let envelopes = run(
        VigilMiddleware::new(),
        vigil_core::ClientOptions::default(),
        200,
        &[
            ("/users/1", &[("traceparent", &traceparent)]),
            ("/users/2", &[("sentry-trace", &upper)]),
        ],
    );
    let events = events_json(&envelopes);
    assert_eq!(events[0]["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(events[0]["contexts"]["trace"]["parent_span_id"], SPAN);
    assert_ne!(events[1]["contexts"]["trace"]["trace_id"], TRACE);
}

#[test]
fn sampled_out_or_untraced_requests_send_no_transaction() {
    for rate in [0.0, 0.000_000_1] {
        let options = vigil_core::ClientOptions::new().traces_sample_rate(rate);
        let envelopes = run(VigilMiddleware::new(), options, 200, &[("/users/1", &[])]);
        assert!(transactions_json(&envelopes).is_empty(), "rate {rate}");
        assert_eq!(events_json(&envelopes).len(), 1, "the event is still sent");
    }
}

#[test]
fn start_transaction_off_and_the_references_default_start_none() {
    for middleware in [
        VigilMiddleware::new().start_transaction(false),
        Sentry::new().into_inner(),
    ] {
        let envelopes = run(middleware, traced(), 200, &[("/users/1", &[])]);
        assert!(transactions_json(&envelopes).is_empty());
        let events = events_json(&envelopes);
        assert_eq!(events[0]["transaction"], "GET /users/{id}");
    }
    let envelopes = run(
        Sentry::with_transaction().into_inner(),
        traced(),
        200,
        &[("/users/1", &[])],
    );
    assert_eq!(transactions_json(&envelopes).len(), 1);
}

#[test]
fn without_an_enabled_client_requests_go_straight_through() {
    // No client on this thread's hub (nor on the main hub, in this binary).
    let status = crate::support::block_on(async {
        let app = atest::init_service(
            App::new()
                .wrap(VigilMiddleware::new())
                .route("/users/{id}", web::get().to(|| capture_then(503))),
        )
        .await;
        let request = atest::TestRequest::get().uri("/users/1").to_request();
        atest::call_service(&app, request).await.status()
    });
    assert_eq!(status, 503);
    // A client that is disabled (no DSN) does the same.
    let envelopes = envelopes(
        vigil_core::ClientOptions::new().traces_sample_rate(1.0),
        || async {
            let hub = vigil_core::Hub::current();
            hub.bind_client(None);
            let app = atest::init_service(
                App::new()
                    .wrap(VigilMiddleware::new())
                    .route("/users/{id}", web::get().to(|| capture_then(503))),
            )
            .await;
            let request = atest::TestRequest::get().uri("/users/1").to_request();
            assert_eq!(atest::call_service(&app, request).await.status(), 503);
        },
    );
    assert!(envelopes.is_empty());
}
