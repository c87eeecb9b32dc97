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
//! the same parser (`support/python_sdk.rs`), from their wire bytes; the
//! reading and linkage checks shared with `metrics_python.rs` are in
//! `support/telemetry_diff.rs`.
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
//!   default (`Log::severity_number` is `None` from the macros). These
//!   and `process.runtime.*` are left out of sentry-python's logs only:
//!   should Vigil start sending one, the comparison fails.
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

use serde_json::Value;

#[path = "support/python_sdk.rs"]
mod python_sdk;
#[path = "support/telemetry_diff.rs"]
mod telemetry_diff;

use python_sdk::SdkEnvelopes;
use telemetry_diff::{Place, TelemetryRun};

/// The release both SDKs report.
const RELEASE: &str = "logs-diff@1.0";
/// The environment both SDKs report.
const ENVIRONMENT: &str = "test";
/// The server name both SDKs report (as `server.address`).
const SERVER_NAME: &str = "logs-diff-host";
/// The item content type of logs (D.1).
const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";
/// The prefix of the script's output lines.
const PY_PREFIX: &str = "LOGS-SCENARIO-PY";
/// Attributes only sentry-python adds by design (see the module docs).
const PYTHON_ONLY: [&str; 4] = [
    "process.runtime.name",
    "process.runtime.version",
    "sentry.severity_number",
    "sentry.severity_text",
];
/// The attribute only Vigil adds by design (see the module docs).
const VIGIL_PARENT_SPAN_ID: &str = "sentry.trace.parent_span_id";
/// The prefix of template parameters.
const PARAMETER: &str = "sentry.message.parameter.";

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

// ----- the runs -------------------------------------------------------------

/// Runs the scenario in-process with Vigil.
fn run_vigil() -> SdkEnvelopes {
    let options = vigil::ClientOptions::new()
        .release(RELEASE)
        .environment(ENVIRONMENT)
        .server_name(SERVER_NAME)
        .enable_logs(true)
        .traces_sample_rate(1.0);
    python_sdk::run_vigil(options, vigil_scenario)
}

/// Runs `tests/python/logs_scenario.py` with `python`.
fn run_python(python: &str) -> SdkEnvelopes {
    python_sdk::run_python(
        python,
        "logs_scenario.py",
        PY_PREFIX,
        &[RELEASE, ENVIRONMENT, SERVER_NAME],
    )
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

/// A log's attributes, normalized for the comparison (see the module
/// docs): `key → (type, value)`.
fn normalized_attributes(run: &TelemetryRun, index: usize) -> BTreeMap<String, (String, Value)> {
    let sdk = &run.sdk;
    let log = &run.records[index];
    let attributes = telemetry_diff::typed_attributes(run, index, &PYTHON_ONLY);
    let names = attributes
        .get("sentry.message.template")
        .map(|(_, t)| template_shape(t.as_str().expect("a string template")).1)
        .unwrap_or_default();
    let has_parent_span_id = attributes.contains_key(VIGIL_PARENT_SPAN_ID);
    let mut out = BTreeMap::new();
    for (mut key, (ty, mut value)) in attributes {
        if key == VIGIL_PARENT_SPAN_ID {
            assert_eq!(
                Some(&value),
                log.get("span_id"),
                "{sdk}: log {index}: {VIGIL_PARENT_SPAN_ID} is the span id"
            );
            continue;
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
    if log.get("span_id").is_some() && !run.python {
        assert!(
            has_parent_span_id,
            "{sdk}: log {index}: {VIGIL_PARENT_SPAN_ID} goes with span_id"
        );
    }
    out
}

/// The per-SDK checks of one log against [`SCENARIO`]: level and body.
fn check_log(run: &TelemetryRun, index: usize) {
    let sdk = &run.sdk;
    let log = &run.records[index];
    let expected = &SCENARIO[index];
    assert_eq!(log["level"], expected.level, "{sdk}: log {index}: {log}");
    let body = if run.python {
        expected.python_body.unwrap_or(expected.body)
    } else {
        expected.body
    };
    assert_eq!(log["body"], body, "{sdk}: log {index}");
}

/// Each log's normalized attributes and top-level keys.
type Normalized = (BTreeMap<String, (String, Value)>, BTreeSet<String>);

/// Checks every log of `run` against [`SCENARIO`] (level, body, trace and
/// span linkage) and normalizes it.
fn check_run(run: &TelemetryRun) -> Vec<Normalized> {
    let places: Vec<Place> = SCENARIO.iter().map(|expected| expected.place).collect();
    telemetry_diff::assert_linkage(run, &places);
    (0..SCENARIO.len())
        .map(|index| {
            check_log(run, index);
            (
                normalized_attributes(run, index),
                telemetry_diff::top_level_keys(run, index),
            )
        })
        .collect()
}

/// Both SDKs write the scenario's logs; the items must agree modulo ids,
/// timestamps and the documented differences.
#[test]
fn logs_match_sentry_python() {
    let Some((vigil, python)) =
        python_sdk::run_both("the sentry-python logs differential", run_python, run_vigil)
    else {
        return;
    };
    let vigil = telemetry_diff::read_telemetry(&vigil, "log", LOG_CONTENT_TYPE);
    let python = telemetry_diff::read_telemetry(&python, "log", LOG_CONTENT_TYPE);
    for run in [&vigil, &python] {
        eprintln!("{}: log item headers {:?}", run.sdk, run.item_headers);
        for log in &run.records {
            eprintln!("{}: {log}", run.sdk);
        }
    }

    // Item headers: the same keys and values (the count as the logs).
    telemetry_diff::assert_same_item_headers(&vigil, &python);

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
