//! The names code written for the reference SDK uses: `SentryLayer` and
//! `NewSentryLayer` (a hub per request, any request type) and
//! `SentryHttpLayer` (request data and, when enabled, a transaction per
//! request), with the transaction's status rules.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use serde_json::{Value, json};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use vigil_core::protocol::{Breadcrumb, Envelope, Event, Level, SpanStatus};
use vigil_core::test::{TestTransport, with_captured_envelopes_options, with_captured_events};
use vigil_core::{ClientOptions, Hub};
use vigil_tower::{
    HubLayer, HubService, NewHubLayer, NewSentryLayer, NewSentryService, SentryHttpLayer,
    SentryHttpService, SentryLayer, SentryService, VigilLayer, VigilService,
};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn crumb(message: &str) -> Breadcrumb {
    Breadcrumb {
        message: Some(message.to_owned()),
        ..Breadcrumb::default()
    }
}

fn crumb_messages(event: &Event) -> Vec<&str> {
    event
        .breadcrumbs
        .iter()
        .filter_map(|c| c.message.as_deref())
        .collect()
}

fn tracing_options() -> ClientOptions {
    ClientOptions::new().traces_sample_rate(1.0)
}

/// The transactions of `envelopes`, as JSON.
fn transactions(envelopes: &[Envelope]) -> Vec<Value> {
    envelopes
        .iter()
        .filter_map(Envelope::transaction)
        .map(|t| serde_json::to_value(t).expect("a transaction serializes"))
        .collect()
}

/// An HTTP service answering every request with `status`.
fn answering(
    status: u16,
) -> impl Service<
    http::Request<()>,
    Response = http::Response<()>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |_: http::Request<()>| async move {
        let mut response = http::Response::new(());
        *response.status_mut() = http::StatusCode::from_u16(status).expect("a status");
        Ok::<_, Infallible>(response)
    })
}

fn get(uri: &str) -> http::Request<()> {
    http::Request::get(uri).body(()).expect("a request")
}

#[test]
fn sentry_layer_binds_the_given_hub() {
    let transport = TestTransport::new();
    let options = ClientOptions::new()
        .dsn(vigil_core::test::TEST_DSN)
        .transport(transport.clone());

    let outer = with_captured_events(|| {
        vigil_core::add_breadcrumb(crumb("before"));
        let hub = Arc::new(Hub::new_from_top(Hub::current()));
        hub.bind_client(Some(Arc::new(options.into())));
        hub.configure_scope(|scope| scope.set_tag("layer", "fixed"));
        let service = ServiceBuilder::new()
            .layer(SentryLayer::new(hub))
            .service_fn(|name: String| async move {
                vigil_core::add_breadcrumb(crumb(&format!("request {name}")));
                vigil_core::capture_message("inside", Level::Error);
                Err::<(), _>(format!("no {name}"))
            });
        for name in ["a", "b"] {
            let result = block_on(service.clone().oneshot(name.to_owned()));
            assert_eq!(result, Err(format!("no {name}")));
        }
        vigil_core::capture_message("outside", Level::Info);
    });

    // The caller's hub saw nothing of the requests.
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0].message.as_deref(), Some("outside"));
    assert_eq!(crumb_messages(&outer[0]), ["before"]);
    assert!(!outer[0].tags.contains_key("layer"));

    // Both requests ran under the one given hub, with its client.
    let inside = transport.fetch_and_clear_events();
    assert_eq!(inside.len(), 2);
    assert!(inside.iter().all(|e| e.tags["layer"] == "fixed"));
    assert_eq!(crumb_messages(&inside[0]), ["before", "request a"]);
    assert_eq!(
        crumb_messages(&inside[1]),
        ["before", "request a", "request b"]
    );
}

#[test]
fn new_sentry_layer_isolates_each_request() {
    let events = with_captured_events(|| {
        vigil_core::add_breadcrumb(crumb("before"));
        let service = ServiceBuilder::new()
            .layer(NewSentryLayer::<String>::new_from_top())
            .service_fn(|name: String| async move {
                vigil_core::configure_scope(|scope| scope.set_tag("name", &name));
                vigil_core::add_breadcrumb(crumb(&format!("request {name}")));
                vigil_core::capture_message(&format!("hi {name}"), Level::Info);
                Ok::<_, Infallible>(())
            });
        for name in ["a", "b"] {
            block_on(service.clone().oneshot(name.to_owned())).expect("ok");
        }
        // Inferred request type, and the service's own constructor.
        let layer = NewSentryLayer::new_from_top();
        block_on(
            layer
                .layer(service_fn(|(): ()| async {
                    vigil_core::capture_message("unit", Level::Info);
                    Ok::<_, Infallible>(())
                }))
                .oneshot(()),
        )
        .expect("ok");
        let service: NewSentryService<_, u8> =
            NewSentryService::new_from_top(service_fn(|n: u8| async move {
                vigil_core::configure_scope(|scope| scope.set_tag("n", n));
                vigil_core::capture_message("number", Level::Info);
                Ok::<_, Infallible>(())
            }));
        block_on(service.oneshot(7)).expect("ok");
        vigil_core::capture_message("after", Level::Info);
    });

    let messages: Vec<_> = events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(
        messages,
        [
            Some("hi a"),
            Some("hi b"),
            Some("unit"),
            Some("number"),
            Some("after")
        ]
    );
    assert_eq!(events[0].tags["name"], "a");
    assert_eq!(crumb_messages(&events[0]), ["before", "request a"]);
    assert_eq!(events[1].tags["name"], "b");
    assert_eq!(crumb_messages(&events[1]), ["before", "request b"]);
    assert_eq!(events[3].tags["n"], "7");
    assert!(events[4].tags.is_empty());
    assert_eq!(crumb_messages(&events[4]), ["before"]);
}

