//! One trace across languages: Vigil and the official Python SDK (PyPI
//! `sentry-sdk`, in the tools venv that `../shared/interop/lib/tools-venv.sh`
//! makes) continue each other's traces over real HTTP on loopback. The
//! Python side is `tests/python/trace_client.py` and
//! `tests/python/trace_server.py`; both keep their envelopes in memory and
//! send nothing. Own binary: the first test binds a client to the main hub.
//!
//! - Python → Vigil: sentry-python starts a transaction and a span and
//!   calls an axum app with `VigilLayer` with the span's `sentry-trace`
//!   and `baggage`. Vigil's transaction and its error event belong to
//!   Python's trace, with Python's span as parent; the `trace` header of
//!   Vigil's envelopes is Python's DSC, entry for entry (Python's public
//!   key, `sample_rand` and `sampled` included), and Vigil follows
//!   Python's decision over its own rate.
//! - Vigil → Python: a Vigil transaction calls a Python HTTP server with
//!   `Scope::iter_trace_propagation_headers()`; sentry-python's
//!   `continue_trace` reads Vigil's trace id, Vigil's span as parent and
//!   Vigil's decision (sampled against a Python rate of 0, sampled out
//!   against a rate of 1), and takes Vigil's DSC as its own.

mod common;
#[path = "common/python.rs"]
mod python;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use vigil_core::protocol::{Envelope, Level};
use vigil_core::test::{TEST_DSN, TestTransport};
use vigil_core::{Client, ClientOptions, Hub, TransactionContext, Transport, TransportContext};
use vigil_tower::VigilLayer;

use python::{PYTHON_TIMEOUT, PythonServer, script, tools_python};

