//! Structured logs, differential against the official Python SDK (PyPI
//! `sentry-sdk`, `sentry_sdk.logger`, in the tools venv that
//! `../shared/interop/lib/tools-venv.sh` makes): the same scenario, written
//! by both SDKs, must produce the same `log` items modulo ids, timestamps
//! and SDK-specific attributes.
//!
//! # The scenario
//!
//! Both sides init with release `logs-diff@1.0`, environment `test`,
//! server name `logs-diff-host`, logs enabled and `traces_sample_rate`
//! 1.0, then write the logs of [`SCENARIO`] in order: every level (`trace`
//! to `fatal`), templates with parameters of each primitive type (string,
//! integer, double, boolean), extra attributes of each primitive type
//! (Vigil: `key.path = value` in the macro; Python: `attributes={...}`), logs
//! without parameters, one log in a transaction and one in a child span of
//! it; then the client is flushed and closed. Vigil runs in-process under
//! `vigil::test::with_captured_envelopes_options` (so its envelopes also go
//! to `$VIGIL_ENVELOPE_DUMP_DIR` for the oracles); Python runs
//! `tests/python/logs_scenario.py`, which prints every envelope as
//! sentry-sdk serializes it for the wire. Both SDKs' envelopes are read by
//! the same parser ([`parse_envelope`]), from their wire bytes.
//!
//! # What is compared
//!
//! - Envelopes: every envelope with a `log` item has exactly one (D.1) and
//!   no `trace` header, on both sides.
//! - Item headers: `type` (`log`), `content_type`
//!   (`application/vnd.sentry.items.log+json`), and `item_count` equal to the
//!   number of logs in the payload; the header keys other than `length`
//!   must be the same for both SDKs (`length` aside: see below).
//! - Payload: `items`, plus an optional `version` that must be 2.
//! - Per log, in order: `level`; `body` (against [`SCENARIO`], so a changed
//!   body fails on either side); the set of top-level keys; the attributes
//!   after the normalization below, as `key → (type, value)` maps that must
//!   be equal; `trace_id` (32 hex) and `span_id` (16 hex) linkage: a log
//!   written in the transaction carries the transaction's trace id and its
//!   root span id, the one written in the child span that span's id (both
//!   read from the SDK's own `transaction` event); logs outside carry no
//!   `span_id` and all share one trace id.
//!
//! # Normalization (exclusions and why)
//!
//! - `sentry.sdk.name`, `sentry.sdk.version`: the key and its type are
//!   compared, the value (each SDK's own name and version) is not.
//! - `process.runtime.name`, `process.runtime.version`: sentry-python only
//!   (the Python runtime, `[PY]` `set_global_attributes`); not in the spec's
//!   default attributes (D.3).
//! - `sentry.severity_number`, `sentry.severity_text`: sentry-python only; it
//!   sends the severity as attributes, the spec has the optional top-level
//!   `severity_number` (D.1, discrepancy 22). Vigil sends neither by
//!   default (`Log::severity_number` is `None` from the macros).
//! - `sentry.trace.parent_span_id`: Vigil only. Vigil keeps the span id as
//!   this attribute (the older spec's form, D.1) and writes the current
//!   top-level `span_id` too; sentry-python sends only `span_id`. The test
//!   checks that Vigil's attribute equals its `span_id` and is there exactly
//!   when `span_id` is, then drops it.
//! - `sentry.message.parameter.<x>`: Vigil's macros take positional
//!   arguments (`.0`, `.1`, …), sentry-python's logger named ones
//!   (`.item`, `.user`). Python's names are turned into positions by their
//!   order in its template; then the parameters' values and types must be
//!   equal, position by position.
//! - `sentry.message.template`: `{name}` (Python) and `{}` (Rust) are both
//!   rewritten to `{}`; the rest of the template must be equal.
//! - `server.address` is compared: both sides set `server_name` explicitly
//!   (sentry-python defaults it to the host name, Vigil leaves it unset).
//!
//! # Differences found
//!
//! - Payload `version`: sentry-python sends `{"version": 2, "items": […]}`,
//!   Vigil `{"items": […]}`; both allowed (D.1).
//! - Item header `length`: both serializers write it (D.1 does not need it
//!   for a one-line payload); its value is each SDK's payload size, so it is
//!   left out of the header comparison (the parser reads the payload by it).
//! - Envelope headers: sentry-python's log envelopes carry only `sent_at`;
//!   Vigil's carry `dsn` and `sdk` (and `sent_at` from the transport). Not
//!   compared beyond the absence of `trace`.
//! - The attribute exclusions above (`process.runtime.*`,
//!   `sentry.severity_*` Python only; `sentry.trace.parent_span_id` Vigil
//!   only) and the parameter naming.
//! - A boolean template parameter renders as `False` in Python's body and
//!   `false` in Rust's (each language's formatting); its attribute is
//!   `boolean` `false` on both. [`SCENARIO`] lists both bodies.
//! - Neither SDK makes a transaction continue the scope's trace: the logs
//!   in the transaction carry the transaction's trace id, the others the
//!   scope's propagation trace id, on both sides (the test requires the
//!   two ids to differ on both, as both do).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "support/tools_python.rs"]
mod tools_python;

