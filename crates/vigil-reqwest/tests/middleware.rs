//! The middleware against a real HTTP server on loopback: the span (op,
//! description, data, status, parent), the propagation headers and when
//! they are withheld, the breadcrumb, failures, and the pass-through
//! without a client.

use std::sync::Arc;
use std::time::Duration;

use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::json;
use vigil_core::protocol::{Envelope, Level, SpanStatus, Transaction};
use vigil_core::{
    ClientOptions, Hub, HubFutureExt, TracePropagationTarget, TransactionContext, TransactionOrSpan,
};
use vigil_reqwest::VigilMiddleware;
use vigil_test::{LoopbackServer, Reply};

fn client() -> ClientWithMiddleware {
    ClientBuilder::new(
        reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .with(VigilMiddleware::new())
    .build()
}

/// Runs `requests` inside a sampled transaction (the scope's span) on a
/// hub with a recording client; returns what was sent and the
/// transaction's trace id and span id.
fn in_transaction<F>(options: ClientOptions, requests: F) -> Vec<Envelope>
where
    F: AsyncFnOnce(ClientWithMiddleware),
{
    vigil_core::test::with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            let transaction = hub.start_transaction(TransactionContext::new("checkout", "task"));
            hub.configure_scope(|scope| {
                scope.set_span(Some(TransactionOrSpan::from(transaction.clone())));
            });
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(requests(client()).bind_hub(hub.clone()));
            transaction.finish();
        },
        options.traces_sample_rate(1.0),
    )
}

fn transaction(envelopes: &[Envelope]) -> Transaction {
    envelopes
        .iter()
        .find_map(|e| e.transaction().cloned())
        .expect("the transaction was sent")
}

#[test]
fn a_request_is_a_span_with_headers_and_a_breadcrumb() {
    let server = Arc::new(LoopbackServer::start());
    server.set_default(
        Reply::ok()
            .header("content-type", "text/plain")
            .body("hello"),
    );
    let base = format!("http://{}", server.addr());
    let url = format!(
        "http://user:pw@{}/items/42?page=2&api_key=k1#top",
        server.addr()
    );
    let envelopes = in_transaction(ClientOptions::new(), async move |client| {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "hello");
        vigil_core::capture_message("after the call", Level::Info);
    });
    let tx = transaction(&envelopes);
    assert_eq!(tx.spans.len(), 1, "{:#?}", tx.spans);
    let span = &tx.spans[0];
    let vigil_core::protocol::Context::Trace(trace) = &tx.contexts["trace"] else {
        panic!("a trace context");
    };
    assert_eq!(span.parent_span_id, Some(trace.span_id));
    assert_eq!(span.op.as_deref(), Some("http.client"));
    assert_eq!(span.origin.as_deref(), Some("auto.http.reqwest"));
    let bare = format!("{base}/items/42");
    assert_eq!(
        span.description.as_deref(),
        Some(format!("GET {bare}").as_str())
    );
    assert_eq!(span.status, Some(SpanStatus::Ok));
    assert_eq!(span.data["http.request.method"], json!("GET"));
    assert_eq!(span.data["url"], json!(bare));
    assert_eq!(span.data["http.query"], json!("page=2&api_key=[Filtered]"));
    assert_eq!(span.data["http.fragment"], json!("top"));
    assert_eq!(span.data["http.response.status_code"], json!(200));
    assert_eq!(span.data["http.response_content_length"], json!(5));

    // The server got the span's trace.
    let requests = server.requests();
    let got = requests
        .iter()
        .find(|r| r.path.starts_with("/items/42"))
        .unwrap();
    let sentry_trace = got.header("sentry-trace").expect("sentry-trace sent");
    assert_eq!(
        sentry_trace,
        format!("{}-{}-1", span.trace_id, span.span_id),
        "the request's own span is the parent downstream"
    );
    let baggage = got.header("baggage").expect("baggage sent");
    assert!(
        baggage.contains(&format!("sentry-trace_id={}", span.trace_id)),
        "{baggage}"
    );

    // The breadcrumb is on the hub the request was made from.
    let event = envelopes.iter().find_map(|e| e.event().cloned()).unwrap();
    let crumb = event.breadcrumbs.iter().next_back().expect("a breadcrumb");
    assert_eq!(crumb.ty, "http");
    assert_eq!(crumb.level, Level::Info);
    assert_eq!(crumb.data["method"], json!("GET"));
    assert_eq!(crumb.data["url"], json!(bare), "no credentials, no query");
    assert_eq!(crumb.data["status_code"], json!(200));
}

