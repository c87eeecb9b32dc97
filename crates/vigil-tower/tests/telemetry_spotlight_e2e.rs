//! Logs, trace metrics, cron check-ins and user feedback end to end against
//! Spotlight (npm `@spotlightjs/spotlight`, run on a loopback port of its
//! own by `../shared/interop/spotlight.sh`). Vigil talks to it over real
//! HTTP with its own HTTP transport. Own binary: it binds a client to the
//! main hub and sets the global `tracing` subscriber.
//!
//! What it proves: one request to an axum app with `VigilLayer`, carrying a
//! `sentry-trace` header, whose handler writes one log with
//! `vigil_core::logger_info!` and one `tracing` event through
//! `vigil_tracing::LogLayer`, and captures one counter and one
//! distribution (with a unit) with `vigil_core::metrics`, followed by a job
//! run through `vigil_core::monitor` with a monitor config, and by one
//! user feedback about an error event, arrives in Spotlight as
//! - one transaction (`GET /orders/{id}`) continuing the incoming trace
//!   (the header's trace id, the header's span as parent),
//! - `log` items (`item_count` matching their logs) holding exactly those
//!   two logs, with their bodies, levels and attributes, each in the
//!   incoming header's trace, which is the transaction's trace, and each
//!   written in the transaction's span (`span_id`),
//! - `trace_metric` items (`item_count` matching their metrics) holding
//!   exactly those two metrics, with their types, names, values, units and
//!   typed attributes, each in the incoming header's trace and taken in the
//!   transaction's span (`span_id`),
//! - two `check_in` items of the job's monitor, `in_progress` then `ok`,
//!   with the same `check_in_id`, the monitor config as sent, and a
//!   duration (at least the job's) on the `ok` one only, and
//! - one `feedback` item with the message, contact e-mail, name and the
//!   error event's id as `associated_event_id` in `contexts.feedback`,
//!   next to that error event itself.

mod common;
#[path = "common/spotlight.rs"]
#[expect(
    dead_code,
    reason = "this test reads Spotlight's buffer once per poll and sends its request with \
              its own `sentry-trace` header"
)]
mod spotlight;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::prelude::*;
use vigil_core::protocol::{Feedback, Level, MonitorConfig, MonitorSchedule, Unit};
use vigil_core::{Client, ClientOptions, Hub};
use vigil_tower::VigilLayer;

use spotlight::{Spotlight, items_of_release_in};

/// Spotlight's port for this test (spotlight_e2e uses 18979, tracing_e2e
/// 18981, spotlight_option 18983; `scripts/test.sh` stops it).
const PORT: &str = "18985";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

/// The trace the incoming request belongs to, and the caller's span.
const TRACE_ID: &str = "6b1f1d4c1e2a4b9c8d7e6f5a4b3c2d1e";
const PARENT_SPAN_ID: &str = "a1b2c3d4e5f60718";

/// The cron monitor the job runs as, and how long the job takes.
const MONITOR_SLUG: &str = "vigil-telemetry-e2e-import";
const JOB_TIME: Duration = Duration::from_millis(50);

/// The user feedback sent after the job.
const FEEDBACK_MESSAGE: &str = "The order page showed the wrong total.";
const FEEDBACK_EMAIL: &str = "jane@example.com";
const FEEDBACK_NAME: &str = "Jane Doe";

/// The handler: writes one log with the macro and one through `tracing`,
/// and counts the order and samples its lookup time.
async fn show_order(UrlPath(id): UrlPath<u64>) -> &'static str {
    vigil_core::logger_info!(order.id = id, "order {} shown", id);
    tracing::warn!(order.id = id, "order shown from tracing");
    vigil_core::metrics::counter("orders.shown", 1)
        .attribute("order.id", id)
        .attribute("http.route", "/orders/{id}")
        .attribute("cache.hit", false)
        .capture();
    vigil_core::metrics::distribution("orders.lookup_time", 12.5)
        .unit(Unit::Millisecond)
        .attribute("db.system", "postgresql")
        .attribute("order.total", 19.99)
        .capture();
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

/// One batch item Spotlight holds (`log` or `trace_metric`): its header
/// and its records.
struct BatchItem {
    header: Value,
    records: Vec<Value>,
}