/// The release both SDKs report.
const RELEASE: &str = "logs-diff@1.0";
/// The environment both SDKs report.
const ENVIRONMENT: &str = "test";
/// The server name both SDKs report (as `server.address`).
const SERVER_NAME: &str = "logs-diff-host";
/// The item content type of logs (D.1).
const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";
/// How long the Python process may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// The prefix of the script's header line.
const PY_HEADER: &str = "LOGS-SCENARIO-PY ";
/// The prefix of the script's envelope lines.
const PY_ENVELOPE: &str = "LOGS-SCENARIO-PY-ENVELOPE ";
/// Environment variables either SDK would read as options.
const SDK_ENV: [&str; 7] = [
    "SENTRY_DSN",
    "SENTRY_RELEASE",
    "SENTRY_ENVIRONMENT",
    "SENTRY_SAMPLE_RATE",
    "SENTRY_DEBUG",
    "SENTRY_TRACE",
    "SENTRY_BAGGAGE",
];
/// Attributes only sentry-python adds by design (see the module docs).
const PYTHON_ONLY: [&str; 4] = [
    "process.runtime.name",
    "process.runtime.version",
    "sentry.severity_number",
    "sentry.severity_text",
];
/// The attribute only Vigil adds by design (see the module docs).
const VIGIL_PARENT_SPAN_ID: &str = "sentry.trace.parent_span_id";
/// Attributes whose key and type are compared but not their value.
const SDK_VALUED: [&str; 2] = ["sentry.sdk.name", "sentry.sdk.version"];
/// The prefix of template parameters.
const PARAMETER: &str = "sentry.message.parameter.";

/// Where a log of the scenario was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Outside any span.
    Outside,
    /// In the transaction (its root span).
    Transaction,
    /// In the transaction's child span.
    Child,
}

/// One log of the scenario, as both SDKs must send it.
struct Expected {
    /// The wire level.
    level: &'static str,
    /// The body Vigil sends.
    body: &'static str,
    /// The body sentry-python sends, where the languages format a value
    /// differently; else `body`.
    python_body: Option<&'static str>,
    /// Where it was written.
    place: Place,
}

/// The logs both sides write, in order (keep in step with [`vigil_scenario`]
/// and `tests/python/logs_scenario.py`).
const SCENARIO: [Expected; 8] = [
    Expected {
        level: "info",
        body: "Adding item 7 for user bob",
        python_body: None,
        place: Place::Outside,
    },
    Expected {
        level: "warn",
        body: "Low stock for A-1: 3 left",
        python_body: None,
        place: Place::Outside,
    },
    Expected {
        level: "error",
        body: "Payment failed",
        python_body: None,
        place: Place::Outside,
    },
    Expected {
        level: "debug",
        body: "Took 12.5 ms, cached false",
        python_body: Some("Took 12.5 ms, cached False"),
        place: Place::Outside,
    },
    Expected {
        level: "trace",
        body: "Tick",
        python_body: None,
        place: Place::Outside,
    },
    Expected {
        level: "info",
        body: "Checkout for bob",
        python_body: None,
        place: Place::Transaction,
    },
    Expected {
        level: "info",
        body: "Loaded 3 rows",
        python_body: None,
        place: Place::Child,
    },
    Expected {
        level: "fatal",
        body: "Shutting down after 2 errors",
        python_body: None,
        place: Place::Outside,
    },
];

