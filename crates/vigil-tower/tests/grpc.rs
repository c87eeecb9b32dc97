//! gRPC with real tonic: a tonic server on 127.0.0.1 with the layer
//! (`VigilLayer::grpc()`, and the plain `VigilLayer` where said), tonic's
//! prebuilt health service and a hand-written service (see
//! `common/grpc.rs`), called by tonic clients over HTTP/2.
//!
//! A binary of its own: it binds a client to the process's main hub (the
//! server's worker threads follow it), so its tests run one at a time.
//!
//! What it proves: a call is a transaction named after its method
//! (`grpc.health.v1.Health/Check`, source `route`, op `grpc.server`) whose
//! status is the call's `grpc-status` mapped to a span status, read from
//! the response headers (trailers-only responses) or from the trailers at
//! the end of the body; server faults (and only they) are captured as
//! events with the method, the code and the decoded `grpc-message`; the
//! request data holds the metadata filtered like HTTP headers, binary
//! metadata never; a stream's transaction lasts until its last message
//! and its stream runs under the call's hub; a cancelled stream ends as
//! `cancelled`; the caller's `sentry-trace` is continued; and 1,000
//! concurrent calls keep their data apart.

#[path = "common/grpc.rs"]
mod grpc;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonic::Code;
use vigil_core::protocol::{Envelope, EnvelopeItem};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};
use vigil_tower::VigilLayer;

use grpc::{FAIL, TAGGED};

/// The tests of this binary share the main hub: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Upper bound for the calls of one test.
const DEADLINE: Duration = Duration::from_secs(60);

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";

/// Records events and transactions as JSON (transactions with their
/// `duration_secs` added).
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Value>>,
    transactions: Mutex<Vec<Value>>,
}

impl Transport for Recorder {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.into_items() {
            match item {
                EnvelopeItem::Event(event) => self
                    .events
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(serde_json::to_value(&*event).expect("an event serializes")),
                EnvelopeItem::Transaction(transaction) => {
                    let mut json =
                        serde_json::to_value(&*transaction).expect("a transaction serializes");
                    // The duration, which the RFC 3339 timestamps make
                    // awkward to compute from the JSON.
                    let duration = transaction
                        .timestamp
                        .duration_since(transaction.start_timestamp)
                        .unwrap_or_default();
                    json["duration_secs"] = Value::from(duration.as_secs_f64());
                    self.transactions
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(json);
                }
                _ => {}
            }
        }
    }
}

/// A client with a [`Recorder`] bound to the main hub for one test.
struct Recording {
    recorder: Arc<Recorder>,
    client: Arc<Client>,
    _serial: MutexGuard<'static, ()>,
}

impl Recording {
    /// Binds a client with `options` (tracing on unless they say
    /// otherwise) to the main hub.
    fn start(options: ClientOptions) -> Recording {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let recorder = Arc::new(Recorder::default());
        let for_factory = recorder.clone();
        let options = ClientOptions {
            dsn: Some(vigil_core::test::TEST_DSN.parse().expect("a DSN")),
            transport: Some(Arc::new(move |_: &TransportContext<'_>| {
                for_factory.clone() as Arc<dyn Transport>
            })),
            ..options
        };
        let client = Arc::new(Client::new(options));
        Hub::main().bind_client(Some(client.clone()));
        Recording {
            recorder,
            client,
            _serial: serial,
        }
    }

    /// Waits (up to 10 s) until `transactions` transactions were sent;
    /// then the events and the transactions.
    fn wait_for(&self, transactions: usize) -> (Vec<Value>, Vec<Value>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sent = self
                .recorder
                .transactions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len();
            if sent >= transactions || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let events = std::mem::take(
            &mut *self
                .recorder
                .events
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let sent = std::mem::take(
            &mut *self
                .recorder
                .transactions
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        assert_eq!(sent.len(), transactions, "transactions: {sent:#?}");
        (events, sent)
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        Hub::main().bind_client(None);
        self.client.close(Some(Duration::from_secs(2)));
    }
}

fn tracing() -> ClientOptions {
    ClientOptions::new().traces_sample_rate(1.0)
}

/// Runs `test` on a multi-threaded runtime with 2 workers (the server's
/// and the clients'), within [`DEADLINE`].
fn run<F: Future>(test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::time::timeout(DEADLINE, test)
            .await
            .expect("the calls finish in time")
    })
}