/// The `item_type` items (`log`, `trace_metric`) of `envelopes` with at
/// least one record of `release` (its `sentry.release` attribute),
/// keeping only those records; a batch mixing runs fails the test.
fn batch_items_of_release(envelopes: &[Value], item_type: &str, release: &str) -> Vec<BatchItem> {
    let mut items = Vec::new();
    for envelope in envelopes {
        let Some(list) = envelope[1].as_array() else {
            panic!("an envelope without an item list: {envelope}");
        };
        for pair in list.iter().filter(|pair| pair[0]["type"] == item_type) {
            let all = pair[1]["items"].as_array().cloned().unwrap_or_default();
            let total = all.len();
            let records: Vec<Value> = all
                .into_iter()
                .filter(|record| record["attributes"]["sentry.release"]["value"] == release)
                .collect();
            if !records.is_empty() {
                assert_eq!(records.len(), total, "a batch of this run only: {pair}");
                items.push(BatchItem {
                    header: pair[0].clone(),
                    records,
                });
            }
        }
    }
    items
}

/// Checks the headers of batch items: `item_count` matches the records,
/// and the content type is `content_type`.
fn assert_batch_headers(items: &[BatchItem], content_type: &str) {
    for item in items {
        assert_eq!(
            item.header["item_count"].as_u64(),
            Some(item.records.len() as u64),
            "item_count matches the records: {}",
            item.header
        );
        assert_eq!(item.header["content_type"], content_type, "{}", item.header);
    }
}

/// What this run left in Spotlight, read from one dump of its buffer.
struct Received {
    logs: Vec<BatchItem>,
    metrics: Vec<BatchItem>,
    transactions: Vec<spotlight::Item>,
    events: Vec<spotlight::Item>,
    check_ins: Vec<spotlight::Item>,
    feedback: Vec<spotlight::Item>,
}

impl Received {
    fn read(spotlight: &Spotlight, release: &str) -> Received {
        let envelopes = spotlight.envelopes();
        let of_type = |item_type: &str| -> Vec<spotlight::Item> {
            items_of_release_in(&envelopes, release)
                .into_iter()
                .filter(|i| i.header["type"] == item_type)
                .collect()
        };
        Received {
            logs: batch_items_of_release(&envelopes, "log", release),
            metrics: batch_items_of_release(&envelopes, "trace_metric", release),
            transactions: of_type("transaction"),
            events: of_type("event"),
            check_ins: of_type("check_in"),
            feedback: of_type("feedback"),
        }
    }

    fn record_count(items: &[BatchItem]) -> usize {
        items.iter().map(|i| i.records.len()).sum()
    }

    /// Whether everything this run sends is there.
    fn complete(&self) -> bool {
        Received::record_count(&self.logs) >= 2
            && Received::record_count(&self.metrics) >= 2
            && !self.transactions.is_empty()
            && !self.events.is_empty()
            && self.check_ins.len() >= 2
            && !self.feedback.is_empty()
    }

    fn summary(&self) -> String {
        format!(
            "{} logs, {} metrics, {} transactions, {} events, {} check-ins, {} feedback",
            Received::record_count(&self.logs),
            Received::record_count(&self.metrics),
            self.transactions.len(),
            self.events.len(),
            self.check_ins.len(),
            self.feedback.len()
        )
    }
}

/// The default attributes the SDK adds to a metric (besides its own).
const DEFAULT_METRIC_ATTRIBUTES: [&str; 5] = [
    "sentry.sdk.name",
    "sentry.sdk.version",
    "sentry.environment",
    "sentry.release",
    "server.address",
];

/// Checks a metric's attributes: exactly `own` (key, value, wire type)
/// besides the SDK's defaults, whose release is `release`.
fn assert_metric_attributes(metric: &Value, own: &[(&str, Value, &str)], release: &str) {
    let attributes = metric["attributes"]
        .as_object()
        .unwrap_or_else(|| panic!("a metric without attributes: {metric}"));
    for (key, value, wire_type) in own {
        assert_eq!(
            attributes.get(*key),
            Some(&json!({"value": value, "type": wire_type})),
            "attribute {key} of {metric}"
        );
    }
    for key in attributes.keys() {
        assert!(
            own.iter().any(|(own_key, ..)| own_key == key)
                || DEFAULT_METRIC_ATTRIBUTES.contains(&key.as_str()),
            "an attribute nobody set: {key} in {metric}"
        );
    }
    assert_eq!(attributes["sentry.release"]["value"], release, "{metric}");
    assert_eq!(attributes["sentry.environment"]["value"], "production");
}