/// Vigil's side of the scenario.
fn vigil_scenario() {
    vigil::logger_info!("Adding item {} for user {}", 7, "bob");
    vigil::logger_warn!(
        stock.warehouse = "north",
        stock.count = 3,
        stock.ratio = 0.25,
        stock.reorder = true,
        "Low stock for {}: {} left",
        "A-1",
        3
    );
    vigil::logger_error!("Payment failed");
    vigil::logger_debug!("Took {} ms, cached {}", 12.5, false);
    vigil::logger_trace!("Tick");
    let transaction = vigil::start_transaction(vigil::TransactionContext::new("checkout", "task"));
    vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
    vigil::logger_info!("Checkout for {}", "bob");
    let child = transaction.start_child("db.query", "load cart");
    vigil::configure_scope(|scope| scope.set_span(Some(child.clone().into())));
    vigil::logger_info!(db.system = "sqlite", "Loaded {} rows", 3);
    child.finish();
    vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
    transaction.finish();
    vigil::configure_scope(|scope| scope.set_span(None));
    vigil::logger_fatal!(shutdown.clean = false, "Shutting down after {} errors", 2);
}

// ----- envelopes ----------------------------------------------------------

/// One envelope item as it was on the wire.
struct WireItem {
    /// The item header.
    header: Value,
    /// The payload bytes.
    payload: Vec<u8>,
}

/// One envelope as it was on the wire.
struct WireEnvelope {
    /// The envelope header.
    header: Value,
    /// The items, in order.
    items: Vec<WireItem>,
}

/// Splits `bytes` at the first newline (the rest after it).
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// Parses an envelope in the wire format: a header line, then per item a
/// header line and a payload of `length` bytes or up to the next newline.
fn parse_envelope(bytes: &[u8], sdk: &str) -> WireEnvelope {
    let (line, mut rest) = split_line(bytes);
    let header: Value =
        serde_json::from_slice(line).unwrap_or_else(|e| panic!("{sdk}: bad envelope header ({e})"));
    let mut items = Vec::new();
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        if line.is_empty() {
            rest = after;
            continue;
        }
        let header: Value =
            serde_json::from_slice(line).unwrap_or_else(|e| panic!("{sdk}: bad item header ({e})"));
        let payload = match header.get("length").and_then(Value::as_u64) {
            Some(length) => {
                let length = usize::try_from(length).expect("a length");
                assert!(after.len() >= length, "{sdk}: item shorter than its length");
                let (payload, after) = after.split_at(length);
                rest = after.strip_prefix(b"\n").unwrap_or(after);
                payload
            }
            None => {
                let (payload, after) = split_line(after);
                rest = after;
                payload
            }
        };
        items.push(WireItem {
            header,
            payload: payload.to_vec(),
        });
    }
    WireEnvelope { header, items }
}

/// One SDK's run, read from its envelopes.
struct SdkRun {
    /// The SDK and its version, for messages.
    sdk: String,
    /// The logs, in the order they were sent.
    logs: Vec<Value>,
    /// The headers of the `log` items, without `length`.
    item_headers: Vec<BTreeMap<String, Value>>,
    /// The transaction's trace id.
    transaction_trace_id: String,
    /// The transaction's root span id.
    transaction_span_id: String,
    /// The child span's id.
    child_span_id: String,
}

