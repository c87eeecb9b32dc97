//! Server errors: actix `Error`s that render as 5xx, captured with their
//! `source()` chain; 5xx responses without an error, captured as a
//! message; 4xx never; `X-Sentry-Event`; errors returned by an inner
//! middleware; the request's `http` breadcrumb.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::test as atest;
use actix_web::{App, HttpResponse, ResponseError, error, web};
use serde_json::{Value, json};
use vigil_actix::VigilMiddleware;
use vigil_core::ClientOptions;
use vigil_core::protocol::Envelope;

use crate::support::{envelopes, events_json};

/// An error with a message and an optional cause.
#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Layer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

fn chain() -> Layer {
    Layer(
        "database unavailable",
        Some(Box::new(Layer("connection refused", None))),
    )
}

/// The application's own error type: a `ResponseError` with a cause.
#[derive(Debug)]
struct CheckoutError(Layer);

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checkout failed")
    }
}

impl StdError for CheckoutError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for CheckoutError {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Sends `GET path` (with `host: example.com`) to an app with the error
/// routes below behind `middleware`; returns the envelopes and the
/// response's status and `x-sentry-event` header.
fn send(middleware: VigilMiddleware, path: &'static str) -> (Vec<Envelope>, u16, Option<String>) {
    let mut outcome = (0, None);
    let envelopes = envelopes(ClientOptions::new(), || async {
        let app = atest::init_service(
            App::new()
                .wrap(middleware)
                .route(
                    "/io",
                    web::get().to(|| async {
                        vigil_core::configure_scope(|s| s.set_tag("step", "io"));
                        Err::<HttpResponse, actix_web::Error>(std::io::Error::other(chain()).into())
                    }),
                )
                .route(
                    "/own",
                    web::get().to(|| async {
                        Err::<HttpResponse, actix_web::Error>(CheckoutError(chain()).into())
                    }),
                )
                .route(
                    "/boxed",
                    web::get().to(|| async {
                        let boxed: Box<dyn StdError> = Box::new(chain());
                        Err::<HttpResponse, actix_web::Error>(boxed.into())
                    }),
                )
                .route(
                    "/internal",
                    web::get().to(|| async {
                        Err::<HttpResponse, actix_web::Error>(error::ErrorInternalServerError(
                            "out of stock",
                        ))
                    }),
                )
                .route(
                    "/bad-gateway",
                    web::get().to(|| async { HttpResponse::BadGateway().body("upstream down") }),
                )
                .route(
                    "/bad-request",
                    web::get().to(|| async {
                        Err::<HttpResponse, actix_web::Error>(error::ErrorBadRequest(
                            "no such product",
                        ))
                    }),
                )
                .route(
                    "/ok",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                ),
        )
        .await;
        let request = atest::TestRequest::get()
            .uri(path)
            .insert_header(("host", "example.com"))
            .to_request();
        let response = atest::call_service(&app, request).await;
        outcome = (
            response.status().as_u16(),
            response
                .headers()
                .get("x-sentry-event")
                .map(|v| v.to_str().expect("text").to_owned()),
        );
    });
    (envelopes, outcome.0, outcome.1)
}

fn exceptions(event: &Value) -> Vec<(String, String)> {
    event["exception"]["values"]
        .as_array()
        .expect("exceptions")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or("?").to_owned(),
                e["value"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn assert_mechanism(event: &Value) {
    let values = event["exception"]["values"].as_array().expect("exceptions");
    let outer = values.last().expect("an exception");
    assert_eq!(
        outer["mechanism"],
        json!({"type": "auto.http.actix", "handled": true})
    );
    for inner in &values[..values.len() - 1] {
        assert!(inner.get("mechanism").is_none(), "{inner}");
    }
}

#[test]
fn an_io_error_is_captured_with_its_chain_and_the_request() {
    let (envelopes, status, header) = send(VigilMiddleware::new(), "/io");
    assert_eq!(status, 500);
    assert_eq!(header, None, "emit_header is off by default");
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["level"], "error");
    assert_eq!(
        exceptions(event),
        [
            ("Layer".to_owned(), "connection refused".to_owned()),
            ("Error".to_owned(), "database unavailable".to_owned()),
        ]
    );
    assert_mechanism(event);
    assert_eq!(event["contexts"]["response"]["status_code"], 500);
    assert_eq!(event["tags"]["step"], "io");
    assert_eq!(event["transaction"], "GET /io");
    assert_eq!(event["request"]["url"], "http://example.com/io");
    // The request's own breadcrumb, recorded before the capture.
    let crumbs = event["breadcrumbs"]["values"].as_array().expect("crumbs");
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0]["type"], "http");
    assert_eq!(crumbs[0]["level"], "error");
    assert_eq!(
        crumbs[0]["data"],
        json!({"method": "GET", "url": "http://example.com/io", "status_code": 500})
    );
}