#[test]
fn telemetry_of_a_request_and_a_job_arrives_in_spotlight() {
    let Some(dir) = common::interop_dir("the telemetry Spotlight end-to-end test") else {
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
    let release = format!(
        "vigil-telemetry-spotlight-e2e@{}.{nanos}",
        std::process::id()
    );
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

    // A scheduled job, run as one run of a cron monitor.
    let mut config =
        MonitorConfig::new(MonitorSchedule::crontab("*/10 * * * *").expect("a valid crontab"));
    config.checkin_margin = Some(5);
    config.max_runtime = Some(30);
    config.timezone = Some("Europe/Vienna".into());
    let sent_config = serde_json::to_value(&config).expect("a config serializes");
    let rows = vigil_core::monitor(MONITOR_SLUG, Some(config), || {
        std::thread::sleep(JOB_TIME);
        42
    });
    assert_eq!(rows, 42, "monitor passes the job's value through");

    // An error, and the user's feedback about it.
    let error_id = vigil_core::capture_message("the order total is wrong", Level::Error);
    assert!(!error_id.is_nil(), "the error event is captured");
    let mut feedback = Feedback::new(FEEDBACK_MESSAGE);
    feedback.contact_email = Some(FEEDBACK_EMAIL.into());
    feedback.name = Some(FEEDBACK_NAME.into());
    feedback.associated_event_id = Some(error_id);
    let feedback_id = vigil_core::capture_feedback(feedback);
    assert!(!feedback_id.is_nil(), "the feedback is captured");
    assert_ne!(feedback_id, error_id);

    assert!(
        client.close(Some(Duration::from_secs(20))),
        "the HTTP transport delivers everything within 20 s"
    );
    let stats = client.delivery_stats();
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);
    let delivered = started.elapsed();

    // Delivered means Spotlight answered 200; poll its buffer until all
    // of it shows up.
    let deadline = Instant::now() + ARRIVAL;
    let received = loop {
        let received = Received::read(&spotlight, &release);
        if received.complete() {
            break received;
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show everything of release {release} within {ARRIVAL:?}; it \
             has {}",
            received.summary()
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    // The transaction.
    assert_eq!(received.transactions.len(), 1, "exactly one transaction");
    let tx = &received.transactions[0].payload;
    assert_eq!(tx["transaction"], "GET /orders/{id}");
    let tx_trace = &tx["contexts"]["trace"];
    assert_eq!(tx_trace["op"], "http.server");
    assert_eq!(
        tx_trace["trace_id"], TRACE_ID,
        "the transaction continues the incoming trace"
    );
    assert_eq!(tx_trace["parent_span_id"], PARENT_SPAN_ID);
    let span_id = tx_trace["span_id"].as_str().expect("a span id");

    // The logs.
    assert_batch_headers(&received.logs, "application/vnd.sentry.items.log+json");
    let logs: Vec<&Value> = received.logs.iter().flat_map(|i| &i.records).collect();
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

    // The metrics.
    assert_batch_headers(
        &received.metrics,
        "application/vnd.sentry.items.trace-metric+json",
    );
    let metrics: Vec<&Value> = received.metrics.iter().flat_map(|i| &i.records).collect();
    assert_eq!(metrics.len(), 2, "exactly the two metrics: {metrics:?}");
    let metric = |name: &str| -> &Value {
        metrics
            .iter()
            .find(|metric| metric["name"] == name)
            .unwrap_or_else(|| panic!("no metric {name:?} in {metrics:?}"))
    };
    let (counter, distribution) = (metric("orders.shown"), metric("orders.lookup_time"));
    assert_eq!(counter["type"], "counter");
    assert_eq!(counter["value"].as_f64(), Some(1.0), "{counter}");
    assert!(
        counter.get("unit").is_none(),
        "a counter has no unit: {counter}"
    );
    assert_metric_attributes(
        counter,
        &[
            ("order.id", json!(7), "integer"),
            ("http.route", json!("/orders/{id}"), "string"),
            ("cache.hit", json!(false), "boolean"),
        ],
        &release,
    );
    assert_eq!(distribution["type"], "distribution");
    assert_eq!(distribution["value"].as_f64(), Some(12.5), "{distribution}");
    assert_eq!(distribution["unit"], "millisecond");
    assert_metric_attributes(
        distribution,
        &[
            ("db.system", json!("postgresql"), "string"),
            ("order.total", json!(19.99), "double"),
        ],
        &release,
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    for metric in [counter, distribution] {
        assert_eq!(
            metric["trace_id"], TRACE_ID,
            "the metric is in the incoming header's trace: {metric}"
        );
        assert_eq!(
            metric["span_id"], span_id,
            "the metric was taken in the transaction's span: {metric}"
        );
        let timestamp = metric["timestamp"].as_f64().expect("a timestamp");
        assert!(
            (now - 120.0..=now).contains(&timestamp),
            "the metric was taken during this run: {metric}"
        );
    }

    // The check-ins: in_progress, then ok, of one run.
    assert_eq!(received.check_ins.len(), 2, "exactly two check-ins");
    let (begun, ended) = (
        &received.check_ins[0].payload,
        &received.check_ins[1].payload,
    );
    for check_in in [begun, ended] {
        assert_eq!(check_in["monitor_slug"], MONITOR_SLUG, "{check_in}");
        assert_eq!(
            check_in["monitor_config"], sent_config,
            "the monitor config as sent: {check_in}"
        );
        assert_eq!(check_in["environment"], "production", "{check_in}");
        let check_in_id = check_in["check_in_id"].as_str().expect("a check-in id");
        assert!(
            check_in_id.len() == 32 && check_in_id.bytes().all(|b| b.is_ascii_hexdigit()),
            "a check-in id of 32 hex digits: {check_in}"
        );
    }
    assert_eq!(
        begun["check_in_id"], ended["check_in_id"],
        "both check-ins belong to one run"
    );
    assert_eq!(begun["status"], "in_progress", "{begun}");
    assert!(begun.get("duration").is_none(), "{begun}");
    assert_eq!(ended["status"], "ok", "{ended}");
    let duration = ended["duration"].as_f64().expect("a duration on ok");
    assert!(
        (JOB_TIME.as_secs_f64()..20.0).contains(&duration),
        "the duration covers the job: {ended}"
    );
    assert_eq!(
        begun["contexts"]["trace"]["trace_id"], ended["contexts"]["trace"]["trace_id"],
        "both check-ins are in one trace"
    );
    for item in &received.check_ins {
        assert_eq!(item.header["type"], "check_in");
    }

    // The error event and the feedback about it.
    assert_eq!(received.events.len(), 1, "exactly one error event");
    let error = &received.events[0].payload;
    assert_eq!(error["event_id"], error_id.to_string(), "{error}");
    assert_eq!(received.feedback.len(), 1, "exactly one feedback");
    let feedback_item = &received.feedback[0];
    let feedback_event = &feedback_item.payload;
    assert_eq!(feedback_event["type"], "feedback", "{feedback_event}");
    assert_eq!(feedback_event["event_id"], feedback_id.to_string());
    assert_eq!(
        feedback_item.envelope["event_id"],
        feedback_id.to_string(),
        "the envelope names the feedback's own id, not the error's"
    );
    let contexts_feedback = &feedback_event["contexts"]["feedback"];
    assert_eq!(contexts_feedback["message"], FEEDBACK_MESSAGE);
    assert_eq!(contexts_feedback["contact_email"], FEEDBACK_EMAIL);
    assert_eq!(contexts_feedback["name"], FEEDBACK_NAME);
    assert_eq!(
        contexts_feedback["associated_event_id"],
        error_id.to_string(),
        "the feedback is about the error: {feedback_event}"
    );

    let check_in_id = ended["check_in_id"].as_str().unwrap_or_default();
    eprintln!(
        "telemetry spotlight e2e: trace {TRACE_ID}, transaction span {span_id}, {} log item(s) \
         with {} logs, {} trace_metric item(s) with {} metrics, check-ins {check_in_id} \
         in_progress then ok after {duration:.3} s, feedback {feedback_id} about {error_id}; \
         delivered after {delivered:?}, seen in Spotlight after {:?}",
        received.logs.len(),
        logs.len(),
        received.metrics.len(),
        metrics.len(),
        started.elapsed()
    );
}