/// Reads one SDK's envelopes, checking the envelope and item rules of D.1
/// on the way.
fn read_run(sdk: String, envelopes: &[Vec<u8>]) -> SdkRun {
    let mut logs = Vec::new();
    let mut item_headers = Vec::new();
    let mut transaction = None;
    for bytes in envelopes {
        let envelope = parse_envelope(bytes, &sdk);
        let log_items: Vec<&WireItem> = envelope
            .items
            .iter()
            .filter(|item| item.header["type"] == "log")
            .collect();
        if !log_items.is_empty() {
            assert_eq!(log_items.len(), 1, "{sdk}: one log item per envelope");
            assert!(
                envelope.header.get("trace").is_none(),
                "{sdk}: a log envelope carries no trace header: {}",
                envelope.header
            );
        }
        for item in &envelope.items {
            let payload: Value = serde_json::from_slice(&item.payload)
                .unwrap_or_else(|e| panic!("{sdk}: a non-JSON payload ({e})"));
            match item.header["type"].as_str() {
                Some("log") => {
                    let mut header: BTreeMap<String, Value> = item
                        .header
                        .as_object()
                        .expect("an item header object")
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    header.remove("length");
                    assert_eq!(header["content_type"], LOG_CONTENT_TYPE, "{sdk}");
                    let object = payload.as_object().expect("a log payload object");
                    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
                    assert!(
                        keys.iter().all(|k| ["items", "version"].contains(k)),
                        "{sdk}: payload keys {keys:?}"
                    );
                    if let Some(version) = object.get("version") {
                        assert_eq!(version, 2, "{sdk}: payload version");
                    }
                    let items = object["items"].as_array().expect("an items array");
                    assert_eq!(
                        header["item_count"],
                        items.len(),
                        "{sdk}: item_count counts the logs"
                    );
                    logs.extend(items.iter().cloned());
                    item_headers.push(header);
                }
                Some("transaction") => {
                    assert!(transaction.is_none(), "{sdk}: one transaction");
                    transaction = Some(payload);
                }
                _ => {}
            }
        }
    }
    let transaction = transaction.unwrap_or_else(|| panic!("{sdk}: the transaction was not sent"));
    let text = |value: &Value| value.as_str().expect("an id string").to_owned();
    let trace = &transaction["contexts"]["trace"];
    let spans = transaction["spans"].as_array().expect("the spans");
    assert_eq!(spans.len(), 1, "{sdk}: one child span");
    SdkRun {
        sdk,
        logs,
        item_headers,
        transaction_trace_id: text(&trace["trace_id"]),
        transaction_span_id: text(&trace["span_id"]),
        child_span_id: text(&spans[0]["span_id"]),
    }
}

/// Runs the scenario in-process with Vigil.
fn run_vigil() -> SdkRun {
    let options = vigil::ClientOptions::new()
        .release(RELEASE)
        .environment(ENVIRONMENT)
        .server_name(SERVER_NAME)
        .enable_logs(true)
        .traces_sample_rate(1.0);
    let envelopes = vigil::test::with_captured_envelopes_options(vigil_scenario, options);
    let bytes: Vec<Vec<u8>> = envelopes
        .iter()
        .map(|e| e.to_vec().expect("the envelope serializes"))
        .collect();
    read_run(format!("vigil {}", env!("CARGO_PKG_VERSION")), &bytes)
}

/// Runs `tests/python/logs_scenario.py` with `python`.
fn run_python(python: &str) -> SdkRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/logs_scenario.py");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args([RELEASE, ENVIRONMENT, SERVER_NAME])
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for name in SDK_ENV {
        command.env_remove(name);
    }
    let (success, stdout, stderr) = run(command);
    let context = || format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(success, "the Python scenario failed; {}", context());
    let header: Value = stdout
        .lines()
        .find_map(|line| line.strip_prefix(PY_HEADER))
        .map(|json| serde_json::from_str(json).expect("a JSON header"))
        .unwrap_or_else(|| panic!("the script printed no header; {}", context()));
    let envelopes: Vec<Vec<u8>> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix(PY_ENVELOPE))
        .map(|b64| base64_decode(b64.trim()))
        .collect();
    read_run(
        format!(
            "sentry-python {}",
            header["version"].as_str().unwrap_or("(unknown version)")
        ),
        &envelopes,
    )
}

/// Decodes standard base64 (with padding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:?}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u32> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| value(c))
            .collect();
        let n = digits.iter().fold(0u32, |acc, d| (acc << 6) | d) << (6 * (4 - digits.len()));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..digits.len()]);
    }
    out
}

/// Runs `command` to its end, at most [`CHILD_TIMEOUT`]: whether it
/// succeeded, its stdout and its stderr.
fn run(mut command: Command) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not end within {CHILD_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    (
        status.success(),
        stdout.join().expect("stdout read"),
        stderr.join().expect("stderr read"),
    )
}

