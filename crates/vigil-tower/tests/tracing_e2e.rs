//! The tracing integrations end to end, with real software on both sides:
//! an axum service behind `VigilLayer`, whose handler is a `tracing`
//! span (`#[tracing::instrument]`, made a Sentry span by
//! `vigil_tracing::layer()`) holding a nested `tracing` span, calls a
//! second local service through `reqwest-middleware` with
//! `vigil_reqwest::VigilMiddleware`. The second service is sentry-python
//! (`tests/python/trace_server.py`, in the tools venv that
//! `../shared/interop/lib/tools-venv.sh` makes); Vigil reports over its
//! real HTTP transport to Spotlight (`../shared/interop/spotlight.sh`, on a
//! loopback port of its own). Own binary: it binds a client to the main
//! hub and sets the global `tracing` subscriber.
//!
//! What it proves:
//! - Spotlight receives exactly one transaction (`GET /orders/{id}`, op
//!   `http.server`) whose spans form one chain: the transaction's root
//!   span → the handler's span → the nested span → the `http.client` span
//!   of the outgoing request (method, URL without its query, the query,
//!   status code 200), all in the transaction's trace;
//! - sentry-python continues that trace from the outgoing request: its
//!   transaction has Vigil's trace id, the `http.client` span as parent,
//!   and is sampled; the baggage it read is Vigil's DSC (trace id, public
//!   key, ...), entry for entry the `trace` header of the transaction's
//!   envelope;
//! - that `trace` header carries the trace id and the release.

mod common;
#[path = "common/python.rs"]
mod python;
#[path = "common/spotlight.rs"]
mod spotlight;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::Value;
use tokio::net::TcpListener;
use tracing::Instrument;
use tracing_subscriber::prelude::*;
use vigil_core::{Client, ClientOptions, Hub};
use vigil_reqwest::VigilMiddleware;

use python::{PythonServer, tools_python};
use spotlight::{Item, Spotlight, send};
use vigil_tower::VigilLayer;

/// Spotlight's port for this test: not the script's default (8969), its
/// selftest's (18969) nor `spotlight_e2e`'s (18979), so that both tests
/// can run at the same time.
const PORT: &str = "18981";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

/// The op of the nested span, set with its `op` field.
const FETCH_OP: &str = "inventory.fetch";

/// What the axum handler needs: the HTTP client with the middleware and
/// the Python server's base URL.
struct Downstream {
    /// reqwest with `VigilMiddleware`.
    http: ClientWithMiddleware,
    /// `http://host:port` of the Python server.
    base: String,
}

/// The handler, a `tracing` span (op: the target, this test's crate; name
/// `show_order`): within a nested span, asks the Python server about the
/// order and answers what it answered.
#[tracing::instrument(skip_all, fields(order_id = id))]
async fn show_order(
    State(downstream): State<Arc<Downstream>>,
    UrlPath(id): UrlPath<u64>,
) -> (StatusCode, String) {
    let url = format!("{}/inventory/{id}?check=stock", downstream.base);
    let fetch = tracing::info_span!("fetch_stock", op = FETCH_OP, sku = id);
    async {
        let response = match downstream.http.get(&url).send().await {
            Ok(response) => response,
            Err(e) => return (StatusCode::BAD_GATEWAY, format!("{url}: {e}")),
        };
        let status = response.status();
        match response.text().await {
            Ok(body) if status.is_success() => (StatusCode::OK, body),
            Ok(body) => (StatusCode::BAD_GATEWAY, format!("{url}: {status} {body}")),
            Err(e) => (StatusCode::BAD_GATEWAY, format!("{url}: {e}")),
        }
    }
    .instrument(fetch)
    .await
}

/// A JSON object of strings as a map, for comparing DSCs.
fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .unwrap_or_else(|| panic!("{k}: not a string: {v}"));
            (k.clone(), v.to_owned())
        })
        .collect()
}

