//! Cron check-ins, differential against the official Python SDK (PyPI
//! `sentry-sdk`, `sentry_sdk.crons`, in the tools venv that
//! `../shared/interop/lib/tools-venv.sh` makes): the same jobs, run by both
//! SDKs, must produce the same `check_in` items modulo ids, timestamps and
//! the fields only sentry-python sends.
//!
//! # The scenario
//!
//! Both sides init with release `check-ins-diff@1.0`, environment `test`,
//! server name `check-ins-diff-host`, `sample_rate` 0.0 (check-ins are
//! never sampled, E.1: both SDKs must still send every one) and
//! `traces_sample_rate` 1.0, then run the jobs of [`SCENARIO`] in order
//! (outside any span unless said):
//!
//! - `nightly-import`, by hand: an `in_progress` check-in, then `ok` with
//!   the first one's id and a duration of 1.5 s, both with a crontab
//!   monitor config (schedule, `checkin_margin`, `max_runtime`,
//!   `timezone`). Vigil: `vigil::capture_check_in` twice; Python:
//!   `sentry_sdk.crons.capture_checkin` twice.
//! - `queue-drain`, a job that succeeds, with an interval monitor config.
//!   Vigil: `vigil::monitor`; Python: the `monitor` context manager.
//! - `hourly-sync`, a job that fails, without a config. Vigil:
//!   `vigil::monitor_result` with an `Err`; Python: the `monitor`
//!   decorator on a function that raises (caught outside).
//! - `report-mailer`, a job that fails inside a transaction, with a
//!   crontab config that also has `failure_issue_threshold`,
//!   `recovery_threshold` and `owner`. Vigil: a `vigil::MonitorGuard`
//!   dropped by a panic (caught by `catch_unwind`); Python: the `monitor`
//!   context manager around a `raise`.
//!
//! Then the client is flushed and closed. Vigil runs in-process under
//! `vigil::test::with_captured_envelopes_options`; Python runs
//! `tests/python/check_ins_scenario.py` (no integrations, so neither side
//! captures the failures as events). Both SDKs' envelopes are read by the
//! same parser (`support/python_sdk.rs`), from their wire bytes.
//!
//! # What is compared
//!
//! - Envelopes: every check-in travels alone in its envelope (at most one
//!   per envelope, E.1), on both sides, in the order of [`SCENARIO`].
//! - Item headers: `type` `check_in`; the other keys (`length` aside) per
//!   SDK, see below.
//! - Per check-in, against [`SCENARIO`] on each side and between the sides:
//!   `monitor_slug`, `status`, `environment`, `release`, `monitor_config`
//!   (the whole object, exactly), `duration` (absent on `in_progress`; a
//!   number of seconds on `ok` and `error`: 1.5 where the scenario gives
//!   it, else measured, at least 0 and below a minute), and the set of
//!   top-level keys after the normalization below.
//! - `check_in_id`: 32 hex digits; the check-in that ends a run repeats
//!   the id of its `in_progress` check-in; runs have different ids.
//! - `contexts.trace.trace_id` (32 hex): a check-in sent in the
//!   transaction carries the transaction's trace id (read from the SDK's
//!   own `transaction` event); the others share one trace id, the scope's
//!   propagation trace, not the transaction's.
//!
//! # Normalization (exclusions and why)
//!
//! - `check_in_id`, the trace ids and `duration`'s measured values differ
//!   by nature; they are checked for shape and linkage, not compared.
//! - `type`, `event_id`, `timestamp`, `platform`, `sdk`, `server_name`:
//!   sentry-python only. It sends a check-in through `capture_event`
//!   (`[PY] crons/api.py`), which adds the event fields; none is a
//!   check-in field (E.1), and Relay, which re-serialises check-ins into
//!   its own struct, drops them. Left out of sentry-python's keys only.
//! - `duration: null`: sentry-python writes the key on `in_progress`
//!   check-ins with a `null` value, Vigil leaves it out; both mean "no
//!   duration", so a `null` duration counts as absent.
//! - `contexts.trace` beyond `trace_id`: sentry-python sends its whole
//!   trace context (`span_id`, `parent_span_id`, and in a transaction `op`,
//!   `description`, `origin`, `data`), Vigil only `trace_id`, the one key
//!   Sentry reads from a check-in (E.1). Only `trace_id` is compared, and
//!   `contexts` must hold nothing but `trace` on both sides.
//!
//! # Differences found
//!
//! - The event fields and the richer trace context above, and the `null`
//!   duration.
//! - Item header: sentry-python writes `content_type: application/json`,
//!   Vigil only `type` and `length` (E.1 asks for no extra headers; the
//!   content type is optional). Checked as such.
//! - Envelope headers: sentry-python's carry `event_id` (the check-in's
//!   `event_id`), `sent_at` and a `trace` header (the dynamic sampling
//!   context of the check-in's trace, because it goes the event path);
//!   Vigil's carry `dsn` and `sdk`, no `trace` (discrepancy 17: the trace
//!   header is for event envelopes). The test checks that sentry-python's
//!   `trace.trace_id` is the check-in's, and nothing of Vigil's headers.
//! - Neither SDK makes a transaction continue the scope's trace: the
//!   check-ins outside the transaction carry the scope's propagation trace
//!   id on both sides.
//! - Measured durations: sentry-python's `monitor` starts its clock before
//!   it sends the `in_progress` check-in, Vigil's `MonitorGuard` after it,
//!   so Python's include the capture of that check-in (a fraction of a
//!   millisecond here). Only their type and range are compared.
//!
//! Found while writing the test, outside the scenario (which sets neither
//! callback nor long slug, so both sides agree):
//!
//! - sentry-python runs `before_send` on check-ins (they go the event
//!   path) and a `None` drops them; Vigil never does, as E.1 asks, and has
//!   `before_send_check_in` instead.
//! - A slug over 50 characters: Vigil cuts it to 50 (as Relay would);
//!   sentry-python sends it whole and leaves the cut to Relay.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use vigil::protocol::{CheckIn, CheckInStatus, IntervalUnit, MonitorConfig, MonitorSchedule};

