//! Structured logs end to end against Spotlight (npm
//! `@spotlightjs/spotlight`, run on a loopback port of its own by
//! `../shared/interop/spotlight.sh`). Vigil talks to it over real HTTP with
//! its own HTTP transport. Own binary: it binds a client to the main hub
//! and sets the global `tracing` subscriber.
//!
//! What it proves: one request to an axum app with `VigilLayer`, carrying a
//! `sentry-trace` header, whose handler writes one log with
//! `vigil_core::logger_info!` and one `tracing` event through
//! `vigil_tracing::LogLayer`, arrives in Spotlight as
//! - one transaction (`GET /orders/{id}`) continuing the incoming trace
//!   (the header's trace id, the header's span as parent), and
//! - `log` items (`item_count` matching their logs) holding exactly those
//!   two logs, with their bodies, levels and attributes, each in the
//!   incoming header's trace, which is the transaction's trace, and each
//!   written in the transaction's span (`span_id`).

mod common;
#[path = "common/spotlight.rs"]
#[expect(
    dead_code,
    reason = "this test sends its request with its own `sentry-trace` header"
)]
mod spotlight;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::prelude::*;
use vigil_core::{Client, ClientOptions, Hub};
use vigil_tower::VigilLayer;

use spotlight::Spotlight;

/// Spotlight's port for this test (spotlight_e2e uses 18979, tracing_e2e
/// 18981, spotlight_option 18983; `scripts/test.sh` stops it).
const PORT: &str = "18985";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

/// The trace the incoming request belongs to, and the caller's span.
const TRACE_ID: &str = "6b1f1d4c1e2a4b9c8d7e6f5a4b3c2d1e";
const PARENT_SPAN_ID: &str = "a1b2c3d4e5f60718";

/// The handler: writes one log with the macro and one through `tracing`.
async fn show_order(UrlPath(id): UrlPath<u64>) -> &'static str {
    vigil_core::logger_info!(order.id = id, "order {} shown", id);
    tracing::warn!(order.id = id, "order shown from tracing");
    "ok\n"
}

/// One HTTP/1.1 GET with a `sentry-trace` header and `Connection: close`;
/// the raw response.
async fn send_traced(addr: SocketAddr, path: &str, sentry_trace: &str) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nsentry-trace: {sentry_trace}\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        io::Result::Ok(response)
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the app answers within 20 s")
        .expect("the request goes through")
}

/// One `log` item Spotlight holds: its header and its logs.
struct LogItem {
    header: Value,
    logs: Vec<Value>,
}

/// The `log` items of every envelope Spotlight holds with at least one log
/// of `release` (its `sentry.release` attribute), keeping only those logs.
fn log_items_of_release(spotlight: &Spotlight, release: &str) -> Vec<LogItem> {
    let mut items = Vec::new();
    for line in spotlight.run(&["envelopes"]).lines() {
        if line.trim().is_empty() {
            continue;
        }
        let envelope: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("spotlight.sh envelopes printed a bad line ({e}): {line}"));
        let Some(list) = envelope[1].as_array() else {
            panic!("an envelope without an item list: {line}");
        };
        for pair in list.iter().filter(|pair| pair[0]["type"] == "log") {
            let all = pair[1]["items"].as_array().cloned().unwrap_or_default();
            let total = all.len();
            let logs: Vec<Value> = all
                .into_iter()
                .filter(|log| log["attributes"]["sentry.release"]["value"] == release)
                .collect();
            if !logs.is_empty() {
                assert_eq!(logs.len(), total, "a batch of this run only: {pair}");
                items.push(LogItem {
                    header: pair[0].clone(),
                    logs,
                });
            }
        }
    }
    items
}