/// The layer under test: server errors captured, trailers read.
fn layer() -> vigil_tower::VigilGrpcLayer {
    VigilLayer::new().capture_server_errors(true).grpc()
}

fn trace(payload: &Value) -> &Value {
    &payload["contexts"]["trace"]
}

/// The metadata of the calls of the request-data tests: a secret, an API
/// key, a cookie, a client address, a plain value.
const METADATA: &[(&str, &str)] = &[
    ("authorization", "Bearer s3cr3t"),
    ("x-api-key", "k-123"),
    ("cookie", "theme=dark; sessionid=abc"),
    ("x-forwarded-for", "203.0.113.7"),
    ("x-tenant", "acme"),
];

/// A health check with [`METADATA`] and binary metadata; the transaction.
fn checked_with_metadata(options: ClientOptions) -> Value {
    let recording = Recording::start(options);
    let status = run(async {
        let addr = grpc::serve(layer()).await;
        let mut request = grpc::request(grpc::health_request(""), METADATA);
        request.metadata_mut().insert_bin(
            "x-blob-bin",
            tonic::metadata::MetadataValue::from_bytes(b"\x00\x01secret\xff"),
        );
        grpc::health_check(grpc::connect(addr).await, request).await
    });
    // SERVING.
    assert_eq!(status.expect("the check succeeds"), 1);
    let (events, transactions) = recording.wait_for(1);
    assert!(events.is_empty(), "{events:#?}");
    transactions.into_iter().next().expect("a transaction")
}

#[test]
fn an_ok_call_is_a_transaction_named_after_its_method() {
    let tx = checked_with_metadata(tracing());
    assert_eq!(tx["transaction"], "grpc.health.v1.Health/Check");
    assert_eq!(tx["transaction_info"]["source"], "route");
    let trace = trace(&tx);
    assert_eq!(trace["op"], "grpc.server");
    assert_eq!(trace["origin"], "auto.grpc.tower");
    // From the trailers: the response's headers have no status.
    assert_eq!(trace["status"], "ok");
    let data = &trace["data"];
    assert_eq!(data["rpc.grpc.status_code"], 0, "{data}");
    assert_eq!(data["rpc.system"], "grpc");
    assert_eq!(data["rpc.service"], "grpc.health.v1.Health");
    assert_eq!(data["rpc.method"], "Check");
    assert_eq!(data["http.request.method"], "POST");
    assert_eq!(data["http.response.status_code"], 200);
    let url = data["url"].as_str().expect("a url");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/grpc.health.v1.Health/Check"),
        "{url}"
    );

    let request = &tx["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], url);
    let headers = &request["headers"];
    for filtered in [
        "authorization",
        "x-api-key",
        "cookie",
        "x-forwarded-for",
        "x-blob-bin",
    ] {
        assert_eq!(headers[filtered], "[Filtered]", "{filtered}: {headers}");
    }
    assert_eq!(headers["x-tenant"], "acme");
    assert_eq!(headers["content-type"], "application/grpc");
    assert_eq!(headers["te"], "trailers");
    assert!(request.get("cookies").is_none(), "{request}");
}

#[test]
fn with_send_default_pii_metadata_follows_the_header_rules_and_binary_metadata_stays_out() {
    let tx = checked_with_metadata(tracing().send_default_pii(true));
    let request = &tx["request"];
    let headers = &request["headers"];
    // Secrets never; binary metadata never.
    for filtered in ["authorization", "x-api-key", "x-blob-bin"] {
        assert_eq!(headers[filtered], "[Filtered]", "{filtered}: {headers}");
    }
    // The client's identity with send_default_pii; cookies one by one.
    assert_eq!(headers["x-forwarded-for"], "203.0.113.7");
    assert_eq!(headers["cookie"], "theme=dark; sessionid=[Filtered]");
    assert_eq!(request["cookies"], "theme=dark; sessionid=[Filtered]");
    assert_eq!(headers["x-tenant"], "acme");
}