#[path = "support/python_sdk.rs"]
mod python_sdk;

use python_sdk::{SdkEnvelopes, is_hex};

/// The release both SDKs report.
const RELEASE: &str = "check-ins-diff@1.0";
/// The environment both SDKs report.
const ENVIRONMENT: &str = "test";
/// The server name both SDKs are given (only sentry-python sends it with a
/// check-in).
const SERVER_NAME: &str = "check-ins-diff-host";
/// The prefix of the script's output lines.
const PY_PREFIX: &str = "CHECK-INS-SCENARIO-PY";
/// Top-level keys only sentry-python sends (see the module docs).
const PYTHON_ONLY: [&str; 6] = [
    "type",
    "event_id",
    "timestamp",
    "platform",
    "sdk",
    "server_name",
];
/// The duration the scenario gives `nightly-import`'s `ok` check-in.
const NIGHTLY_DURATION: f64 = 1.5;

/// The duration a check-in must carry.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seconds {
    /// None (`in_progress`).
    Absent,
    /// Exactly this many seconds (given by the scenario).
    Exact(f64),
    /// Measured by the SDK: a number of seconds, at least 0.
    Measured,
}

/// Where a check-in was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Outside any span.
    Outside,
    /// In the transaction.
    Transaction,
}

/// One check-in of the scenario, as both SDKs must send it.
struct Expected {
    /// The monitor's slug.
    slug: &'static str,
    /// The wire status.
    status: &'static str,
    /// Its duration.
    duration: Seconds,
    /// The run it belongs to (the check-ins of a run share an id).
    run: usize,
    /// Where it was sent.
    place: Place,
}

/// The check-ins both sides send, in order (keep in step with
/// [`vigil_scenario`] and `tests/python/check_ins_scenario.py`).
const SCENARIO: [Expected; 8] = [
    Expected {
        slug: "nightly-import",
        status: "in_progress",
        duration: Seconds::Absent,
        run: 0,
        place: Place::Outside,
    },
    Expected {
        slug: "nightly-import",
        status: "ok",
        duration: Seconds::Exact(NIGHTLY_DURATION),
        run: 0,
        place: Place::Outside,
    },
    Expected {
        slug: "queue-drain",
        status: "in_progress",
        duration: Seconds::Absent,
        run: 1,
        place: Place::Outside,
    },
    Expected {
        slug: "queue-drain",
        status: "ok",
        duration: Seconds::Measured,
        run: 1,
        place: Place::Outside,
    },
    Expected {
        slug: "hourly-sync",
        status: "in_progress",
        duration: Seconds::Absent,
        run: 2,
        place: Place::Outside,
    },
    Expected {
        slug: "hourly-sync",
        status: "error",
        duration: Seconds::Measured,
        run: 2,
        place: Place::Outside,
    },
    Expected {
        slug: "report-mailer",
        status: "in_progress",
        duration: Seconds::Absent,
        run: 3,
        place: Place::Transaction,
    },
    Expected {
        slug: "report-mailer",
        status: "error",
        duration: Seconds::Measured,
        run: 3,
        place: Place::Transaction,
    },
];