#[test]
fn logs_written_in_a_request_arrive_in_the_request_trace() {
    let Some(dir) = common::interop_dir("the logs Spotlight end-to-end test") else {
        return;
    };
    let started = Instant::now();
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let dsn = spotlight.run(&["dsn"]).trim().to_owned();

    // Spotlight keeps what earlier runs sent: this run's items are the
    // ones with this release.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let release = format!("vigil-logs-spotlight-e2e@{}.{nanos}", std::process::id());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0);
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(client.clone()));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(vigil_tracing::LogLayer::new()),
    )
    .expect("the only global subscriber of this binary");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let sentry_trace = format!("{TRACE_ID}-{PARENT_SPAN_ID}-1");
    let response = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new()
            .route("/orders/{id}", get(show_order))
            .layer(VigilLayer::new());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let response = send_traced(addr, "/orders/7", &sentry_trace).await;
        server.abort();
        response
    });
    drop(runtime);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "unexpected response: {response}"
    );

    assert!(
        client.close(Some(Duration::from_secs(20))),
        "the HTTP transport delivers the logs and the transaction within 20 s"
    );
    let stats = client.delivery_stats();
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);
    let delivered = started.elapsed();

    // Delivered means Spotlight answered 200; poll its buffer until both
    // logs and the transaction show up.
    let deadline = Instant::now() + ARRIVAL;
    let (log_items, transactions) = loop {
        let log_items = log_items_of_release(&spotlight, &release);
        let transactions: Vec<_> = spotlight
            .items_of_release(&release)
            .into_iter()
            .filter(|i| i.header["type"] == "transaction")
            .collect();
        let logs: usize = log_items.iter().map(|i| i.logs.len()).sum();
        if logs >= 2 && !transactions.is_empty() {
            break (log_items, transactions);
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show 2 logs and a transaction of release {release} within \
             {ARRIVAL:?}; it has {logs} logs and {} transactions",
            transactions.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    assert_eq!(transactions.len(), 1, "exactly one transaction");
    let tx = &transactions[0].payload;
    assert_eq!(tx["transaction"], "GET /orders/{id}");
    let tx_trace = &tx["contexts"]["trace"];
    assert_eq!(tx_trace["op"], "http.server");
    assert_eq!(
        tx_trace["trace_id"], TRACE_ID,
        "the transaction continues the incoming trace"
    );
    assert_eq!(tx_trace["parent_span_id"], PARENT_SPAN_ID);
    let span_id = tx_trace["span_id"].as_str().expect("a span id");

    for item in &log_items {
        assert_eq!(
            item.header["item_count"].as_u64(),
            Some(item.logs.len() as u64),
            "item_count matches the logs: {}",
            item.header
        );
        assert_eq!(
            item.header["content_type"],
            "application/vnd.sentry.items.log+json"
        );
    }
    let logs: Vec<&Value> = log_items.iter().flat_map(|i| &i.logs).collect();
    assert_eq!(logs.len(), 2, "exactly the two logs: {logs:?}");
    let find = |body: &str| -> &Value {
        logs.iter()
            .find(|log| log["body"] == body)
            .unwrap_or_else(|| panic!("no log {body:?} in {logs:?}"))
    };
    let (from_macro, from_tracing) = (find("order 7 shown"), find("order shown from tracing"));
    assert_eq!(from_macro["level"], "info");
    assert_eq!(
        from_macro["attributes"]["sentry.message.template"]["value"],
        "order {} shown"
    );
    assert_eq!(from_macro["attributes"]["order.id"]["value"], 7);
    assert_eq!(from_tracing["level"], "warn");
    for log in [from_macro, from_tracing] {
        assert_eq!(
            log["trace_id"], TRACE_ID,
            "the log is in the incoming header's trace: {log}"
        );
        assert_eq!(
            log["trace_id"], tx_trace["trace_id"],
            "the log is in the transaction's trace: {log}"
        );
        assert_eq!(
            log["span_id"], span_id,
            "the log was written in the transaction's span: {log}"
        );
        assert_eq!(
            log["attributes"]["sentry.trace.parent_span_id"]["value"], span_id,
            "{log}"
        );
    }

    eprintln!(
        "logs spotlight e2e: trace {TRACE_ID}, transaction span {span_id}, {} log item(s) with \
         {} logs; delivered after {delivered:?}, seen in Spotlight after {:?}",
        log_items.len(),
        logs.len(),
        started.elapsed()
    );
}