#[test]
fn not_found_is_the_callers_error_a_span_status_and_no_event() {
    let recording = Recording::start(tracing());
    let status = run(async {
        let addr = grpc::serve(layer()).await;
        let request = grpc::request(grpc::health_request("no.such.Service"), &[]);
        grpc::health_check(grpc::connect(addr).await, request).await
    });
    assert_eq!(status.expect_err("unknown service").code(), Code::NotFound);
    let (events, transactions) = recording.wait_for(1);
    assert!(events.is_empty(), "not a server fault: {events:#?}");
    let trace = trace(&transactions[0]);
    assert_eq!(
        transactions[0]["transaction"],
        "grpc.health.v1.Health/Check"
    );
    assert_eq!(trace["status"], "not_found");
    assert_eq!(trace["data"]["rpc.grpc.status_code"], 5);
}

/// The span status of each gRPC code.
const SPAN_STATUSES: [&str; 17] = [
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal_error",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

/// The message `Fail` fails with, for `code`: percent-encoded on the wire.
fn failure(code: usize) -> String {
    format!("failure {code}: café at 100%\nsee log")
}

#[test]
fn every_code_has_its_span_status_and_only_server_faults_are_captured() {
    let recording = Recording::start(tracing());
    let results = run(async {
        let addr = grpc::serve(layer()).await;
        let channel = grpc::connect(addr).await;
        let mut results = Vec::new();
        for code in 0..=16 {
            let code_text = code.to_string();
            let request = grpc::request(
                format!("{code} {}", failure(code)),
                &[("x-code", code_text.as_str())],
            );
            results.push(grpc::unary(channel.clone(), FAIL, request).await);
        }
        results
    });
    for (code, result) in results.iter().enumerate() {
        match result {
            Ok(message) => assert_eq!((code, message.as_str()), (0, failure(0).as_str())),
            Err(status) => {
                assert_eq!(status.code() as usize, code);
                assert_eq!(status.message(), failure(code));
            }
        }
    }
    let (events, transactions) = recording.wait_for(17);
    for tx in &transactions {
        assert_eq!(tx["transaction"], "vigil.test.Faults/Fail");
        let code: usize = tx["request"]["headers"]["x-code"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("the call's code");
        let trace = trace(tx);
        assert_eq!(trace["status"], SPAN_STATUSES[code], "code {code}");
        assert_eq!(trace["data"]["rpc.grpc.status_code"], code, "code {code}");
    }

    // UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS: server faults.
    let captured: BTreeMap<u64, &Value> = events
        .iter()
        .map(|e| {
            (
                e["contexts"]["grpc"]["status_code"]
                    .as_u64()
                    .expect("a code"),
                e,
            )
        })
        .collect();
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_eq!(
        captured.keys().copied().collect::<Vec<_>>(),
        [2, 13, 14, 15]
    );
    for (code, name) in [
        (2, "UNKNOWN"),
        (13, "INTERNAL"),
        (14, "UNAVAILABLE"),
        (15, "DATA_LOSS"),
    ] {
        let event = captured[&code];
        let message = failure(usize::try_from(code).expect("small"));
        assert_eq!(event["level"], "error");
        let text = event["logentry"]["formatted"]
            .as_str()
            .or(event["message"].as_str())
            .or(event["logentry"]["message"].as_str())
            .expect("a message");
        assert_eq!(text, format!("gRPC {name}: {message}"), "{event}");
        let context = &event["contexts"]["grpc"];
        assert_eq!(context["method"], "vigil.test.Faults/Fail");
        assert_eq!(context["status"], name);
        assert_eq!(context["message"], message);
        assert_eq!(event["transaction"], "vigil.test.Faults/Fail");
        assert_eq!(event["request"]["headers"]["x-code"], code.to_string());
        // The call's own breadcrumb, and its trace.
        let crumbs = event["breadcrumbs"]["values"]
            .as_array()
            .expect("breadcrumbs");
        assert_eq!(crumbs.len(), 1, "{crumbs:?}");
        assert_eq!(crumbs[0]["type"], "http");
        assert_eq!(crumbs[0]["level"], "error");
        assert_eq!(crumbs[0]["data"]["rpc.grpc.status_code"], code);
        assert_eq!(crumbs[0]["data"]["method"], "POST");
        let code_text = code.to_string();
        let tx = transactions
            .iter()
            .find(|tx| tx["request"]["headers"]["x-code"] == code_text.as_str())
            .expect("its transaction");
        assert_eq!(trace(event)["trace_id"], trace(tx)["trace_id"]);
        assert_eq!(trace(event)["span_id"], trace(tx)["span_id"]);
    }
}

#[test]
fn a_stream_is_timed_to_its_last_message_and_runs_under_the_calls_hub() {
    let recording = Recording::start(tracing());
    let items = run(async {
        let addr = grpc::serve(layer()).await;
        let request = grpc::request("3 150 0 ".to_owned(), &[]);
        let mut stream = grpc::server_streaming(grpc::connect(addr).await, request)
            .await
            .expect("the stream starts");
        let mut items = Vec::new();
        while let Some(item) = stream.message().await.expect("no error") {
            items.push(item);
        }
        items
    });
    assert_eq!(items, ["item 0", "item 1", "item 2"]);
    let (events, transactions) = recording.wait_for(1);
    let tx = &transactions[0];
    assert_eq!(tx["transaction"], "vigil.test.Faults/Stream");
    assert_eq!(trace(tx)["status"], "ok");
    assert_eq!(trace(tx)["data"]["rpc.grpc.status_code"], 0);
    let duration = tx["duration_secs"].as_f64().expect("a duration");
    assert!(
        duration >= 0.29,
        "ended with the stream, 2 × 150 ms after its first message: {duration} s"
    );
    // Captured by the stream, while the body was polled: the call's hub.
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["tags"]["stream"], "3");
    assert_eq!(event["transaction"], "vigil.test.Faults/Stream");
    assert_eq!(trace(event)["span_id"], trace(tx)["span_id"]);
}

#[test]
fn a_status_in_the_trailers_ends_the_transaction_and_a_fault_there_is_captured() {
    let recording = Recording::start(tracing());
    let (items, status) = run(async {
        let addr = grpc::serve(layer()).await;
        let request = grpc::request("2 10 15 lost chunk 3".to_owned(), &[]);
        let mut stream = grpc::server_streaming(grpc::connect(addr).await, request)
            .await
            .expect("the stream starts");
        let mut items = Vec::new();
        loop {
            match stream.message().await {
                Ok(Some(item)) => items.push(item),
                Ok(None) => panic!("the stream ends with an error"),
                Err(status) => break (items, status),
            }
        }
    });
    assert_eq!(items, ["item 0", "item 1"]);
    assert_eq!(status.code(), Code::DataLoss);
    let (events, transactions) = recording.wait_for(1);
    let tx = &transactions[0];
    assert_eq!(trace(tx)["status"], "data_loss");
    assert_eq!(trace(tx)["data"]["rpc.grpc.status_code"], 15);
    let faults: Vec<&Value> = events
        .iter()
        .filter(|e| e["contexts"].get("grpc").is_some())
        .collect();
    assert_eq!(faults.len(), 1, "{events:#?}");
    let context = &faults[0]["contexts"]["grpc"];
    assert_eq!(context["method"], "vigil.test.Faults/Stream");
    assert_eq!(context["status_code"], 15);
    assert_eq!(context["status"], "DATA_LOSS");
    assert_eq!(context["message"], "lost chunk 3");
    assert_eq!(faults[0]["tags"]["stream"], "2", "the handler's scope");
    assert_eq!(events.len(), 2, "the fault and the stream's own message");
}

#[test]
fn a_stream_the_client_drops_ends_as_cancelled() {
    let recording = Recording::start(tracing());
    let first = run(async {
        let addr = grpc::serve(layer()).await;
        // 100 messages 50 ms apart: 5 s, unless cancelled.
        let request = grpc::request("100 50 0 ".to_owned(), &[]);
        let mut stream = grpc::server_streaming(grpc::connect(addr).await, request)
            .await
            .expect("the stream starts");
        let first = stream.message().await.expect("no error");
        drop(stream);
        first
    });
    assert_eq!(first.as_deref(), Some("item 0"));
    let started = Instant::now();
    let (_, transactions) = recording.wait_for(1);
    assert!(started.elapsed() < Duration::from_secs(4), "not at its end");
    assert_eq!(trace(&transactions[0])["status"], "cancelled");
    assert!(
        trace(&transactions[0])["data"]
            .get("rpc.grpc.status_code")
            .is_none()
    );
}

#[test]
fn the_callers_trace_in_the_metadata_is_continued() {
    let recording = Recording::start(tracing());
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let baggage = format!("sentry-trace_id={TRACE},sentry-public_key=k,sentry-release=up%401");
    let answer = run(async {
        let addr = grpc::serve(layer()).await;
        let request = grpc::request(
            "7".to_owned(),
            &[
                ("sentry-trace", sentry_trace.as_str()),
                ("baggage", baggage.as_str()),
            ],
        );
        grpc::unary(grpc::connect(addr).await, TAGGED, request).await
    });
    assert_eq!(answer.expect("the call succeeds"), "7");
    let (events, transactions) = recording.wait_for(1);
    let tx = trace(&transactions[0]);
    assert_eq!(tx["trace_id"], TRACE);
    assert_eq!(tx["parent_span_id"], SPAN);
    assert_eq!(tx["status"], "ok");
    assert_eq!(events.len(), 1);
    assert_eq!(trace(&events[0])["trace_id"], TRACE);
    assert_eq!(trace(&events[0])["span_id"], tx["span_id"]);
}

#[test]
fn the_plain_layer_reads_a_status_in_the_headers_but_not_in_the_trailers() {
    let recording = Recording::start(tracing());
    let (failed, streamed) = run(async {
        let addr = grpc::serve_plain(VigilLayer::new().capture_server_errors(true)).await;
        let channel = grpc::connect(addr).await;
        // A unary error is a trailers-only response: its status is in
        // the headers.
        let request = grpc::request("13 database is down".to_owned(), &[]);
        let failed = grpc::unary(channel.clone(), FAIL, request).await;
        // A stream's error is in the trailers.
        let request = grpc::request("1 0 14 gone".to_owned(), &[]);
        let mut stream = grpc::server_streaming(channel, request)
            .await
            .expect("the stream starts");
        let mut streamed = Vec::new();
        while let Ok(Some(item)) = stream.message().await {
            streamed.push(item);
        }
        (failed, streamed)
    });
    assert_eq!(failed.expect_err("fails").code(), Code::Internal);
    assert_eq!(streamed, ["item 0"]);
    let (events, transactions) = recording.wait_for(2);
    let by_name = |name: &str| {
        transactions
            .iter()
            .find(|tx| tx["transaction"] == name)
            .unwrap_or_else(|| panic!("no {name}: {transactions:#?}"))
    };
    let failed = trace(by_name("vigil.test.Faults/Fail"));
    assert_eq!(failed["op"], "grpc.server");
    assert_eq!(failed["status"], "internal_error");
    assert_eq!(failed["data"]["rpc.grpc.status_code"], 13);
    // Ended with the response headers: after the HTTP status.
    let streamed = trace(by_name("vigil.test.Faults/Stream"));
    assert_eq!(streamed["status"], "ok");
    assert!(streamed["data"].get("rpc.grpc.status_code").is_none());
    let faults: Vec<&Value> = events
        .iter()
        .filter(|e| e["contexts"].get("grpc").is_some())
        .collect();
    assert_eq!(faults.len(), 1, "{events:#?}");
    assert_eq!(faults[0]["contexts"]["grpc"]["status"], "INTERNAL");
    assert_eq!(faults[0]["contexts"]["grpc"]["message"], "database is down");
}

/// Calls in flight at once, and connections they share.
const CALLS: usize = 1_000;
const CHANNELS: usize = 8;

#[test]
fn a_thousand_concurrent_calls_keep_their_data_apart() {
    let recording = Recording::start(tracing());
    let answers = run(async {
        let addr = grpc::serve(layer()).await;
        let mut channels = Vec::new();
        for _ in 0..CHANNELS {
            channels.push(grpc::connect(addr).await);
        }
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let channel = channels[i % CHANNELS].clone();
                tokio::spawn(async move {
                    let id = format!("c{i}");
                    let trace = format!("{:032x}-{:016x}-1", i + 1, i + 1);
                    let request = grpc::request(
                        id.clone(),
                        &[("x-call-id", id.as_str()), ("sentry-trace", trace.as_str())],
                    );
                    grpc::unary(channel, TAGGED, request).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.expect("the call's task"));
        }
        answers
    });
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.as_deref().ok(), Some(format!("c{i}").as_str()));
    }
    let (events, transactions) = recording.wait_for(CALLS);
    assert_eq!(events.len(), CALLS);

    // The transaction of each call, by the id in its metadata.
    let mut span_of = BTreeMap::new();
    let mut bleed = Vec::new();
    for tx in &transactions {
        let id = tx["request"]["headers"]["x-call-id"]
            .as_str()
            .expect("the call's metadata");
        let i: usize = id[1..].parse().expect("a number");
        let trace = trace(tx);
        if tx["tags"]["call"] != id
            || trace["trace_id"] != format!("{:032x}", i + 1)
            || trace["status"] != "ok"
        {
            bleed.push(format!("transaction of {id}: {tx}"));
        }
        span_of.insert(id.to_owned(), trace["span_id"].clone());
    }
    assert_eq!(span_of.len(), CALLS, "one transaction per call");
    for event in &events {
        let id = event["request"]["headers"]["x-call-id"]
            .as_str()
            .expect("the call's metadata");
        let i: usize = id[1..].parse().expect("a number");
        let crumbs = event["breadcrumbs"]["values"]
            .as_array()
            .map(|c| c.iter().map(|c| c["message"].clone()).collect::<Vec<_>>());
        let ok = event["tags"]["call"] == id
            && event["user"]["id"] == id
            && event["transaction"] == "vigil.test.Faults/Tagged"
            && event["logentry"]["formatted"]
                .as_str()
                .or(event["message"].as_str())
                .or(event["logentry"]["message"].as_str())
                == Some(format!("call {id}").as_str())
            && crumbs == Some(vec![Value::from(id)])
            && trace(event)["trace_id"] == format!("{:032x}", i + 1)
            && span_of.get(id) == Some(&trace(event)["span_id"]);
        if !ok {
            bleed.push(format!("event of {id}: {event}"));
        }
    }
    assert!(
        bleed.is_empty(),
        "{} of {} items carry another call's data:\n{}",
        bleed.len(),
        2 * CALLS,
        bleed.join("\n")
    );
    let distinct: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    assert_eq!(distinct.len(), CALLS);
    // Nothing reached the main hub.
    Hub::main().configure_scope(|scope| {
        assert!(scope.tags().is_empty(), "tags leaked into the main hub");
        assert!(scope.user().is_none(), "a user leaked into the main hub");
        assert!(scope.breadcrumbs().is_empty(), "breadcrumbs leaked");
    });
}