/// One request through the axum service to the Python one: one
/// transaction with the span chain in Spotlight, the trace continued in
/// Python.
#[test]
fn server_tracing_and_client_spans_form_one_trace_that_python_continues() {
    let Some(dir) = common::interop_dir("the tracing end-to-end test (Spotlight, sentry-python)")
    else {
        return;
    };
    let started = Instant::now();
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let python = PythonServer::start(&tools_python(&dir), "1.0");
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
    let release = format!("vigil-tracing-e2e@{}.{nanos}", std::process::id());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0);
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(client.clone()));

    // The propagation headers never go to the DSN's host and port (here
    // Spotlight's, on 127.0.0.1), but do go to another port of that host.
    let base = format!("http://127.0.0.1:{}", python.addr.port());
    let python_url = format!("{base}/inventory/42");
    assert!(
        client.options().should_propagate_trace_to(&python_url),
        "{python_url} gets the propagation headers"
    );

    // Every thread, the runtime's workers included, sees the layer.
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(vigil_tracing::layer()),
    )
    .expect("the only global subscriber of this binary");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let response = runtime.block_on(async {
        let http = ClientBuilder::new(
            reqwest::Client::builder()
                .no_proxy()
                .timeout(python::PYTHON_TIMEOUT)
                .build()
                .expect("a reqwest client"),
        )
        .with(VigilMiddleware::new())
        .build();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new()
            .route("/orders/{id}", get(show_order))
            .with_state(Arc::new(Downstream { http, base }))
            .layer(VigilLayer::new());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let response = send(addr, "/orders/42").await;
        server.abort();
        response
    });
    drop(runtime);
    drop(python);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "unexpected response: {response}"
    );
    let py: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("the app answered no JSON from Python ({e}): {body}"));

    assert!(
        client.flush(Duration::from_secs(20)),
        "the HTTP transport delivers the envelopes within 20 s"
    );
    let stats = client.delivery_stats();
    // The transaction, and the request's session counted in an aggregate
    // (sent by the flush); no error event.
    assert_eq!(stats.envelopes_sent, 2, "{stats:?}");
    assert_eq!(stats.events_sent, 0, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);
    let delivered = started.elapsed();

    // Delivered means Spotlight answered 200; poll its buffer until both
    // items show up.
    let deadline = Instant::now() + ARRIVAL;
    let items = loop {
        let items = spotlight.items_of_release(&release);
        let has = |ty: &str| items.iter().any(|i| i.header["type"] == ty);
        if has("transaction") && has("sessions") {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show a transaction and a sessions item of release {release} within {ARRIVAL:?}; it has {} items of it:\n{}",
            items.len(),
            items
                .iter()
                .map(|i| format!("{} {}", i.header, i.payload))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let transactions: Vec<&Item> = items
        .iter()
        .filter(|item| item.header["type"] == "transaction")
        .collect();
    assert_eq!(transactions.len(), 1, "exactly one transaction");
    assert!(
        items
            .iter()
            .all(|i| i.header["type"] == "transaction" || i.header["type"] == "sessions"),
        "only the transaction and the sessions item"
    );
    let tx = transactions[0];

    // 1. One transaction: root span → handler → nested span → http.client.
    let expected_name = if cfg!(feature = "axum") {
        "GET /orders/{id}"
    } else {
        "GET /orders/42"
    };
    assert_eq!(tx.payload["type"], "transaction");
    assert_eq!(tx.payload["transaction"], expected_name);
    let tx_trace = &tx.payload["contexts"]["trace"];
    assert_eq!(tx_trace["op"], "http.server", "{tx_trace}");
    assert_eq!(tx_trace["status"], "ok", "{tx_trace}");
    let trace_id = tx_trace["trace_id"].as_str().expect("a trace id");
    let root_id = tx_trace["span_id"].as_str().expect("a span id");
    assert_eq!(trace_id.len(), 32, "{tx_trace}");
    assert_eq!(root_id.len(), 16, "{tx_trace}");
    assert!(
        tx_trace.get("parent_span_id").is_none(),
        "the request started the trace: {tx_trace}"
    );

    let spans = tx.payload["spans"].as_array().expect("a span list");
    let tree = spans
        .iter()
        .map(|s| {
            format!(
                "{} (parent {}) {} {:?}",
                s["span_id"], s["parent_span_id"], s["op"], s["description"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        spans.len(),
        3,
        "the handler's span, the nested span and the request's:\n{tree}"
    );
    let child_of = |parent: &str| -> &Value {
        let children: Vec<&Value> = spans
            .iter()
            .filter(|s| s["parent_span_id"] == parent)
            .collect();
        assert_eq!(children.len(), 1, "one child of {parent}:\n{tree}");
        children[0]
    };
    let handler = child_of(root_id);
    let handler_id = handler["span_id"].as_str().expect("a span id");
    let fetch = child_of(handler_id);
    let fetch_id = fetch["span_id"].as_str().expect("a span id");
    let call = child_of(fetch_id);
    let call_id = call["span_id"].as_str().expect("a span id");
    for span in [handler, fetch, call] {
        assert_eq!(
            span["trace_id"], trace_id,
            "the transaction's trace: {span}"
        );
        assert!(!span["timestamp"].is_null(), "finished: {span}");
    }

    assert_eq!(handler["op"], "tracing_e2e", "the span's target: {handler}");
    assert_eq!(handler["description"], "show_order", "{handler}");
    assert_eq!(handler["data"]["order_id"], 42, "{handler}");

    assert_eq!(fetch["op"], FETCH_OP, "{fetch}");
    assert_eq!(fetch["description"], "fetch_stock", "{fetch}");
    assert_eq!(fetch["data"]["sku"], 42, "{fetch}");

    assert_eq!(call["op"], "http.client", "{call}");
    assert_eq!(call["description"], format!("GET {python_url}"), "{call}");
    assert_eq!(call["status"], "ok", "{call}");
    let data = &call["data"];
    assert_eq!(data["http.request.method"], "GET", "{call}");
    assert_eq!(
        data["url"],
        python_url.as_str(),
        "without the query: {call}"
    );
    assert_eq!(data["http.query"], "check=stock", "{call}");
    assert_eq!(data["http.response.status_code"], 200, "{call}");

    // 2. Python continued the trace from the outgoing request.
    assert_eq!(
        py["received"]["sentry-trace"],
        format!("{trace_id}-{call_id}-1"),
        "the request's span went out: {py}"
    );
    assert_eq!(py["trace_id"], trace_id, "Vigil's trace: {py}");
    assert_eq!(
        py["parent_span_id"], call_id,
        "the http.client span is the parent: {py}"
    );
    assert_eq!(py["parent_sampled"], true, "{py}");
    assert_eq!(py["sampled"], true, "{py}");
    let received = string_map(&py["sentry_items"]);
    assert_eq!(received["trace_id"], trace_id, "{py}");
    assert_eq!(received["public_key"], public_key, "{py}");

    // 3. The envelope's DSC: the trace and the release, and exactly what
    // Python received.
    let dsc = &tx.envelope["trace"];
    assert_eq!(dsc["trace_id"], trace_id, "{dsc}");
    assert_eq!(dsc["release"], release.as_str(), "{dsc}");
    assert_eq!(dsc["public_key"], public_key.as_str(), "{dsc}");
    assert_eq!(dsc["sampled"], "true", "{dsc}");
    assert_eq!(
        received,
        string_map(dsc),
        "Python received the DSC Vigil reports"
    );

    eprintln!(
        "tracing e2e: trace {trace_id}: transaction {root_id} (http.server) -> {handler_id} \
         (show_order) -> {fetch_id} ({FETCH_OP}) -> {call_id} (http.client) -> Python \
         (parent {}); delivered after {delivered:?}, seen in Spotlight after {:?}",
        py["parent_span_id"],
        started.elapsed()
    );
}
