//! End to end against Spotlight (npm `@spotlightjs/spotlight`, run on a
//! loopback port of its own by `../shared/interop/spotlight.sh`), Sentry's
//! sidecar, which keeps every envelope it receives, transactions included
//! (Bugsink drops those). Vigil talks to it over real HTTP with its own
//! HTTP transport. Own binary: it binds a client to the main hub.
//!
//! What it proves: one request to an actix-web server with
//! `VigilMiddleware`, continuing the caller's trace, whose `/users/{id}`
//! handler captures an error, arrives in the server as exactly one
//! transaction (`GET /users/{id}`, source `route`, op `http.server`,
//! status `not_found` from the 404, in the caller's trace, a child of the
//! caller's span), one error event inside it, and one `sessions` item
//! counting the request as errored; both envelopes carry the same `trace`
//! header (the dynamic sampling context).

mod common;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::Value;
use vigil_actix::VigilMiddleware;
use vigil_core::{Client, ClientOptions, Hub};

use common::{Server, send};

/// Spotlight's port for this test: not the script's default (8969), its
/// selftest's (18969) nor those of vigil-tower's tests (18979-18985).
const PORT: &str = "18989";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: &str = "eee19b7ec3c1b174";

/// The handler: the user has no profile, which it reports as an error
/// and answers 404.
async fn show_user(id: web::Path<u64>) -> HttpResponse {
    vigil_core::configure_scope(|scope| scope.set_tag("lookup", "profile"));
    let error = io::Error::new(io::ErrorKind::NotFound, format!("user {id} has no profile"));
    vigil_core::capture_error(&error);
    HttpResponse::NotFound().body("no profile\n")
}

/// Runs `spotlight.sh args` on this test's port.
fn spotlight(dir: &Path, args: &[&str]) -> String {
    common::bash(&dir.join("spotlight.sh"), args, &[("SPOTLIGHT_PORT", PORT)])
}

/// Starts Spotlight, or finds it running (it is left running for the next
/// run; `scripts/test.sh` stops it). `spotlight.sh start` may report a
/// sidecar that is in fact still starting as failed: a failed start is
/// followed by up to 15 s of `status` polls, then one stop and start.
fn start_spotlight(dir: &Path) {
    let script: PathBuf = dir.join("spotlight.sh");
    let env = [("SPOTLIGHT_PORT", PORT)];
    let Err(first) = common::try_bash(&script, &["start"], &env) else {
        return;
    };
    eprintln!("spotlight.sh start failed once; waiting for the sidecar:\n{first}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if common::try_bash(&script, &["status"], &env).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    spotlight(dir, &["stop"]);
    spotlight(dir, &["start"]);
}

/// `(envelope header, item header, payload)` of every item Spotlight
/// holds whose payload has `release` (earlier runs' items stay in its
/// buffer while it runs).
fn items_of_release(dir: &Path, release: &str) -> Vec<(Value, Value, Value)> {
    let mut items = Vec::new();
    for line in spotlight(dir, &["envelopes"]).lines() {
        if line.trim().is_empty() {
            continue;
        }
        let envelope: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("spotlight.sh envelopes printed a bad line ({e}): {line}"));
        for pair in envelope[1].as_array().expect("an item list") {
            if pair[1]["release"] == release || pair[1]["attrs"]["release"] == release {
                items.push((envelope[0].clone(), pair[0].clone(), pair[1].clone()));
            }
        }
    }
    items
}

