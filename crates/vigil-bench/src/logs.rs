//! The structured-log operations (`lg1` .. `lg3f`): one log line per
//! operation, written once and captured by each SDK as a Sentry structured
//! log.
//!
//! - `lg1`: the `logger_info!` macro of each SDK (`vigil::logger_info!`,
//!   `sentry::logger_info!`, the same syntax).
//! - `lg2`, `lg2f`: a `log` record, through [`Forwarder`], the process's
//!   `log` logger, into Vigil's `VigilLogger` or `sentry-log`'s
//!   `SentryLogger`, each with a filter answering `Log` for `info` and
//!   more severe records and `Ignore` for the rest (`lg2f` logs at
//!   `debug`: filtered out by that filter).
//! - `lg3`, `lg3f`: a `tracing` event under a subscriber per SDK (see
//!   [`Subscribers`]): a `tracing_subscriber::registry()` with only that
//!   SDK's log layer, `vigil_tracing::LogLayer` or `sentry_tracing::LogLayer`,
//!   behind a per-layer `LevelFilter::INFO` (`lg3f` logs at `debug`).
//!
//! Records and events name their target (`shop::orders`): Vigil ignores
//! records of its own crates (`vigil*` targets), which this crate's module
//! path would be.
//!
//! Both SDKs start from the suite's standard scope and serializing
//! transport ([`setup_logs`]; Vigil with `enable_logs` on, `sentry` with
//! its default, on). Both keep logs in a batch that the capturing thread
//! sends as one envelope when it holds 100, so one operation in 100 pays
//! for the envelope and its serialization.
//!
//! After timing, each op empties both batches (`flush`), runs its work
//! [`CHECK_CALLS`] more times on each SDK with the envelopes kept, flushes
//! again, and reports what each sent (`vigil_work`, `sentry_work`: logs,
//! levels, whether each body carries the user id of its attribute, the
//! bench's attributes and their types, the SDK's own attribute keys) and
//! the compared fields in which they differ (`work_differs`).

use std::collections::BTreeSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tracing::Dispatch;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::ops::{Action, Env, Sdk, drive, setup_logs};
use crate::spans::Subscribers;
use crate::transports::{Mode, Observed};

/// Operations the same-work check runs per SDK: one full batch.
const CHECK_CALLS: u64 = 100;
/// Envelopes the check keeps per SDK (at most: one full batch, and the
/// rest flushed).
const CHECK_KEEP: usize = 4;
/// How long a flush of the check may wait (the bench transports send
/// synchronously, so it does not wait).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// The attributes `lg1` gives its logs (the macro's two, its template and
/// its parameter): what both SDKs must send. The rest of a log's
/// attributes are the SDK's own.
const MACRO_ATTRIBUTES: &[&str] = &[
    "user.id",
    "route",
    "sentry.message.template",
    "sentry.message.parameter.0",
];
/// The attribute `lg2` and `lg3` give their logs (the record's key-value,
/// the event's field), as [`MACRO_ATTRIBUTES`].
const RECORD_ATTRIBUTES: &[&str] = &["user_id"];

/// Sets up `op` and performs `action` on it; returns the child's report.
pub(crate) fn run(op: &str, action: Action) -> Value {
    let env = setup_logs(Mode::Serialize);
    let mut report = match op {
        "lg1" => macro_logs(action, &env),
        "lg2" => log_records(action, &env, info_record),
        "lg2f" => log_records(action, &env, debug_record),
        "lg3" => tracing_events(action, &env, info_event),
        "lg3f" => tracing_events(action, &env, debug_event),
        other => panic!("unknown operation {other}"),
    };
    if matches!(action, Action::Measure(_)) {
        report["note"] = json!(note(op));
    }
    report
}