/// Runs `command` to its end, at most [`PYTHON_TIMEOUT`]; panics with its
/// output when it fails or takes longer.
fn run(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let deadline = Instant::now() + PYTHON_TIMEOUT;
    while child.try_wait().expect("waits").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collects the output");
            panic!(
                "{command:?} did not end within {PYTHON_TIMEOUT:?}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collects the output");
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `sentry-` entries of a `baggage` header, names without the prefix,
/// values percent-decoded (read here independently of Vigil's parser).
fn sentry_entries(baggage: &str) -> BTreeMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII");
                out.push(u8::from_str_radix(hex, 16).expect("percent-encoding"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("UTF-8")
    }
    baggage
        .split(',')
        .filter_map(|member| member.trim().split_once('='))
        .filter_map(|(key, value)| Some((decode(key.strip_prefix("sentry-")?), decode(value))))
        .collect()
}

/// The `trace` object of an envelope's header, as it goes on the wire.
fn wire_dsc(envelope: &Envelope) -> Value {
    let bytes = envelope.to_vec().expect("serialises");
    let header = bytes.split(|&b| b == b'\n').next().expect("a header line");
    let header: Value = serde_json::from_slice(header).expect("a JSON header");
    header["trace"].clone()
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

/// The handler Python calls: an error inside the request.
async fn show_user(UrlPath(id): UrlPath<u64>) -> String {
    vigil_core::capture_message(&format!("user {id} is locked"), Level::Error);
    format!("user {id}\n")
}

#[test]
fn a_python_trace_continues_through_a_vigil_service() {
    let Some(dir) = common::interop_dir("the sentry-python interop test (Python calls Vigil)")
    else {
        return;
    };
    let started = Instant::now();
    let python = tools_python(&dir);

    // A tiny rate of its own: a transaction proves Vigil follows Python's
    // decision. `TestTransport` also hands the envelopes to the suite's
    // oracles (`$VIGIL_ENVELOPE_DUMP_DIR`).
    let transport = TestTransport::new();
    let for_factory = transport.clone();
    let options = ClientOptions::new()
        .try_dsn(TEST_DSN)
        .expect("the test DSN")
        .transport(move |_: &TransportContext<'_>| for_factory.clone() as Arc<dyn Transport>)
        .traces_sample_rate(0.000_001);
    Hub::main().bind_client(Some(Arc::new(Client::new(options))));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let addr: SocketAddr = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new()
            .route("/users/{id}", get(show_user))
            .layer(VigilLayer::new());
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    });

    let mut command = Command::new(&python);
    command
        .arg(script("trace_client.py"))
        .arg(format!("http://{addr}/users/7"));
    let out = run(command);
    let py: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "trace_client.py printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(py["status"], 200, "{py}");
    assert_eq!(py["sampled"], true, "{py}");

    // The transaction is sent when the response is ready; wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut envelopes = Vec::new();
    while envelopes.len() < 2 && Instant::now() < deadline {
        envelopes.extend(transport.fetch_and_clear_envelopes());
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(runtime);
    Hub::main().bind_client(None);
    envelopes.extend(transport.fetch_and_clear_envelopes());
    assert_eq!(
        envelopes.len(),
        2,
        "one error and one transaction: {envelopes:#?}"
    );
    let error_envelope = envelopes
        .iter()
        .find(|e| e.event().is_some())
        .expect("the error");
    let tx_envelope = envelopes
        .iter()
        .find(|e| e.transaction().is_some())
        .expect("Vigil followed Python's decision and sent a transaction");

    let py_trace = py["trace_id"].as_str().expect("Python's trace id");
    let py_span = py["span_id"].as_str().expect("Python's span id");
    let tx = serde_json::to_value(tx_envelope.transaction().unwrap()).unwrap();
    let tx_trace = &tx["contexts"]["trace"];
    assert_eq!(tx["transaction"], "GET /users/{id}");
    assert_eq!(tx_trace["trace_id"], py_trace, "Python's trace");
    assert_eq!(
        tx_trace["parent_span_id"], py_span,
        "Python's span is the parent"
    );
    assert_ne!(tx_trace["span_id"], py_span);

    let error = serde_json::to_value(error_envelope.event().unwrap()).unwrap();
    let error_trace = &error["contexts"]["trace"];
    assert_eq!(error["message"], "user 7 is locked");
    assert_eq!(error_trace["trace_id"], py_trace, "Python's trace");
    assert_eq!(
        error_trace["span_id"], tx_trace["span_id"],
        "inside the transaction"
    );
    assert_eq!(error_trace["parent_span_id"], py_span);

    // The DSC of both envelopes is Python's, entry for entry.
    let py_dsc: BTreeMap<String, String> =
        serde_json::from_value(py["sentry_items"].clone()).expect("Python's baggage entries");
    assert_eq!(py_dsc["public_key"], "pykey", "{py}");
    for envelope in [error_envelope, tx_envelope] {
        let dsc = string_map(&wire_dsc(envelope));
        for key in ["trace_id", "public_key", "sample_rand", "sampled"] {
            assert_eq!(
                dsc.get(key),
                py_dsc.get(key),
                "{key}: {dsc:?} vs {py_dsc:?}"
            );
        }
        assert_eq!(dsc, py_dsc, "Vigil forwards Python's DSC unchanged");
    }

    eprintln!(
        "Python -> Vigil: sentry-trace {}, baggage {}; Vigil transaction span {}, error {}; took {:?}",
        py["headers"]["sentry-trace"],
        py["headers"]["baggage"],
        tx_trace["span_id"],
        error["event_id"],
        started.elapsed()
    );
}

/// What Vigil did and what Python saw when a Vigil transaction called
/// `trace_server.py`.
struct Call {
    trace_id: String,
    span_id: String,
    headers: Vec<(&'static str, String)>,
    /// Vigil's envelopes (the transaction's, when sampled).
    envelopes: Vec<Envelope>,
    /// What the Python server answered.
    python: Value,
}

/// Starts a Vigil transaction (`traces_sample_rate` 1, or decided `false`
/// in code), makes it the scope's span and calls a Python server whose own
/// rate is `python_rate` with the scope's propagation headers.
fn vigil_calls_python(what: &str, sampled: Option<bool>, python_rate: &str) -> Option<Call> {
    let dir = common::interop_dir(what)?;
    let server = PythonServer::start(&tools_python(&dir), python_rate);
    let mut seen = None;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let mut ctx = TransactionContext::new("vigil-calls-python", "task");
            ctx.set_sampled(sampled);
            let transaction = vigil_core::start_transaction(ctx);
            vigil_core::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            let headers: Vec<(&'static str, String)> = vigil_core::configure_scope(|scope| {
                scope.iter_trace_propagation_headers().collect()
            });
            let python = get_json(&server, "/orders/7", &headers);
            vigil_core::configure_scope(|scope| scope.set_span(None));
            seen = Some(Call {
                trace_id: transaction.trace_id().to_string(),
                span_id: transaction.span_id().to_string(),
                headers,
                envelopes: Vec::new(),
                python,
            });
            transaction.finish();
        },
        ClientOptions::new().traces_sample_rate(1.0),
    );
    let mut call = seen.expect("the closure ran");
    call.envelopes = envelopes;
    Some(call)
}