#[test]
fn server_errors_and_failures_mark_the_span() {
    let server = Arc::new(LoopbackServer::start());
    server.script([Reply::status(503), Reply::hang()]);
    let unavailable = format!("http://{}/down", server.addr());
    let hanging = format!("http://{}/slow", server.addr());
    let refused = format!("http://{}/", vigil_test::refused_addr());
    let envelopes = in_transaction(ClientOptions::new(), async move |client| {
        let response = client.get(&unavailable).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert!(client.get(&hanging).send().await.unwrap_err().is_timeout());
        assert!(client.get(&refused).send().await.is_err());
        vigil_core::capture_message("after the calls", Level::Info);
    });
    let tx = transaction(&envelopes);
    let statuses: Vec<_> = tx.spans.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            Some(SpanStatus::Unavailable),
            Some(SpanStatus::DeadlineExceeded),
            Some(SpanStatus::InternalError)
        ]
    );
    let event = envelopes.iter().find_map(|e| e.event().cloned()).unwrap();
    let levels: Vec<_> = event
        .breadcrumbs
        .iter()
        .filter(|c| c.ty == "http")
        .map(|c| (c.level, c.data.contains_key("reason")))
        .collect();
    assert_eq!(
        levels,
        [
            (Level::Error, false),
            (Level::Error, true),
            (Level::Error, true)
        ]
    );
}

#[test]
fn headers_follow_the_propagation_targets() {
    let server = Arc::new(LoopbackServer::start());
    server.set_default(Reply::ok());
    let addr = server.addr();
    let options = ClientOptions::new()
        .trace_propagation_target(TracePropagationTarget::contains("/internal/"));
    in_transaction(options, async move |client| {
        client
            .get(format!("http://{addr}/internal/a"))
            .send()
            .await
            .unwrap();
        client
            .get(format!("http://{addr}/partner/b"))
            .header("sentry-trace", "user-set")
            .send()
            .await
            .unwrap();
        client
            .get(format!("http://{addr}/partner/c"))
            .send()
            .await
            .unwrap();
    });
    let requests = server.requests();
    let header = |path: &str| {
        requests
            .iter()
            .find(|r| r.path == path)
            .unwrap()
            .header("sentry-trace")
            .map(str::to_owned)
    };
    assert!(header("/internal/a").is_some());
    assert_eq!(
        header("/partner/b").as_deref(),
        Some("user-set"),
        "kept as set"
    );
    assert_eq!(header("/partner/c"), None);
}

#[test]
fn without_a_span_the_trace_still_goes_on() {
    let server = Arc::new(LoopbackServer::start());
    server.set_default(Reply::ok());
    let url = format!("http://{}/x", server.addr());
    let mut trace_id = None;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            trace_id = Some(hub.propagation_context().trace_id());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(
                async {
                    client().get(&url).send().await.unwrap();
                }
                .bind_hub(hub.clone()),
            );
        },
        ClientOptions::new(),
    );
    assert!(envelopes.iter().all(|e| e.transaction().is_none()));
    let requests = server.requests();
    let sentry_trace = requests[0].header("sentry-trace").unwrap();
    assert!(sentry_trace.starts_with(&trace_id.unwrap().to_string()));
}

#[test]
fn without_a_client_requests_pass_through() {
    let server = Arc::new(LoopbackServer::start());
    server.set_default(Reply::ok());
    let url = format!("http://{}/x", server.addr());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hub = Arc::new(Hub::new(None, Arc::new(vigil_core::Scope::new())));
    runtime.block_on(
        async {
            client().get(&url).send().await.unwrap();
        }
        .bind_hub(hub),
    );
    assert!(server.requests()[0].header("sentry-trace").is_none());
}