#[test]
fn an_actix_request_is_one_transaction_one_error_and_one_session_of_the_callers_trace() {
    let Some(dir) = common::interop_dir("the Spotlight end-to-end test", "spotlight.sh") else {
        return;
    };
    let started = Instant::now();
    start_spotlight(&dir);
    let dsn = spotlight(&dir, &["dsn"]).trim().to_owned();

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let release = format!("vigil-actix-spotlight-e2e@{}.{nanos}", std::process::id());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0);
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(Arc::clone(&client)));

    let server = Server::start(|| {
        let server = HttpServer::new(|| {
            App::new()
                .wrap(VigilMiddleware::new())
                .route("/users/{id}", web::get().to(show_user))
        })
        .workers(2)
        .bind(("127.0.0.1", 0))
        .expect("binds");
        (server.addrs()[0], server.run())
    });
    let addr = server.addr;
    let response = send(
        addr,
        &format!(
            "GET /users/42?tab=profile HTTP/1.1\r\nHost: {}\r\nsentry-trace: {TRACE}-{SPAN}-1\r\n\
             Authorization: Bearer s3cret\r\nConnection: close\r\n\r\n",
            addr
        ),
    );
    server.stop();
    assert!(
        response.starts_with("HTTP/1.1 404"),
        "unexpected response: {response}"
    );
    assert_eq!(
        common::header(&response, "x-sentry-event"),
        None,
        "emit_header is off"
    );

    assert!(
        client.flush(Duration::from_secs(20)),
        "the HTTP transport delivers everything within 20 s"
    );
    let stats = client.delivery_stats();
    // The error event, the transaction, and the request's session counted
    // in an aggregate (sent by the flush).
    assert_eq!(stats.envelopes_sent, 3, "{stats:?}");
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);

    let deadline = Instant::now() + ARRIVAL;
    let items = loop {
        let items = items_of_release(&dir, &release);
        let has = |ty: &str| items.iter().any(|(_, h, _)| h["type"] == ty);
        if has("transaction") && has("event") && has("sessions") {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show a transaction, an event and a sessions item of release {release} within {ARRIVAL:?}; it has {} items of it",
            items.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let of_type = |ty: &str| -> Vec<&(Value, Value, Value)> {
        items.iter().filter(|(_, h, _)| h["type"] == ty).collect()
    };
    let (transactions, errors, sessions) = (
        of_type("transaction"),
        of_type("event"),
        of_type("sessions"),
    );
    assert_eq!(transactions.len(), 1, "exactly one transaction");
    assert_eq!(errors.len(), 1, "exactly one error event");
    assert_eq!(sessions.len(), 1, "exactly one sessions item");
    assert_eq!(items.len(), 3, "nothing else");
    let (tx_envelope, _, tx) = transactions[0];
    let (error_envelope, _, error) = errors[0];

    // The transaction: named after the route, in the caller's trace.
    assert_eq!(tx["type"], "transaction");
    assert_eq!(tx["transaction"], "GET /users/{id}");
    assert_eq!(tx["transaction_info"]["source"], "route");
    let tx_trace = &tx["contexts"]["trace"];
    assert_eq!(tx_trace["op"], "http.server");
    assert_eq!(tx_trace["origin"], "auto.http.actix");
    assert_eq!(tx_trace["status"], "not_found");
    assert_eq!(tx_trace["trace_id"], TRACE);
    assert_eq!(tx_trace["parent_span_id"], SPAN);
    assert_eq!(tx_trace["data"]["http.response.status_code"], 404);
    assert_eq!(tx_trace["data"]["http.request.method"], "GET");
    let span_id = tx_trace["span_id"].as_str().expect("a span id");
    assert_eq!(span_id.len(), 16);
    let url = format!("http://{addr}/users/42");
    assert_eq!(tx["request"]["url"], url.as_str());
    assert_eq!(tx["request"]["query_string"], "tab=profile");
    assert_eq!(tx["request"]["headers"]["authorization"], "[Filtered]");

    // The error: inside the transaction, with the request's data.
    let exception = &error["exception"]["values"][0];
    assert_eq!(exception["value"], "user 42 has no profile");
    assert_eq!(error["transaction"], "GET /users/{id}");
    assert_eq!(error["tags"]["lookup"], "profile");
    assert_eq!(error["request"]["url"], url.as_str());
    assert_eq!(error["request"]["headers"]["authorization"], "[Filtered]");
    let error_trace = &error["contexts"]["trace"];
    assert_eq!(error_trace["trace_id"], TRACE);
    assert_eq!(error_trace["span_id"], span_id);
    assert_eq!(error_envelope["event_id"], error["event_id"]);
    // Both envelopes carry the trace's one sampling context.
    assert_eq!(error_envelope["trace"], tx_envelope["trace"]);
    assert_eq!(tx_envelope["trace"]["trace_id"], TRACE);

    // Request mode: the request is one session, errored by its error.
    let (_, _, aggregates) = sessions[0];
    let buckets = aggregates["aggregates"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 1, "{aggregates}");
    assert_eq!(buckets[0]["errored"], 1, "{aggregates}");
    for outcome in ["exited", "crashed", "abnormal"] {
        assert!(buckets[0].get(outcome).is_none(), "{aggregates}");
    }

    eprintln!(
        "spotlight e2e: trace {TRACE}, transaction span {span_id}, error {}, seen in Spotlight after {:?}",
        error["event_id"],
        started.elapsed()
    );
}
