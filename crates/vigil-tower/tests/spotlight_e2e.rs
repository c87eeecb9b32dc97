//! End to end against Spotlight (npm `@spotlightjs/spotlight`, run on a
//! loopback port of its own by `../shared/interop/spotlight.sh`), Sentry's
//! sidecar, which keeps every envelope it receives, transactions included
//! (Bugsink drops those). Vigil talks to it over real HTTP with its own
//! HTTP transport. Own binary: it binds a client to the main hub.
//!
//! What it proves: one request to an axum app with `VigilLayer`, whose
//! `/users/{id}` handler captures an error, arrives in the server as
//! exactly one transaction (`GET /users/{id}`, source `route`, op
//! `http.server`) and one error event of the same trace, the error
//! carrying the transaction's span id; and both envelopes carry the same
//! `trace` header (the dynamic sampling context).

mod common;
#[path = "common/spotlight.rs"]
mod spotlight;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use vigil_core::{Client, ClientOptions, Hub};
use vigil_tower::VigilLayer;

use spotlight::{Item, Spotlight, send};

/// Spotlight's port for this test: not the script's default (8969) nor
/// its selftest's (18969).
const PORT: &str = "18979";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

/// The handler: the user has no profile, which it reports as an error
/// and answers 404.
async fn show_user(UrlPath(id): UrlPath<u64>) -> (StatusCode, &'static str) {
    let error = io::Error::new(io::ErrorKind::NotFound, format!("user {id} has no profile"));
    vigil_core::capture_error(&error);
    (StatusCode::NOT_FOUND, "no profile\n")
}

#[test]
fn an_axum_request_with_an_error_is_one_transaction_and_one_error_of_one_trace() {
    let Some(dir) = common::interop_dir("the Spotlight end-to-end test") else {
        return;
    };
    let started = Instant::now();
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let dsn = spotlight.run(&["dsn"]).trim().to_owned();
    let public_key = dsn
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('@'))
        .map(|(key, _)| key.to_owned())
        .expect("an http DSN with a key");

    // Spotlight keeps what earlier runs sent: this run's envelopes are the
    // ones with this release.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let release = format!("vigil-spotlight-e2e@{}.{nanos}", std::process::id());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0);
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(client.clone()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let response = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new()
            .route("/users/{id}", get(show_user))
            .layer(VigilLayer::new());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let response = send(addr, "/users/42").await;
        server.abort();
        response
    });
    drop(runtime);
    assert!(
        response.starts_with("HTTP/1.1 404"),
        "unexpected response: {response}"
    );

    assert!(
        client.flush(Duration::from_secs(20)),
        "the HTTP transport delivers both envelopes within 20 s"
    );
    let stats = client.delivery_stats();
    // The error event, the transaction, and the request's session counted
    // in an aggregate (sent by the flush).
    assert_eq!(stats.envelopes_sent, 3, "{stats:?}");
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);
    let delivered = started.elapsed();

    // Delivered means Spotlight answered 200; poll its buffer until both
    // items show up.
    let deadline = Instant::now() + ARRIVAL;
    let items = loop {
        let items = spotlight.items_of_release(&release);
        let has = |ty: &str| items.iter().any(|i| i.header["type"] == ty);
        if has("transaction") && has("event") && has("sessions") {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show a transaction, an event and a sessions item of release {release} within {ARRIVAL:?}; it has {} items of it:\n{}",
            items.len(),
            items
                .iter()
                .map(|i| format!("{} {}", i.header, i.payload))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    let of_type = |ty: &str| -> Vec<&Item> {
        items
            .iter()
            .filter(|item| item.header["type"] == ty)
            .collect()
    };
    let (transactions, errors) = (of_type("transaction"), of_type("event"));
    assert_eq!(transactions.len(), 1, "exactly one transaction");
    assert_eq!(errors.len(), 1, "exactly one error event");
    let sessions = of_type("sessions");
    assert_eq!(sessions.len(), 1, "exactly one sessions item");
    assert_eq!(items.len(), 3, "nothing else");
    let (tx, error) = (transactions[0], errors[0]);

    // Request mode (the default for a server): the request is one session,
    // errored by the error captured in it.
    let aggregates = &sessions[0].payload;
    assert_eq!(aggregates["attrs"]["environment"], "production");
    let buckets = aggregates["aggregates"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 1, "{aggregates}");
    assert_eq!(buckets[0]["errored"], 1, "{aggregates}");
    for outcome in ["exited", "crashed", "abnormal"] {
        assert!(buckets[0].get(outcome).is_none(), "{aggregates}");
    }
    let minute = buckets[0]["started"].as_str().expect("a start minute");
    let seconds = minute.split(':').nth(2).unwrap_or_default();
    assert!(
        seconds.starts_with("00")
            && !seconds[2..].contains(|c: char| c.is_ascii_digit() && c != '0'),
        "rounded down to the minute: {minute}"
    );

    assert_eq!(tx.payload["type"], "transaction");
    assert_eq!(tx.payload["transaction"], "GET /users/{id}");
    assert_eq!(tx.payload["transaction_info"]["source"], "route");
    let tx_trace = &tx.payload["contexts"]["trace"];
    assert_eq!(tx_trace["op"], "http.server");
    assert_eq!(tx_trace["status"], "not_found");
    let trace_id = tx_trace["trace_id"].as_str().expect("a trace id");
    let span_id = tx_trace["span_id"].as_str().expect("a span id");
    assert_eq!(trace_id.len(), 32, "{tx_trace}");
    assert_eq!(span_id.len(), 16, "{tx_trace}");
    assert!(
        tx_trace.get("parent_span_id").is_none(),
        "the request started the trace: {tx_trace}"
    );

    let exception = &error.payload["exception"]["values"][0];
    assert_eq!(exception["value"], "user 42 has no profile");
    let error_trace = &error.payload["contexts"]["trace"];
    assert_eq!(error_trace["trace_id"], trace_id, "the same trace");
    assert_eq!(
        error_trace["span_id"], span_id,
        "the error happened inside the transaction's span"
    );
    assert_eq!(error.envelope["event_id"], error.payload["event_id"]);

    // Both envelopes carry the trace's one sampling context.
    let dsc = &tx.envelope["trace"];
    assert_eq!(error.envelope["trace"], *dsc, "the same DSC");
    assert_eq!(dsc["trace_id"], trace_id);
    assert_eq!(dsc["public_key"], public_key.as_str());
    assert_eq!(dsc["release"], release.as_str());
    assert_eq!(dsc["sampled"], "true");
    assert_eq!(dsc["transaction"], "GET /users/{id}");

    eprintln!(
        "spotlight e2e: trace {trace_id}, transaction span {span_id}, error {}, DSC {dsc}; \
         delivered after {delivered:?}, seen in Spotlight after {:?}",
        error.payload["event_id"],
        started.elapsed()
    );
}