#[test]
fn the_applications_error_types_give_their_chain_once_registered() {
    let (envelopes, status, _) = send(VigilMiddleware::new().error_type::<CheckoutError>(), "/own");
    assert_eq!(status, 503);
    let event = &events_json(&envelopes)[0];
    assert_eq!(
        exceptions(event),
        [
            ("Layer".to_owned(), "connection refused".to_owned()),
            ("Layer".to_owned(), "database unavailable".to_owned()),
            ("CheckoutError".to_owned(), "checkout failed".to_owned()),
        ]
    );
    assert_mechanism(event);
    assert_eq!(event["contexts"]["response"]["status_code"], 503);

    // Unregistered: one exception, its type from `Debug`.
    let (envelopes, _, _) = send(VigilMiddleware::new(), "/own");
    let event = &events_json(&envelopes)[0];
    assert_eq!(
        exceptions(event),
        [("CheckoutError".to_owned(), "checkout failed".to_owned())]
    );
    assert_mechanism(event);
}

#[test]
fn boxed_errors_and_internal_errors() {
    let (envelopes, _, _) = send(VigilMiddleware::new(), "/boxed");
    let event = &events_json(&envelopes)[0];
    assert_eq!(
        exceptions(event),
        [
            ("Layer".to_owned(), "connection refused".to_owned()),
            ("Layer".to_owned(), "database unavailable".to_owned()),
        ]
    );
    let (envelopes, status, _) = send(VigilMiddleware::new(), "/internal");
    assert_eq!(status, 500);
    let event = &events_json(&envelopes)[0];
    assert_eq!(
        exceptions(event),
        [("Error".to_owned(), "out of stock".to_owned())]
    );
}

#[test]
fn a_5xx_response_without_an_error_is_a_message() {
    let (envelopes, status, _) = send(VigilMiddleware::new(), "/bad-gateway");
    assert_eq!(status, 502);
    let event = &events_json(&envelopes)[0];
    assert_eq!(event["message"], "502 Bad Gateway", "{event}");
    assert_eq!(event["level"], "error");
    assert!(event.get("exception").is_none());
    assert_eq!(event["contexts"]["response"]["status_code"], 502);
}

#[test]
fn client_errors_successes_and_disabled_capture_send_nothing() {
    for (middleware, path) in [
        (VigilMiddleware::new(), "/bad-request"),
        (VigilMiddleware::new(), "/ok"),
        (VigilMiddleware::new().capture_server_errors(false), "/io"),
        (
            VigilMiddleware::new().capture_server_errors(false),
            "/bad-gateway",
        ),
    ] {
        let (envelopes, _, header) = send(middleware, path);
        assert!(envelopes.is_empty(), "{path}");
        assert_eq!(header, None);
    }
}

#[test]
fn emit_header_returns_the_event_id() {
    for path in ["/io", "/bad-gateway"] {
        let (envelopes, _, header) = send(VigilMiddleware::new().emit_header(true), path);
        let event = &events_json(&envelopes)[0];
        let header = header.expect("an x-sentry-event header");
        assert_eq!(header.len(), 32);
        assert_eq!(
            event["event_id"].as_str().map(|id| id.replace('-', "")),
            Some(header)
        );
    }
}

/// A middleware inside `VigilMiddleware` that refuses every request with
/// an error (instead of a response).
struct Refuse;

impl<S> actix_web::dev::Transform<S, actix_web::dev::ServiceRequest> for Refuse
where
    S: Service<actix_web::dev::ServiceRequest>,
{
    type Response = actix_web::dev::ServiceResponse;
    type Error = actix_web::Error;
    type Transform = RefuseService;
    type InitError = ();
    type Future = Ready<Result<RefuseService, ()>>;

    fn new_transform(&self, _: S) -> Self::Future {
        ready(Ok(RefuseService))
    }
}

struct RefuseService;

impl Service<actix_web::dev::ServiceRequest> for RefuseService {
    type Response = actix_web::dev::ServiceResponse;
    type Error = actix_web::Error;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    actix_web::dev::always_ready!();