/// The monitor config a slug's check-ins carry, as both SDKs must write
/// it (keep in step with the `*_CONFIG` of the script).
fn expected_config(slug: &str) -> Option<Value> {
    match slug {
        "nightly-import" => Some(json!({
            "schedule": {"type": "crontab", "value": "0 3 * * *"},
            "checkin_margin": 5,
            "max_runtime": 30,
            "timezone": "Europe/Vienna",
        })),
        "queue-drain" => Some(json!({
            "schedule": {"type": "interval", "value": 10, "unit": "minute"},
            "checkin_margin": 2,
            "max_runtime": 5,
        })),
        "report-mailer" => Some(json!({
            "schedule": {"type": "crontab", "value": "30 6 * * mon-fri"},
            "timezone": "UTC",
            "failure_issue_threshold": 2,
            "recovery_threshold": 3,
            "owner": "team:reports",
        })),
        _ => None,
    }
}

/// `nightly-import`'s config.
fn nightly_config() -> MonitorConfig {
    let schedule = MonitorSchedule::crontab("0 3 * * *").expect("a valid crontab");
    let mut config = MonitorConfig::new(schedule);
    config.checkin_margin = Some(5);
    config.max_runtime = Some(30);
    config.timezone = Some("Europe/Vienna".into());
    config
}

/// `queue-drain`'s config.
fn drain_config() -> MonitorConfig {
    let mut config = MonitorConfig::new(MonitorSchedule::interval(10, IntervalUnit::Minute));
    config.checkin_margin = Some(2);
    config.max_runtime = Some(5);
    config
}

/// `report-mailer`'s config.
fn mailer_config() -> MonitorConfig {
    let schedule = MonitorSchedule::crontab("30 6 * * mon-fri").expect("a valid crontab");
    let mut config = MonitorConfig::new(schedule);
    config.timezone = Some("UTC".into());
    config.failure_issue_threshold = Some(2);
    config.recovery_threshold = Some(3);
    config.owner = Some("team:reports".into());
    config
}

/// Vigil's side of the scenario.
fn vigil_scenario() {
    let mut start = CheckIn::new("nightly-import", CheckInStatus::InProgress);
    start.monitor_config = Some(nightly_config());
    let id = vigil::capture_check_in(start);
    let mut end = CheckIn::new("nightly-import", CheckInStatus::Ok);
    end.check_in_id = id;
    end.duration = Some(NIGHTLY_DURATION);
    end.monitor_config = Some(nightly_config());
    vigil::capture_check_in(end);

    vigil::monitor("queue-drain", Some(drain_config()), || ());

    let failed =
        vigil::monitor_result("hourly-sync", None, || Err::<(), _>("the upstream is down"));
    assert!(failed.is_err());

    let transaction =
        vigil::start_transaction(vigil::TransactionContext::new("send reports", "task"));
    vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = std::panic::catch_unwind(|| {
        let _run = vigil::MonitorGuard::start("report-mailer", Some(mailer_config()));
        panic!("the mail server refused");
    });
    std::panic::set_hook(hook);
    assert!(panicked.is_err(), "the job panicked");
    transaction.finish();
    vigil::configure_scope(|scope| scope.set_span(None));
}

/// Runs the scenario in-process with Vigil.
fn run_vigil() -> SdkEnvelopes {
    let options = vigil::ClientOptions::new()
        .release(RELEASE)
        .environment(ENVIRONMENT)
        .server_name(SERVER_NAME)
        .sample_rate(0.0)
        .traces_sample_rate(1.0);
    python_sdk::run_vigil(options, vigil_scenario)
}

/// Runs `tests/python/check_ins_scenario.py` with `python`.
fn run_python(python: &str) -> SdkEnvelopes {
    python_sdk::run_python(
        python,
        "check_ins_scenario.py",
        PY_PREFIX,
        &[RELEASE, ENVIRONMENT, SERVER_NAME],
    )
}

/// One check-in as one SDK sent it.
struct Sent {
    /// The payload.
    payload: Value,
    /// The item header, without `length`.
    item_header: BTreeMap<String, Value>,
    /// The header of its envelope.
    envelope_header: Value,
}