#[test]
fn a_closure_chooses_the_hub() {
    let events = with_captured_events(|| {
        let parent = Hub::current();
        let layer = HubLayer::new(move |request: &u32| {
            let hub = Hub::new_from_top(&parent);
            hub.configure_scope(|scope| scope.set_tag("parity", request % 2));
            hub
        });
        let service = layer.layer(service_fn(|n: u32| async move {
            vigil_core::capture_message(&n.to_string(), Level::Info);
            Ok::<_, Infallible>(())
        }));
        block_on(service.clone().oneshot(3)).expect("ok");
        block_on(service.into_inner().oneshot(4)).expect("ok");
    });
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].tags["parity"], "1");
    // `into_inner` unwrapped the bare service: no hub of its own.
    assert!(!events[1].tags.contains_key("parity"));
}

#[test]
fn names_are_aliases_of_ours() {
    let hub = Hub::current();
    let _: HubLayer<Arc<Hub>, Arc<Hub>, ()> = SentryLayer::new(hub.clone());
    let _: NewHubLayer<()> = NewSentryLayer::new_from_top();
    let _: HubService<(), Arc<Hub>, Arc<Hub>, ()> = SentryService::new(hub, ());
    let _: VigilService<()> = SentryHttpLayer::new().layer(());
    let _: SentryHttpService<()> = VigilLayer::new().layer(());
    let _: VigilLayer = SentryHttpLayer::default().into_inner();
}

/// An HTTP service that captures a warning and answers `status`.
#[derive(Clone, Copy)]
struct App {
    status: u16,
}

impl Service<http::Request<()>> for App {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<http::Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        vigil_core::capture_message("handled", Level::Warning);
        let mut response = http::Response::new(());
        *response.status_mut() = http::StatusCode::from_u16(self.status).expect("a status");
        std::future::ready(Ok(response))
    }
}

/// Sends a GET of `uri` through `layer` and an [`App`] answering
/// `status`; returns the envelopes.
fn through<L>(layer: L, options: ClientOptions, uri: &str, status: u16) -> Vec<Envelope>
where
    L: Layer<App>,
    L::Service: Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>,
{
    with_captured_envelopes_options(
        || {
            let service = layer.layer(App { status });
            let response = block_on(service.oneshot(get(uri))).expect("a response");
            assert_eq!(response.status().as_u16(), status);
        },
        options,
    )
}

#[test]
fn http_layer_with_transaction_times_the_request() {
    let envelopes = with_captured_envelopes_options(
        || {
            let service = ServiceBuilder::new()
                .layer(SentryHttpLayer::new().enable_transaction())
                .service(answering(404));
            let response =
                block_on(service.oneshot(get("http://example.com/missing?q=1"))).expect("ok");
            assert_eq!(response.status(), 404);
        },
        tracing_options(),
    );
    assert_eq!(envelopes.len(), 1);
    let transaction = envelopes[0].transaction().expect("a transaction");
    let json = serde_json::to_value(transaction).expect("serializes");
    assert_eq!(json["transaction"], "GET /missing");
    let trace = &json["contexts"]["trace"];
    assert_eq!(trace["op"], "http.server");
    assert_eq!(trace["origin"], "auto.http.tower");
    assert_eq!(trace["status"], "not_found");
    assert_eq!(trace["data"]["http.response.status_code"], 404);
    assert_eq!(json["request"]["url"], "http://example.com/missing");
    assert_eq!(json["request"]["query_string"], "q=1");
}

#[test]
fn http_layer_without_transaction_records_the_request_only() {
    let envelopes = through(
        SentryHttpLayer::new(),
        tracing_options(),
        "http://example.com/a",
        200,
    );
    assert!(transactions(&envelopes).is_empty());
    assert_eq!(envelopes.len(), 1);
    let event = envelopes[0].event().expect("the handler's event");
    assert_eq!(event.transaction.as_deref(), Some("GET /a"));
    let request = event.request.as_ref().expect("request data");
    assert_eq!(request.url.as_deref(), Some("http://example.com/a"));

    // Ours turned off the same way.
    let envelopes = through(
        VigilLayer::new().start_transaction(false),
        tracing_options(),
        "http://example.com/a",
        200,
    );
    assert!(transactions(&envelopes).is_empty());
    // And on by default.
    let envelopes = through(
        VigilLayer::new(),
        tracing_options(),
        "http://example.com/a",
        201,
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["contexts"]["trace"]["status"], "ok");
}