/// The python of the tools venv; `None` (after a loud `SKIPPED` line) only
/// when `../shared` does not exist outside CI. Once `../shared` is there, a
/// missing venv script fails.
fn python() -> Option<String> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let what = "the sentry-python logs differential";
    if shared.is_dir() {
        let script = shared.join("interop/lib/tools-venv.sh");
        assert!(script.is_file(), "{} is missing", script.display());
        let python = tools_python::tools_python(what);
        assert!(python.is_some(), "the tools venv script exists");
        python
    } else {
        tools_python::tools_python(what)
    }
}

// ----- comparison -----------------------------------------------------------

/// A template with every `{…}` placeholder written `{}`, and the names
/// inside the placeholders, in order.
fn template_shape(template: &str) -> (String, Vec<String>) {
    let mut shape = String::new();
    let mut names = Vec::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        shape.push(c);
        if c == '{' {
            let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
            names.push(name);
            shape.push('}');
        }
    }
    (shape, names)
}

/// Whether `text` is `len` lowercase hex digits.
fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A log's attributes, normalized for the comparison (see the module
/// docs): `key → (type, value)`.
fn normalized_attributes(run: &SdkRun, index: usize) -> BTreeMap<String, (String, Value)> {
    let sdk = &run.sdk;
    let log = &run.logs[index];
    let attributes = log["attributes"]
        .as_object()
        .unwrap_or_else(|| panic!("{sdk}: log {index} has no attributes: {log}"));
    let template = attributes
        .get("sentry.message.template")
        .map(|t| t["value"].as_str().expect("a string template").to_owned());
    let names = template
        .as_deref()
        .map(|t| template_shape(t).1)
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for (key, typed) in attributes {
        let ty = typed["type"]
            .as_str()
            .unwrap_or_else(|| panic!("{sdk}: untyped attribute {key}: {typed}"))
            .to_owned();
        let mut value = typed["value"].clone();
        let mut key = key.clone();
        if PYTHON_ONLY.contains(&key.as_str()) {
            continue;
        }
        if key == VIGIL_PARENT_SPAN_ID {
            assert_eq!(
                Some(&value),
                log.get("span_id"),
                "{sdk}: log {index}: {VIGIL_PARENT_SPAN_ID} is the span id"
            );
            continue;
        }
        if SDK_VALUED.contains(&key.as_str()) {
            value = Value::Null;
        }
        if key == "sentry.message.template" {
            value = Value::from(template_shape(value.as_str().expect("a string")).0);
        }
        if let Some(suffix) = key.strip_prefix(PARAMETER) {
            let position = if suffix.bytes().all(|b| b.is_ascii_digit()) {
                suffix.to_owned()
            } else {
                names
                    .iter()
                    .position(|name| name == suffix)
                    .map_or_else(|| suffix.to_owned(), |i| i.to_string())
            };
            key = format!("{PARAMETER}#{position}");
        }
        out.insert(key, (ty, value));
    }
    if log.get("span_id").is_some() && sdk.starts_with("vigil") {
        assert!(
            attributes.contains_key(VIGIL_PARENT_SPAN_ID),
            "{sdk}: log {index}: {VIGIL_PARENT_SPAN_ID} goes with span_id"
        );
    }
    out
}