/// One SDK's check-ins and the transaction's trace id.
struct CheckInRun {
    /// The SDK and its version, for messages.
    sdk: String,
    /// Whether this is sentry-python's run.
    python: bool,
    /// The check-ins, in the order they were sent.
    check_ins: Vec<Sent>,
    /// The transaction's trace id.
    transaction_trace_id: String,
}

/// Reads one SDK's check-ins (at most one per envelope) and transaction.
fn read_run(run: &SdkEnvelopes) -> CheckInRun {
    let sdk = &run.sdk;
    let mut check_ins = Vec::new();
    let mut transaction = None;
    for envelope in &run.envelopes {
        let count = envelope
            .items
            .iter()
            .filter(|i| i.ty() == Some("check_in"))
            .count();
        assert!(count <= 1, "{sdk}: at most one check_in item per envelope");
        for item in &envelope.items {
            match item.ty() {
                Some("check_in") => {
                    let mut item_header: BTreeMap<String, Value> = item
                        .header
                        .as_object()
                        .expect("an item header object")
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    item_header.remove("length");
                    check_ins.push(Sent {
                        payload: item.json(sdk),
                        item_header,
                        envelope_header: envelope.header.clone(),
                    });
                }
                Some("transaction") => {
                    assert!(transaction.is_none(), "{sdk}: one transaction");
                    transaction = Some(item.json(sdk));
                }
                other => panic!("{sdk}: an unexpected {other:?} item"),
            }
        }
    }
    let transaction = transaction.unwrap_or_else(|| panic!("{sdk}: the transaction was not sent"));
    CheckInRun {
        sdk: sdk.clone(),
        python: run.is_python(),
        check_ins,
        transaction_trace_id: transaction["contexts"]["trace"]["trace_id"]
            .as_str()
            .expect("the transaction's trace id")
            .to_owned(),
    }
}

/// One check-in, normalized for the comparison between the SDKs.
#[derive(Debug, PartialEq)]
struct Normalized {
    /// `monitor_slug`, `status`, `environment`, `release` and
    /// `monitor_config` (`null` when absent).
    fields: [Value; 5],
    /// The duration: `null` when absent, else the scenario's value or
    /// `"measured"`.
    duration: Value,
    /// The top-level keys, without sentry-python's event fields.
    keys: BTreeSet<String>,
}

/// Checks the item header of a check-in: `type` `check_in`, and besides
/// it only sentry-python's `content_type: application/json`.
fn check_item_header(run: &CheckInRun, index: usize, header: &BTreeMap<String, Value>) {
    let mut wanted = BTreeMap::from([("type".to_owned(), Value::from("check_in"))]);
    if run.python {
        wanted.insert("content_type".to_owned(), Value::from("application/json"));
    }
    assert_eq!(
        header, &wanted,
        "{}: check-in {index}: item header",
        run.sdk
    );
}

/// Checks the ids of the check-ins: `check_in_id` shape and run linkage,
/// `contexts.trace` (only `trace_id` from Vigil) and the trace linkage.
fn check_ids(run: &CheckInRun) {
    let sdk = &run.sdk;
    let mut run_ids: BTreeMap<usize, &str> = BTreeMap::new();
    let mut outside = BTreeSet::new();
    for (index, (sent, expected)) in run.check_ins.iter().zip(&SCENARIO).enumerate() {
        let check_in = &sent.payload;
        let id = check_in["check_in_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{sdk}: check-in {index} has no id: {check_in}"));
        assert!(is_hex(id, 32), "{sdk}: check-in {index}: id {id}");
        let first = *run_ids.entry(expected.run).or_insert(id);
        assert_eq!(id, first, "{sdk}: check-in {index} repeats its run's id");

        let contexts = check_in["contexts"]
            .as_object()
            .unwrap_or_else(|| panic!("{sdk}: check-in {index} has no contexts: {check_in}"));
        let names: Vec<&str> = contexts.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["trace"],
            "{sdk}: check-in {index}: only a trace context"
        );
        let trace = contexts["trace"].as_object().expect("a trace context");
        if !run.python {
            let keys: Vec<&str> = trace.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["trace_id"],
                "{sdk}: check-in {index}: Vigil's trace context"
            );
        }
        let trace_id = trace["trace_id"].as_str().expect("a trace id");
        assert!(is_hex(trace_id, 32), "{sdk}: check-in {index}: {trace_id}");
        match expected.place {
            Place::Outside => {
                outside.insert(trace_id);
            }
            Place::Transaction => assert_eq!(
                trace_id, run.transaction_trace_id,
                "{sdk}: check-in {index} carries the transaction's trace id"
            ),
        }
        if run.python {
            assert_eq!(
                sent.envelope_header["trace"]["trace_id"], trace_id,
                "{sdk}: check-in {index}: the envelope's trace header is the check-in's trace"
            );
        }
    }
    let distinct: BTreeSet<&str> = run_ids.values().copied().collect();
    assert_eq!(
        distinct.len(),
        run_ids.len(),
        "{sdk}: each run has its own id"
    );
    assert_eq!(
        outside.len(),
        1,
        "{sdk}: the check-ins outside the transaction share one trace id"
    );
    assert!(
        !outside.contains(run.transaction_trace_id.as_str()),
        "{sdk}: the transaction starts its own trace (as both SDKs do)"
    );
}