/// What differs between the two SDKs' work in `op`, for the suite's
/// report.
fn note(op: &str) -> &'static str {
    match op {
        "lg1" => {
            "one log per call on both, batched the same way: a Mutex-guarded Vec, sent as one \
             envelope (a `log` item of 100 logs) by the capturing thread when it holds 100 (sentry \
             0.49.5: Batcher::enqueue under the client's RwLock, MAX_ITEMS = 100; both also \
             flush a partial batch from a timer thread after 5 s). Vigil's macro looks up the \
             active hub first and evaluates nothing without a client, formats the body once, \
             keeps the attribute keys static until the log's map is built, and fills trace \
             id, SDK name and version, environment and release. sentry's macro builds a \
             BTreeMap with owned keys and converts the format argument twice (attribute and \
             format!), Hub::current().capture_log clones the top stack layer, \
             Scope::apply_to_log copies the scope's user into user.name and user.email \
             (user.id is the bench's here) whatever send_default_pii says (Vigil: only with \
             send_default_pii), and the client's default attributes are cloned into each log"
        }
        "lg2" => {
            "one log per record on both, batched as in lg1. Both loggers sit behind the bench's \
             forwarding logger (one atomic load per record, the same for both) with the same \
             filter (Log for info and up). Both add the record's key-value and its target \
             (logger.target); for the code location Vigil writes code.file.path, \
             code.line.number and code.module.name, sentry-log logger.file, logger.line and \
             logger.module_path; both set sentry.origin auto.log.log. sentry also copies \
             the scope's user (user.id \"42\", user.name, user.email) into every log (Vigil: \
             only with send_default_pii), and checks its enable_logs per record"
        }
        "lg3" => {
            "one log per event on both, batched as in lg1; each SDK's LogLayer behind the same \
             per-layer LevelFilter::INFO in a registry of its own, switched once per batch. \
             The event's field becomes an attribute on both, next to each SDK's own: the \
             code location (code.file.path, code.line.number, code.module.name) and \
             sentry.origin on both, the target (logger.target) on Vigil only; sentry also \
             copies the scope's user (user.id \"42\", user.name, user.email) into every log \
             (Vigil: only with send_default_pii)"
        }
        "lg2f" => {
            "a debug record that each logger's filter turns away (log's global max level is \
             TRACE, so the record reaches the loggers, as it does when another logger wants \
             debug records). Neither sends anything; the time is the log macro, the \
             forwarding logger and each SDK's filter check"
        }
        "lg3f" => {
            "a debug event under a registry whose only layer is filtered at INFO: tracing's \
             global max level (INFO, from both registries' hints) rejects it in the macro, \
             before any subscriber or SDK code runs, so both time the same few instructions \
             and the ratio is about 1 by construction; neither sends anything"
        }
        _ => "",
    }
}

// lg1: the macros.

/// The next user id of a counter: a unique value per call.
fn next(i: &mut u64) -> u64 {
    *i += 1;
    black_box(*i)
}

/// One `lg1` operation on Vigil.
fn vigil_macro(i: &mut u64) {
    let i = next(i);
    vigil::logger_info!(user.id = i, route = "/orders", "order {} paid", i);
}

/// One `lg1` operation on `sentry`.
fn sentry_macro(i: &mut u64) {
    let i = next(i);
    sentry::logger_info!(user.id = i, route = "/orders", "order {} paid", i);
}

/// `lg1`: a log per call through each SDK's macro.
fn macro_logs(action: Action, env: &Env) -> Value {
    let (mut vi, mut si) = (0, 0);
    let mut report = drive(action, || vigil_macro(&mut vi), || sentry_macro(&mut si));
    if matches!(action, Action::Measure(_)) {
        check(
            &mut report,
            env,
            MACRO_ATTRIBUTES,
            || vigil_macro(&mut vi),
            || sentry_macro(&mut si),
        );
    }
    report
}

// lg2: the `log` crate.

/// The SDK whose logger [`Forwarder`] feeds: [`NONE`], [`VIGIL`] or
/// [`SENTRY`].
static LOGGER_SDK: AtomicU8 = AtomicU8::new(NONE);
/// [`LOGGER_SDK`]: no logger (records are dropped).
const NONE: u8 = 0;
/// [`LOGGER_SDK`]: Vigil's logger.
const VIGIL: u8 = 1;
/// [`LOGGER_SDK`]: `sentry-log`'s logger.
const SENTRY: u8 = 2;

/// The process's `log` logger (`log` has one per process): forwards each
/// call to Vigil's or `sentry-log`'s logger, as [`LOGGER_SDK`] says. Each
/// operation stores its SDK there first (one relaxed store per call, the
/// same for both SDKs), and the forwarder loads it per call.
struct Forwarder {
    /// Vigil's logger.
    vigil: vigil::log::VigilLogger,
    /// `sentry-log`'s logger.
    sentry: sentry_log::SentryLogger<sentry_log::NoopLogger>,
}

impl Forwarder {
    /// Installs the forwarder, with both loggers capturing `info` and more
    /// severe records as structured logs and ignoring the rest, and sets
    /// `log`'s global max level to `TRACE`, so that `debug` records reach
    /// the loggers' filters. Panics when a logger is already installed.
    fn install() {
        let forwarder = Forwarder {
            vigil: vigil::log::VigilLogger::new().filter(|md| {
                if md.level() <= log::Level::Info {
                    vigil::log::LogFilter::Log
                } else {
                    vigil::log::LogFilter::Ignore
                }
            }),
            sentry: sentry_log::SentryLogger::new().filter(|md| {
                if md.level() <= log::Level::Info {
                    sentry_log::LogFilter::Log
                } else {
                    sentry_log::LogFilter::Ignore
                }
            }),
        };
        log::set_boxed_logger(Box::new(forwarder)).expect("no other logger in this process");
        log::set_max_level(log::LevelFilter::Trace);
    }