/// The per-SDK checks of one log against [`SCENARIO`]: level, body, ids and
/// their linkage.
fn check_log(run: &SdkRun, index: usize, outside_trace_id: &str) {
    let sdk = &run.sdk;
    let log = &run.logs[index];
    let expected = &SCENARIO[index];
    assert_eq!(log["level"], expected.level, "{sdk}: log {index}: {log}");
    let body = if sdk.starts_with("sentry-python") {
        expected.python_body.unwrap_or(expected.body)
    } else {
        expected.body
    };
    assert_eq!(log["body"], body, "{sdk}: log {index}");
    let trace_id = log["trace_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{sdk}: log {index} has no trace_id: {log}"));
    assert!(is_hex(trace_id, 32), "{sdk}: log {index}: {trace_id}");
    let span_id = log.get("span_id").map(|s| s.as_str().expect("a string"));
    if let Some(span_id) = span_id {
        assert!(is_hex(span_id, 16), "{sdk}: log {index}: {span_id}");
    }
    match expected.place {
        Place::Outside => {
            assert_eq!(trace_id, outside_trace_id, "{sdk}: log {index}");
            assert_eq!(span_id, None, "{sdk}: log {index} is outside any span");
        }
        Place::Transaction => {
            assert_eq!(trace_id, run.transaction_trace_id, "{sdk}: log {index}");
            assert_eq!(
                span_id,
                Some(run.transaction_span_id.as_str()),
                "{sdk}: log {index} carries the transaction's span id"
            );
        }
        Place::Child => {
            assert_eq!(trace_id, run.transaction_trace_id, "{sdk}: log {index}");
            assert_eq!(
                span_id,
                Some(run.child_span_id.as_str()),
                "{sdk}: log {index} carries the child span's id"
            );
        }
    }
}

/// The per-SDK checks of all logs; returns each log's normalized
/// attributes and top-level keys.
type Normalized = (BTreeMap<String, (String, Value)>, BTreeSet<String>);

/// Checks every log of `run` against [`SCENARIO`] and normalizes it.
fn check_run(run: &SdkRun) -> Vec<Normalized> {
    let sdk = &run.sdk;
    assert_eq!(
        run.logs.len(),
        SCENARIO.len(),
        "{sdk}: every log of the scenario is sent: {:#?}",
        run.logs
    );
    let outside: BTreeSet<&str> = SCENARIO
        .iter()
        .zip(&run.logs)
        .filter(|(expected, _)| expected.place == Place::Outside)
        .map(|(_, log)| log["trace_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        outside.len(),
        1,
        "{sdk}: the logs outside the transaction share one trace id"
    );
    let outside_trace_id = outside.first().copied().unwrap_or_default();
    assert_ne!(
        outside_trace_id, run.transaction_trace_id,
        "{sdk}: the transaction starts its own trace (as both SDKs do)"
    );
    (0..SCENARIO.len())
        .map(|index| {
            check_log(run, index, outside_trace_id);
            let keys = run.logs[index]
                .as_object()
                .expect("a log object")
                .keys()
                .cloned()
                .collect();
            (normalized_attributes(run, index), keys)
        })
        .collect()
}

#[test]
fn logs_match_sentry_python() {
    let Some(python) = python() else {
        return;
    };
    let (vigil, python) = thread::scope(|s| {
        let py = s.spawn(|| run_python(&python));
        let vigil = run_vigil();
        (vigil, py.join().expect("the Python run"))
    });
    for run in [&vigil, &python] {
        eprintln!("{}: log item headers {:?}", run.sdk, run.item_headers);
        for log in &run.logs {
            eprintln!("{}: {log}", run.sdk);
        }
    }

    // Item headers: the same keys and values (the count as the logs).
    let shape = |run: &SdkRun| -> Vec<(String, Value)> {
        let mut shape: Vec<(String, Value)> = run
            .item_headers
            .iter()
            .flat_map(|h| h.iter().filter(|(k, _)| *k != "item_count"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        shape.sort_by(|a, b| a.0.cmp(&b.0));
        shape.dedup();
        shape
    };
    assert!(!vigil.item_headers.is_empty(), "{}: no log item", vigil.sdk);
    assert_eq!(
        shape(&vigil),
        shape(&python),
        "the log item headers differ (item_count aside)"
    );

    let v = check_run(&vigil);
    let p = check_run(&python);
    for (index, ((v_attrs, v_keys), (p_attrs, p_keys))) in v.iter().zip(&p).enumerate() {
        assert_eq!(
            v_keys, p_keys,
            "log {index}: the top-level keys differ ({} vs {})",
            vigil.sdk, python.sdk
        );
        assert_eq!(
            v_attrs, p_attrs,
            "log {index}: the normalized attributes differ ({} vs {})",
            vigil.sdk, python.sdk
        );
    }
    eprintln!(
        "{} and {} agree on {} logs",
        vigil.sdk,
        python.sdk,
        SCENARIO.len()
    );
}