/// Checks every check-in of `run` against [`SCENARIO`] and normalizes it.
fn check_run(run: &CheckInRun) -> Vec<Normalized> {
    let sdk = &run.sdk;
    assert_eq!(
        run.check_ins.len(),
        SCENARIO.len(),
        "{sdk}: every check-in of the scenario is sent, alone in its envelope: {:#?}",
        run.check_ins.iter().map(|s| &s.payload).collect::<Vec<_>>()
    );
    check_ids(run);
    SCENARIO
        .iter()
        .zip(&run.check_ins)
        .enumerate()
        .map(|(index, (expected, sent))| {
            check_item_header(run, index, &sent.item_header);
            let check_in = &sent.payload;
            let field = |key: &str| check_in.get(key).cloned().unwrap_or(Value::Null);
            let fields = [
                field("monitor_slug"),
                field("status"),
                field("environment"),
                field("release"),
                field("monitor_config"),
            ];
            let wanted = [
                Value::from(expected.slug),
                Value::from(expected.status),
                Value::from(ENVIRONMENT),
                Value::from(RELEASE),
                expected_config(expected.slug).unwrap_or(Value::Null),
            ];
            assert_eq!(fields, wanted, "{sdk}: check-in {index}: {check_in}");

            let duration = match (expected.duration, field("duration")) {
                (Seconds::Absent, Value::Null) => Value::Null,
                (Seconds::Exact(wanted), Value::Number(n)) if n.as_f64() == Some(wanted) => {
                    Value::from(wanted)
                }
                (Seconds::Measured, Value::Number(n))
                    if n.as_f64().is_some_and(|s| (0.0..60.0).contains(&s)) =>
                {
                    Value::from("measured")
                }
                (wanted, got) => {
                    panic!("{sdk}: check-in {index}: duration {got}, expected {wanted:?}")
                }
            };

            let keys = check_in
                .as_object()
                .expect("a check-in object")
                .iter()
                .filter(|(key, value)| {
                    let python_only = run.python && PYTHON_ONLY.contains(&key.as_str());
                    let no_duration = *key == "duration" && value.is_null();
                    !(python_only || no_duration)
                })
                .map(|(key, _)| key.clone())
                .collect();
            Normalized {
                fields,
                duration,
                keys,
            }
        })
        .collect()
}

/// Both SDKs run the scenario's jobs; the check-ins must agree modulo
/// ids, timestamps and the documented differences.
#[test]
fn check_ins_match_sentry_python() {
    let Some((vigil, python)) = python_sdk::run_both(
        "the sentry-python check-ins differential",
        run_python,
        run_vigil,
    ) else {
        return;
    };
    let vigil = read_run(&vigil);
    let python = read_run(&python);
    assert!(!vigil.python && python.python, "the runs are told apart");
    for run in [&vigil, &python] {
        for sent in &run.check_ins {
            eprintln!(
                "{}: {} {:?}\n  {}",
                run.sdk, sent.envelope_header, sent.item_header, sent.payload
            );
        }
    }

    let v = check_run(&vigil);
    let p = check_run(&python);
    for (index, (v, p)) in v.iter().zip(&p).enumerate() {
        assert_eq!(
            v, p,
            "check-in {index}: the normalized check-ins differ ({} vs {})",
            vigil.sdk, python.sdk
        );
    }
    eprintln!(
        "{} and {} agree on {} check-ins",
        vigil.sdk,
        python.sdk,
        SCENARIO.len()
    );
}