#[test]
#[expect(
    deprecated,
    reason = "the reference's deprecated constructor must keep working"
)]
fn deprecated_with_transaction_enables_transactions() {
    let envelopes = through(
        SentryHttpLayer::with_transaction(),
        tracing_options(),
        "http://example.com/x",
        409,
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(
        envelopes.len(),
        2,
        "the handler's event, then the transaction"
    );
    assert_eq!(txs[0]["contexts"]["trace"]["status"], "already_exists");
    assert_eq!(
        txs[0]["contexts"]["trace"]["data"]["http.response.status_code"],
        409
    );
}

#[test]
fn personal_data_follows_the_client_whatever_enable_pii_says() {
    let request = || {
        http::Request::get("http://example.com/p")
            .header("x-forwarded-for", "203.0.113.7")
            .header("authorization", "Bearer s3cr3t")
            .body(())
            .expect("a request")
    };
    let run = |layer: SentryHttpLayer, send_default_pii: bool| {
        let options = ClientOptions::new().send_default_pii(send_default_pii);
        let events = vigil_core::test::with_captured_events_options(
            || {
                let service = layer.layer(service_fn(|_: http::Request<()>| async {
                    vigil_core::capture_message("m", Level::Info);
                    Ok::<_, Infallible>(http::Response::new(()))
                }));
                block_on(service.oneshot(request())).expect("ok");
            },
            options,
        );
        let request = events[0].request.as_ref().expect("request data");
        (
            request.headers["x-forwarded-for"].clone(),
            request.headers["authorization"].clone(),
        )
    };
    let filtered = ("[Filtered]".to_owned(), "[Filtered]".to_owned());
    let sent = ("203.0.113.7".to_owned(), "[Filtered]".to_owned());
    assert_eq!(run(SentryHttpLayer::new(), false), filtered);
    assert_eq!(run(SentryHttpLayer::new().enable_pii(), false), filtered);
    assert_eq!(run(SentryHttpLayer::new(), true), sent);
    assert_eq!(run(SentryHttpLayer::new().enable_pii(), true), sent);
}

#[test]
fn a_status_set_by_the_handler_is_kept() {
    let envelopes = with_captured_envelopes_options(
        || {
            let service = VigilLayer::new().layer(service_fn(|_: http::Request<()>| async {
                vigil_core::configure_scope(|scope| {
                    let span = scope.get_span().expect("the request's transaction");
                    span.set_status(SpanStatus::ResourceExhausted);
                    span.set_data("http.response.status_code", json!(599));
                });
                Ok::<_, Infallible>(http::Response::new(()))
            }));
            block_on(service.oneshot(get("http://example.com/s"))).expect("ok");
        },
        tracing_options(),
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    let trace = &txs[0]["contexts"]["trace"];
    assert_eq!(trace["status"], "resource_exhausted");
    assert_eq!(trace["data"]["http.response.status_code"], 599);
}

#[test]
fn a_request_dropped_before_its_response_ends_as_cancelled() {
    let envelopes = with_captured_envelopes_options(
        || {
            let mut service = SentryHttpLayer::new()
                .enable_transaction()
                .layer(service_fn(|_: http::Request<()>| {
                    std::future::pending::<Result<http::Response<()>, Infallible>>()
                }));
            let mut future = Box::pin(service.call(get("http://example.com/slow")));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(future.as_mut().poll(&mut cx).is_pending());
            drop(future);
        },
        tracing_options(),
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["transaction"], "GET /slow");
    assert_eq!(txs[0]["contexts"]["trace"]["status"], "cancelled");
    assert!(
        txs[0]["contexts"]["trace"]["data"]
            .get("http.response.status_code")
            .is_none()
    );
}

#[test]
fn a_panicking_handler_ends_the_transaction_as_an_internal_error() {
    let envelopes = with_captured_envelopes_options(
        || {
            let mut service = VigilLayer::new().layer(service_fn(|_: http::Request<()>| async {
                if true {
                    panic!("handler bug");
                }
                Ok::<_, Infallible>(http::Response::new(()))
            }));
            let mut future = Box::pin(service.call(get("http://example.com/boom")));
            let mut cx = Context::from_waker(Waker::noop());
            let poll = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                future.as_mut().poll(&mut cx)
            }));
            assert!(poll.is_err());
            drop(future);
        },
        tracing_options(),
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["contexts"]["trace"]["status"], "internal_error");
}

#[test]
fn polled_to_the_end_poll_ready_passes_through() {
    let mut service: SentryHttpService<_> = SentryHttpLayer::new().layer(answering(200));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
}