impl Call {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("Vigil sent no {name}: {:?}", self.headers))
    }

    /// What both directions check: Python continued Vigil's trace under
    /// Vigil's span with Vigil's decision, and took Vigil's DSC unchanged.
    fn assert_continued(&self, sampled: bool) {
        let py = &self.python;
        let flag = if sampled { "1" } else { "0" };
        assert_eq!(
            self.header("sentry-trace"),
            format!("{}-{}-{flag}", self.trace_id, self.span_id)
        );
        assert_eq!(py["received"]["sentry-trace"], self.header("sentry-trace"));
        assert_eq!(
            py["trace_id"],
            self.trace_id.as_str(),
            "Vigil's trace: {py}"
        );
        assert_eq!(
            py["parent_span_id"],
            self.span_id.as_str(),
            "Vigil's span: {py}"
        );
        assert_eq!(py["parent_sampled"], sampled, "Vigil's decision: {py}");
        assert_eq!(py["sampled"], sampled, "Python honours it: {py}");

        let sent = sentry_entries(self.header("baggage"));
        let read = string_map(&py["sentry_items"]);
        assert_eq!(read, sent, "Python reads Vigil's DSC as sent");
        assert_eq!(read["trace_id"], self.trace_id);
        assert_eq!(read["public_key"], "public");
        assert_eq!(read["sampled"], sampled.to_string());
        assert!(read.contains_key("sample_rand"), "{read:?}");
        assert_eq!(
            py["outgoing_baggage"],
            self.header("baggage"),
            "Python sends Vigil's baggage on unchanged"
        );
    }
}

#[test]
fn a_sampled_vigil_trace_continues_in_python() {
    // Python's own rate is 0: only Vigil's decision makes it sample.
    let Some(call) = vigil_calls_python(
        "the sentry-python interop test (Vigil calls Python, sampled)",
        None,
        "0.0",
    ) else {
        return;
    };
    call.assert_continued(true);
    let py = &call.python;
    let tx_envelope = call
        .envelopes
        .iter()
        .find(|e| e.transaction().is_some())
        .expect("Vigil sent its transaction");
    let vigil_dsc = wire_dsc(tx_envelope);
    assert_eq!(
        string_map(&py["sentry_items"]),
        string_map(&vigil_dsc),
        "Python received the DSC Vigil reports to Sentry"
    );
    assert_eq!(py["transactions_sent"], 1, "{py}");
    assert_eq!(
        py["envelope_trace"], vigil_dsc,
        "Python's transaction envelope carries Vigil's DSC"
    );
    eprintln!(
        "Vigil -> Python (sampled): sent {:?}; Python: {}",
        call.headers,
        json!({"trace_id": py["trace_id"], "parent_span_id": py["parent_span_id"],
               "parent_sampled": py["parent_sampled"], "sampled": py["sampled"],
               "envelope_trace": py["envelope_trace"]})
    );
}

#[test]
fn a_sampled_out_vigil_trace_stays_unsampled_in_python() {
    // Python's own rate is 1: only Vigil's decision stops it sampling.
    let Some(call) = vigil_calls_python(
        "the sentry-python interop test (Vigil calls Python, sampled out)",
        Some(false),
        "1.0",
    ) else {
        return;
    };
    call.assert_continued(false);
    let py = &call.python;
    assert!(
        call.envelopes.iter().all(|e| e.transaction().is_none()),
        "Vigil sends no sampled-out transaction"
    );
    assert_eq!(py["transactions_sent"], 0, "{py}");
    assert_eq!(py["envelope_trace"], Value::Null, "{py}");
    eprintln!(
        "Vigil -> Python (sampled out): sent {:?}; Python: parent_sampled {}, sampled {}",
        call.headers, py["parent_sampled"], py["sampled"]
    );
}

/// One GET with `headers` to `trace_server.py`; the JSON it answers.
fn get_json(server: &PythonServer, path: &str, headers: &[(&str, String)]) -> Value {
    let mut stream = TcpStream::connect(server.addr).expect("connects to trace_server.py");
    stream.set_read_timeout(Some(PYTHON_TIMEOUT)).unwrap();
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("trace_server.py answers in time");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    assert!(
        head.contains(" 200 "),
        "trace_server.py answered: {response}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("no JSON ({e}): {body}"))
}