    /// Makes `sdk`'s logger the one records go to.
    #[inline]
    fn select(sdk: Sdk) {
        let code = match sdk {
            Sdk::Vigil => VIGIL,
            Sdk::Sentry => SENTRY,
        };
        LOGGER_SDK.store(code, Ordering::Relaxed);
    }
}

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        match LOGGER_SDK.load(Ordering::Relaxed) {
            VIGIL => self.vigil.enabled(metadata),
            SENTRY => self.sentry.enabled(metadata),
            _ => false,
        }
    }

    fn log(&self, record: &log::Record<'_>) {
        match LOGGER_SDK.load(Ordering::Relaxed) {
            VIGIL => self.vigil.log(record),
            SENTRY => self.sentry.log(record),
            _ => {}
        }
    }

    fn flush(&self) {
        self.vigil.flush();
        self.sentry.flush();
    }
}

/// One `lg2` operation: an `info` record with a key-value.
fn info_record(i: &mut u64) {
    let i = next(i);
    log::info!(target: "shop::orders", user_id = i; "order {} paid", i);
}

/// One `lg2f` operation: a `debug` record, filtered out by both loggers.
fn debug_record(i: &mut u64) {
    let i = next(i);
    log::debug!(target: "shop::orders", user_id = i; "order {} paid", i);
}

/// `lg2`, `lg2f`: `work` (one record) into the logger of the SDK measured.
fn log_records(action: Action, env: &Env, work: fn(&mut u64)) -> Value {
    Forwarder::install();
    let (mut vi, mut si) = (0, 0);
    let mut vigil = || {
        Forwarder::select(Sdk::Vigil);
        work(&mut vi);
    };
    let mut sentry = || {
        Forwarder::select(Sdk::Sentry);
        work(&mut si);
    };
    let mut report = drive(action, &mut vigil, &mut sentry);
    if matches!(action, Action::Measure(_)) {
        check(&mut report, env, RECORD_ATTRIBUTES, vigil, sentry);
    }
    report
}

// lg3: `tracing`.

/// Each SDK's `tracing` subscriber: a registry with only its log layer,
/// filtered at `INFO`.
fn log_layer_subscribers() -> Subscribers {
    Subscribers::of(
        Dispatch::new(
            tracing_subscriber::registry()
                .with(vigil_tracing::LogLayer::new().with_filter(LevelFilter::INFO)),
        ),
        Dispatch::new(
            tracing_subscriber::registry()
                .with(sentry_tracing::LogLayer::new().with_filter(LevelFilter::INFO)),
        ),
    )
}

/// One `lg3` operation: an `info` event with a field.
fn info_event(i: &mut u64) {
    let i = next(i);
    tracing::info!(target: "shop::orders", user_id = i, "order {} paid", i);
}

/// One `lg3f` operation: a `debug` event, filtered out.
fn debug_event(i: &mut u64) {
    let i = next(i);
    tracing::debug!(target: "shop::orders", user_id = i, "order {} paid", i);
}

/// `lg3`, `lg3f`: `work` (one event) under the subscriber of the SDK
/// measured.
fn tracing_events(action: Action, env: &Env, work: fn(&mut u64)) -> Value {
    let subscribers = log_layer_subscribers();
    let (mut vi, mut si) = (0, 0);
    let mut vigil = || {
        subscribers.select(Sdk::Vigil);
        work(&mut vi);
    };
    let mut sentry = || {
        subscribers.select(Sdk::Sentry);
        work(&mut si);
    };
    let mut report = drive(action, &mut vigil, &mut sentry);
    if matches!(action, Action::Measure(_)) {
        check(&mut report, env, RECORD_ATTRIBUTES, vigil, sentry);
    }
    report
}

// The same-work check.

/// Sends Vigil's partial log batch.
fn vigil_flush() {
    vigil::flush(FLUSH_TIMEOUT);
}

/// Sends `sentry`'s partial log batch.
fn sentry_flush() {
    if let Some(client) = sentry::Hub::current().client() {
        client.flush(Some(FLUSH_TIMEOUT));
    }
}

