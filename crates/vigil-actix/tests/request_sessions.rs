//! Request mode: every request through `VigilMiddleware` is one
//! release-health session, counted in per-minute aggregates. 10,000
//! concurrent requests (some capture an error, some return a 5xx error,
//! some panic, some have a user) give `sessions` items whose counts add
//! up to exactly the requests made, per outcome and per user. Own binary:
//! it silences the panic hook.

use std::collections::BTreeMap;
use std::rc::Rc;

use actix_web::dev::Service;
use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use vigil_actix::VigilMiddleware;
use vigil_core::protocol::{Envelope, EnvelopeItem, SessionAggregates, User};
use vigil_core::{ClientOptions, SessionMode};

const REQUESTS: usize = 10_000;

/// What request `i` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fine,
    /// Captures an error itself and answers 200.
    Error,
    /// Returns an actix `Error` that renders as 500 (captured by the
    /// middleware).
    ServerError,
    Panic,
}

fn kind(i: usize) -> Kind {
    if i % 23 == 7 {
        Kind::Panic
    } else if i % 10 == 3 {
        Kind::Error
    } else if i % 17 == 5 {
        Kind::ServerError
    } else {
        Kind::Fine
    }
}

/// The user request `i` sets, if any.
fn user(i: usize) -> Option<String> {
    i.is_multiple_of(5).then(|| format!("user-{}", i % 3))
}

async fn handler(path: web::Path<(usize, String)>) -> Result<HttpResponse, actix_web::Error> {
    let (i, kind) = path.into_inner();
    if let Some(id) = user(i) {
        vigil_core::configure_scope(|scope| {
            scope.set_user(Some(User {
                id: Some(id),
                ..Default::default()
            }));
        });
    }
    actix_web::rt::task::yield_now().await;
    match kind.as_str() {
        "error" => {
            vigil_core::capture_error(&std::io::Error::other("request failed"));
        }
        "server-error" => {
            return Err(actix_web::error::ErrorInternalServerError("out of stock"));
        }
        "panic" => panic!("request {i} panicked"),
        _ => {}
    }
    Ok(HttpResponse::Ok().body("ok"))
}

fn path(i: usize) -> String {
    let kind = match kind(i) {
        Kind::Fine => "fine",
        Kind::Error => "error",
        Kind::ServerError => "server-error",
        Kind::Panic => "panic",
    };
    format!("/r/{i}/{kind}")
}

/// Sends every request concurrently, each in a task of its own on one
/// actix system; returns how many panicked.
fn serve_all(middleware: VigilMiddleware) -> usize {
    actix_web::rt::System::new().block_on(async move {
        let app = Rc::new(
            atest::init_service(
                App::new()
                    .wrap(middleware)
                    .route("/r/{i}/{kind}", web::get().to(handler)),
            )
            .await,
        );
        let tasks: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let request = atest::TestRequest::get()
                    .uri(&path(i))
                    .insert_header(("host", "example.com"))
                    .to_request();
                let app = Rc::clone(&app);
                actix_web::rt::spawn(async move { app.call(request).await })
            })
            .collect();
        let mut panicked = 0;
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await {
                Ok(response) => {
                    let status = response.expect("a response").status();
                    let expected = if kind(i) == Kind::ServerError {
                        500
                    } else {
                        200
                    };
                    assert_eq!(status, expected, "request {i}");
                }
                Err(e) if e.is_panic() => panicked += 1,
                Err(e) => panic!("a request task failed: {e}"),
            }
        }
        panicked
    })
}

/// Every `sessions` item the client sent.
fn aggregates(envelopes: &[Envelope]) -> Vec<SessionAggregates> {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::SessionAggregates(a) => Some((**a).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ten_thousand_requests_are_ten_thousand_sessions() {
    // The panics are expected: keep their messages off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut panicked = 0;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || panicked = serve_all(VigilMiddleware::new().capture_panics(true)),
        ClientOptions::new()
            .release("request-sessions@1.0.0")
            .environment("test"),
    );
    let _ = std::panic::take_hook();

    let expected_panics = (0..REQUESTS).filter(|&i| kind(i) == Kind::Panic).count();
    assert_eq!(panicked, expected_panics);
    // Request mode (Auto switched on the first request): no session of the
    // process, no single updates.
    assert!(
        envelopes
            .iter()
            .flat_map(|e| e.items())
            .all(|i| !matches!(i, EnvelopeItem::Session(_)))
    );
    // One event per error, server error and panic.
    let events = envelopes.iter().filter(|e| e.event().is_some()).count();
    let expected_events = (0..REQUESTS).filter(|&i| kind(i) != Kind::Fine).count();
    assert_eq!(events, expected_events);

    let aggregates = aggregates(&envelopes);
    assert!(!aggregates.is_empty(), "the close sends the aggregates");
    let mut expected: BTreeMap<(Option<String>, &str), u32> = BTreeMap::new();
    for i in 0..REQUESTS {
        let outcome = match kind(i) {
            Kind::Fine => "exited",
            Kind::Error | Kind::ServerError => "errored",
            Kind::Panic => "crashed",
        };
        *expected.entry((user(i), outcome)).or_default() += 1;
    }
    let mut counted: BTreeMap<(Option<String>, &str), u32> = BTreeMap::new();
    for item in &aggregates {
        assert_eq!(item.attributes.release, "request-sessions@1.0.0");
        assert_eq!(item.attributes.environment.as_deref(), Some("test"));
        for bucket in &item.aggregates {
            for (outcome, n) in [
                ("exited", bucket.exited),
                ("errored", bucket.errored),
                ("crashed", bucket.crashed),
                ("abnormal", bucket.abnormal),
            ] {
                if n > 0 {
                    *counted
                        .entry((bucket.distinct_id.clone(), outcome))
                        .or_default() += n;
                }
            }
        }
    }
    assert_eq!(counted, expected);
    let total: u64 = aggregates.iter().map(SessionAggregates::total).sum();
    assert_eq!(total, REQUESTS as u64);
}

#[test]
fn application_mode_and_no_release_count_no_requests() {
    for options in [
        ClientOptions::new()
            .release("request-sessions@1.0.0")
            .session_mode(SessionMode::Application),
        ClientOptions::new(),
        ClientOptions::new()
            .release("request-sessions@1.0.0")
            .auto_session_tracking(false),
    ] {
        let envelopes = vigil_core::test::with_captured_envelopes_options(
            || {
                actix_web::rt::System::new().block_on(async {
                    let app = atest::init_service(
                        App::new()
                            .wrap(VigilMiddleware::new())
                            .route("/r/{i}/{kind}", web::get().to(handler)),
                    )
                    .await;
                    let request = atest::TestRequest::get().uri(&path(1)).to_request();
                    atest::call_service(&app, request).await;
                });
            },
            options,
        );
        assert!(aggregates(&envelopes).is_empty());
    }
}
