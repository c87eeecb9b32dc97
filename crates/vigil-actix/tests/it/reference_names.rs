//! The names code written for `sentry-actix` 0.49 uses: `Sentry::new()`,
//! `Sentry::with_transaction()`, `Sentry::builder()` with its options and
//! `finish()`, `into_builder()`, `SentryMiddleware<S>`, and what they do.

use std::sync::Arc;

use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use vigil_actix::{Sentry, SentryBuilder, SentryMiddleware, VigilMiddleware, VigilService};
use vigil_core::protocol::Level;
use vigil_core::test::TestTransport;
use vigil_core::{Client, ClientOptions, Hub};

use crate::support::{block_on, envelopes, events_json, traced, transactions_json};

async fn failing() -> Result<HttpResponse, actix_web::Error> {
    vigil_core::capture_message("in handler", Level::Info);
    Err(std::io::Error::other("an error happens here").into())
}

fn run(middleware: Sentry, options: ClientOptions) -> Vec<vigil_core::protocol::Envelope> {
    envelopes(options, || async {
        let app = atest::init_service(
            App::new()
                .wrap(middleware)
                .route("/", web::get().to(failing)),
        )
        .await;
        let response =
            atest::call_service(&app, atest::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(response.status(), 500);
    })
}

#[test]
fn sentry_new_captures_server_errors_without_transactions() {
    let envelopes = run(Sentry::new(), traced());
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 2, "the handler's message and the error");
    assert_eq!(
        events[1]["exception"]["values"][0]["value"],
        "an error happens here"
    );
    assert!(transactions_json(&envelopes).is_empty());
    let envelopes = run(Sentry::default(), traced());
    assert!(transactions_json(&envelopes).is_empty());
}

#[test]
fn with_transaction_and_the_builder() {
    let envelopes = run(Sentry::with_transaction(), traced());
    assert_eq!(transactions_json(&envelopes).len(), 1);

    let builder: SentryBuilder = Sentry::builder()
        .start_transaction(true)
        .emit_header(true)
        .capture_server_errors(false)
        .with_default_hub();
    let envelopes = run(builder.finish(), traced());
    assert_eq!(
        events_json(&envelopes).len(),
        1,
        "the handler's message only"
    );
    assert_eq!(transactions_json(&envelopes).len(), 1);

    let envelopes = run(
        Sentry::new()
            .into_builder()
            .capture_server_errors(false)
            .finish(),
        ClientOptions::new(),
    );
    assert_eq!(events_json(&envelopes).len(), 1);
}

#[test]
fn with_hub_makes_each_request_hub_from_the_given_one() {
    let transport = TestTransport::new();
    let for_factory = transport.clone();
    let options = ClientOptions::new()
        .try_dsn(vigil_core::test::TEST_DSN)
        .expect("a DSN")
        .transport(move |_: &vigil_core::TransportContext<'_>| {
            for_factory.clone() as Arc<dyn vigil_core::Transport>
        });
    let hub = Arc::new(Hub::new_from_top(Hub::current()));
    hub.bind_client(Some(Arc::new(Client::new(options))));
    hub.configure_scope(|scope| scope.set_tag("service", "billing"));

    // No client on this thread's hub: the given hub's client captures.
    let middleware = Sentry::builder().with_hub(hub.clone()).finish();
    block_on(async {
        let app = atest::init_service(
            App::new()
                .wrap(middleware)
                .route("/", web::get().to(failing)),
        )
        .await;
        atest::call_service(&app, atest::TestRequest::get().uri("/").to_request()).await;
    });
    let events = transport.fetch_and_clear_events();
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event.tags["service"], "billing");
        assert_eq!(event.transaction.as_deref(), Some("GET /"));
    }
    // Nothing the requests set stayed on the given hub.
    hub.configure_scope(|scope| assert!(scope.transaction().is_none()));
}

#[test]
fn the_service_types_are_the_same() {
    fn takes<S>(_: Option<SentryMiddleware<S>>) -> Option<VigilService<S>> {
        None
    }
    let _ = takes::<()>(None);
    let vigil: VigilMiddleware = Sentry::new().into();
    let _ = vigil;
}