    fn call(&self, _: actix_web::dev::ServiceRequest) -> Self::Future {
        ready(Err(error::ErrorServiceUnavailable("maintenance")))
    }
}

#[test]
fn an_error_returned_by_an_inner_middleware_is_captured() {
    let envelopes = envelopes(ClientOptions::new(), || async {
        let app = atest::init_service(App::new().wrap(Refuse).wrap(VigilMiddleware::new()).route(
            "/ok",
            web::get().to(|| async { HttpResponse::Ok().finish() }),
        ))
        .await;
        let request = atest::TestRequest::get().uri("/ok").to_request();
        let Err(error) = atest::try_call_service(&app, request).await else {
            panic!("the middleware's error comes out");
        };
        assert_eq!(error.to_string(), "maintenance");
    });
    let event = &events_json(&envelopes)[0];
    assert_eq!(
        exceptions(event),
        [("Error".to_owned(), "maintenance".to_owned())]
    );
    assert_eq!(event["contexts"]["response"]["status_code"], 503);
    assert_eq!(event["transaction"], "GET /ok");
}

#[test]
fn the_breadcrumb_stays_with_its_request() {
    let envelopes = envelopes(ClientOptions::new(), || async {
        let app = atest::init_service(
            App::new()
                .wrap(VigilMiddleware::new())
                .route(
                    "/ok",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/fail",
                    web::get().to(|| async { HttpResponse::InternalServerError().finish() }),
                ),
        )
        .await;
        for path in ["/ok", "/ok", "/fail"] {
            let request = atest::TestRequest::get().uri(path).to_request();
            atest::call_service(&app, request).await;
        }
        vigil_core::capture_message("after", vigil_core::protocol::Level::Info);
    });
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 2);
    let crumbs = events[0]["breadcrumbs"]["values"]
        .as_array()
        .expect("crumbs");
    assert_eq!(crumbs.len(), 1, "only the failing request's own");
    assert_eq!(crumbs[0]["data"]["url"], "/fail");
    assert!(events[1].get("breadcrumbs").is_none(), "{}", events[1]);
    assert!(events[1].get("transaction").is_none());
}

#[test]
fn the_breadcrumb_reaches_events_captured_later_through_a_kept_hub() {
    let kept: std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<vigil_core::Hub>>>> =
        std::sync::Arc::default();
    let slot = kept.clone();
    let envelopes = envelopes(ClientOptions::new(), move || async move {
        let app = atest::init_service(App::new().wrap(VigilMiddleware::new()).route(
            "/keep",
            web::get().to(move || {
                let slot = slot.clone();
                async move {
                    // The application keeps the request's hub for later.
                    *slot.lock().expect("the slot") = Some(vigil_core::Hub::current());
                    HttpResponse::Ok().finish()
                }
            }),
        ))
        .await;
        let request = atest::TestRequest::get().uri("/keep").to_request();
        atest::call_service(&app, request).await;
        let hub = kept.lock().expect("the slot").take().expect("a hub");
        hub.capture_message("later", vigil_core::protocol::Level::Info);
    });
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    let crumbs = events[0]["breadcrumbs"]["values"]
        .as_array()
        .expect("crumbs");
    assert_eq!(crumbs.len(), 1, "{}", events[0]);
    assert_eq!(
        crumbs[0]["data"],
        json!({"method": "GET", "url": "/keep", "status_code": 200})
    );
    assert_eq!(crumbs[0]["level"], "info");
}

#[test]
fn before_breadcrumb_sees_every_requests_breadcrumb() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = std::sync::Arc::default();
    let record = seen.clone();
    let options = ClientOptions::new().before_breadcrumb(move |crumb| {
        record
            .lock()
            .expect("the list")
            .push(serde_json::to_value(&crumb).expect("serializes"));
        Some(crumb)
    });
    let envelopes = envelopes(options, || async {
        let app = atest::init_service(
            App::new()
                .wrap(VigilMiddleware::new())
                .route(
                    "/ok",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/missing",
                    web::get().to(|| async { HttpResponse::NotFound().finish() }),
                ),
        )
        .await;
        for path in ["/ok", "/missing"] {
            let request = atest::TestRequest::get().uri(path).to_request();
            atest::call_service(&app, request).await;
        }
    });
    assert!(envelopes.is_empty());
    let seen = seen.lock().expect("the list");
    let levels: Vec<&Value> = seen.iter().map(|c| &c["level"]).collect();
    assert_eq!(levels, [&json!("info"), &json!("warning")]);
    assert_eq!(seen[1]["data"]["status_code"], 404);
}