/// Runs `vigil` and `sentry` [`CHECK_CALLS`] times each from an empty
/// batch, keeping the envelopes each sends until its batch is flushed, and
/// adds what each sent (`bench`: the attributes the op gives its logs) and
/// where they differ to `report`. Also adds the envelopes each transport
/// received while the op was timed.
fn check(
    report: &mut Value,
    env: &Env,
    bench: &[&str],
    mut vigil: impl FnMut(),
    mut sentry: impl FnMut(),
) {
    report["vigil_envelopes"] = json!(env.vigil_seen.envelopes.load(Ordering::Relaxed));
    report["sentry_envelopes"] = json!(env.sentry_seen.envelopes.load(Ordering::Relaxed));
    let kept = |seen: &Observed, flush: fn(), work: &mut dyn FnMut()| {
        flush();
        seen.keep(CHECK_KEEP);
        for _ in 0..CHECK_CALLS {
            work();
        }
        flush();
        seen.keep(0);
        describe(&seen.take_all_kept(), bench)
    };
    let v = kept(&env.vigil_seen, vigil_flush, &mut vigil);
    let s = kept(&env.sentry_seen, sentry_flush, &mut sentry);
    report["work_differs"] = json!(differences(&v, &s));
    report["vigil_work"] = v;
    report["sentry_work"] = s;
}

/// The logs in `envelopes`: how many (per [`CHECK_CALLS`] calls), their
/// levels, whether each body is `order {id} paid` with the id of its
/// `user_id` attribute (else `user.id`), how many distinct ids, the
/// `bench` attributes of the first log with their types, and the other
/// attribute keys of any log.
fn describe(envelopes: &[Vec<u8>], bench: &[&str]) -> Value {
    let mut logs = Vec::new();
    let mut items = BTreeSet::new();
    for bytes in envelopes {
        if std::env::var_os("VIGIL_BENCH_DUMP").is_some() {
            eprintln!("{}", String::from_utf8_lossy(bytes));
        }
        let mut lines = bytes
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
            .skip(1);
        while let (Some(item), Some(payload)) = (lines.next(), lines.next()) {
            let kind = item["type"].as_str().unwrap_or("?").to_owned();
            if kind == "log" {
                logs.extend(payload["items"].as_array().cloned().unwrap_or_default());
            }
            items.insert(kind);
        }
    }
    let id_of = |log: &Value| {
        let attributes = &log["attributes"];
        let id = if attributes.get("user_id").is_some() {
            &attributes["user_id"]["value"]
        } else {
            &attributes["user.id"]["value"]
        };
        id.as_u64()
            .map(|n| n.to_string())
            .or_else(|| id.as_str().map(str::to_owned))
    };
    let bodies_match = logs.iter().all(|log| {
        id_of(log).is_some_and(|id| log["body"].as_str() == Some(&format!("order {id} paid")))
    });
    let ids: BTreeSet<Option<String>> = logs.iter().map(id_of).collect();
    let levels: BTreeSet<&str> = logs.iter().filter_map(|l| l["level"].as_str()).collect();
    let bench_attributes: serde_json::Map<String, Value> = logs
        .first()
        .and_then(|log| log["attributes"].as_object())
        .into_iter()
        .flatten()
        .filter(|(k, _)| bench.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v["type"].clone()))
        .collect();
    let sdk_attributes: BTreeSet<&str> = logs
        .iter()
        .filter_map(|log| log["attributes"].as_object())
        .flat_map(|attributes| attributes.keys().map(String::as_str))
        .filter(|k| !bench.contains(k))
        .collect();
    json!({
        "calls": CHECK_CALLS,
        "envelopes": envelopes.len(),
        "items": items,
        "logs": logs.len(),
        "levels": levels,
        "bodies_match_user_id": bodies_match,
        "distinct_ids": ids.len(),
        "trace_ids": logs.iter().all(|l| l["trace_id"].is_string()),
        "bench_attributes": bench_attributes,
        "sdk_attributes": sdk_attributes,
        "first_body": logs.first().map(|l| l["body"].clone()),
        "bytes": envelopes.iter().map(Vec::len).sum::<usize>(),
    })
}

/// The compared fields in which two descriptions differ: the number of
/// logs, their levels, bodies and ids, trace ids and the bench's
/// attributes with their types; not the SDKs' own attributes or the
/// bytes (see the note).
fn differences(vigil: &Value, sentry: &Value) -> Vec<String> {
    [
        "logs",
        "levels",
        "bodies_match_user_id",
        "distinct_ids",
        "trace_ids",
        "bench_attributes",
    ]
    .into_iter()
    .filter(|field| vigil[field] != sentry[field])
    .map(str::to_owned)
    .collect()
}
