//! Independent oracles: every envelope Vigil writes must be accepted by
//! Sentry's own Relay normalizer (`shared/interop/relay-validate.py
//! --strict`) and by the crates.io `sentry-types` envelope parser, and
//! its `session` / `sessions` items by a port of Relay's session rules
//! (`oracles/relay_sessions.rs`; no Python binding validates sessions),
//! its `log` items by a port of Relay's log rules (`oracles/relay_logs.rs`),
//! its `trace_metric` items by a port of Relay's trace-metric rules
//! (`oracles/relay_trace_metrics.rs`, exercised by
//! `trace_metric_envelopes_pass_the_oracles`; both share the attribute
//! rules of `oracles/relay_attributes.rs`) and its `check_in` items by a
//! port of Relay's check-in rules (`oracles/relay_check_ins.rs`, exercised
//! by `check_in_envelopes_pass_the_oracles`).
//!
//! `produced_envelopes_pass_both_oracles` checks a representative set made
//! here, `session_items_pass_the_oracles` the session items the envelope
//! writer produces. `every_dumped_envelope_passes_both_oracles` (ignored by
//! default) is run by `scripts/test.sh` after the whole suite, over every
//! envelope the suite wrote to `$VIGIL_ENVELOPE_DUMP_DIR`, and runs every
//! event and transaction among them through Relay's default data
//! scrubbing (`tests/python/pii_oracle.py`), which must find nothing the
//! event scrubber's defaults cover.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vigil::protocol::{
    Attachment, Breadcrumb, Context, DebugImage, Envelope, EnvelopeItem, OsContext, RuntimeContext,
    SessionAggregateItem, SessionAggregates, SessionAttributes, SessionStatus, SessionUpdate,
    Value,
};
use vigil::{EventId, Level, User};

#[path = "oracles/raw_envelope.rs"]
mod raw_envelope;
#[path = "oracles/relay_attributes.rs"]
mod relay_attributes;
#[path = "oracles/relay_check_ins.rs"]
mod relay_check_ins;
#[path = "oracles/relay_logs.rs"]
mod relay_logs;
#[path = "oracles/relay_sessions.rs"]
mod relay_sessions;
#[path = "oracles/relay_trace_metrics.rs"]
mod relay_trace_metrics;
#[path = "support/tools_python.rs"]
mod tools_python;

fn relay_validator() -> Option<PathBuf> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/relay-validate.py");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "\n\n*** SKIPPED the Relay oracle: {} not found (../shared is missing) ***\n",
            path.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("../shared/interop is required in CI");
        }
        None
    }
}

/// The discard reasons of the client-reports spec (1.20.0, `protocol.md`
/// §5), which Relay accepts.
const SPEC_DISCARD_REASONS: [&str; 14] = [
    "queue_overflow",
    "cache_overflow",
    "ratelimit_backoff",
    "network_error",
    "sample_rate",
    "before_send",
    "event_processor",
    "send_error",
    "internal_sdk_error",
    "insufficient_data",
    "backpressure",
    "buffer_overflow",
    "ignored",
    "invalid",
];

/// Spec reasons that `sentry-types` 0.49 does not model: its client-report
/// parser rejects an envelope naming one, though Relay accepts it.
const REASONS_SENTRY_TYPES_LACKS: [&str; 5] = [
    "cache_overflow",
    "insufficient_data",
    "backpressure",
    "ignored",
    "invalid",
];

/// `envelope` with every request body that is not a string (a JSON
/// object or array, which the protocol and Relay accept) written as JSON
/// text: `sentry-types` 0.49 types `request.data` as a string.
fn with_text_bodies(envelope: Envelope) -> Envelope {
    let mut adapted = Envelope::new();
    *adapted.headers_mut() = envelope.headers().clone();
    for mut item in envelope.into_items() {
        let request = match &mut item {
            EnvelopeItem::Event(event) => event.request.as_mut(),
            EnvelopeItem::Transaction(transaction) => transaction.request.as_mut(),
            _ => None,
        };
        if let Some(data) = request.and_then(|r| r.data.as_mut())
            && !data.is_string()
        {
            *data = serde_json::Value::String(data.to_string());
        }
        adapted.add_item(item);
    }
    adapted
}

/// Native debug images in the legacy form (`type: symbolic`, `name`,
/// `id`), the only one sentry-types 0.49 reads; Relay reads both, and
/// checks the `elf` form Vigil sends.
fn with_legacy_images(envelope: Envelope) -> Envelope {
    let mut adapted = Envelope::new();
    *adapted.headers_mut() = envelope.headers().clone();
    for mut item in envelope.into_items() {
        if let EnvelopeItem::Event(event) = &mut item {
            for image in &mut event.debug_meta.images {
                if let DebugImage::Elf(native) | DebugImage::MachO(native) = image {
                    let serde_json::Value::Object(mut fields) =
                        serde_json::to_value(&*native).expect("an image is JSON")
                    else {
                        unreachable!("an image is an object")
                    };
                    fields.insert("type".into(), "symbolic".into());
                    for (name, legacy) in [("code_file", "name"), ("debug_id", "id")] {
                        if let Some(value) = fields.remove(name) {
                            fields.insert(legacy.into(), value);
                        }
                    }
                    *image = DebugImage::Other(fields.into_iter().collect());
                }
            }
        }
        adapted.add_item(item);
    }
    adapted
}

/// Checks `bytes` with the `sentry-types` envelope parser. Client reports
/// are checked against the spec's reason list here; an envelope whose
/// reports name a spec reason `sentry-types` lacks is parsed by it without
/// those reports (every other item still goes through it), and a request
/// body that is JSON, not text, is given to it as text
/// ([`with_text_bodies`]). `feedback` items, which sentry-types 0.49
/// cannot read (`feedback_envelopes_pass_the_oracles` asserts that), are
/// left out; Relay's normalizer checks them instead.
fn check_with_sentry_types(bytes: &[u8], what: &str) {
    let ours = Envelope::from_slice(bytes).unwrap_or_else(|e| panic!("we cannot read {what}: {e}"));
    let mut lacking = false;
    for item in ours.items() {
        if let EnvelopeItem::ClientReport(report) = item {
            for discarded in &report.discarded_events {
                let reason = discarded.reason.as_str();
                assert!(
                    SPEC_DISCARD_REASONS.contains(&reason),
                    "{what}: client report reason {reason} is not in the spec"
                );
                lacking |= REASONS_SENTRY_TYPES_LACKS.contains(&reason);
            }
        }
    }
    let object_body = ours.items().any(|item| {
        let request = match item {
            EnvelopeItem::Event(event) => event.request.as_ref(),
            EnvelopeItem::Transaction(transaction) => transaction.request.as_ref(),
            _ => None,
        };
        request
            .and_then(|r| r.data.as_ref())
            .is_some_and(|data| !data.is_string())
    });
    let feedback = ours
        .items()
        .any(|item| matches!(item, EnvelopeItem::Feedback(_)));
    let images = ours
        .items()
        .any(|item| matches!(item, EnvelopeItem::Event(e) if !e.debug_meta.images.is_empty()));
    let (checked, ours) = if lacking || object_body || feedback || images {
        let mut adapted = ours.clone();
        if lacking {
            adapted.retain_items(|item| !matches!(item, EnvelopeItem::ClientReport(_)));
        }
        if feedback {
            adapted.retain_items(|item| !matches!(item, EnvelopeItem::Feedback(_)));
            if adapted.is_empty() {
                return;
            }
        }
        if object_body {
            adapted = with_text_bodies(adapted);
        }
        if images {
            adapted = with_legacy_images(adapted);
        }
        (adapted.to_vec().unwrap(), adapted)
    } else {
        (bytes.to_vec(), ours)
    };
    let parsed = sentry_types::protocol::v7::Envelope::from_slice(&checked)
        .unwrap_or_else(|e| panic!("sentry-types rejected {what}: {e}"));
    assert_eq!(
        parsed.items().count(),
        ours.items().len(),
        "sentry-types sees a different number of items in {what}"
    );
    if let Some(id) = ours.headers().event_id {
        assert_eq!(
            parsed.uuid().map(|u| u.simple().to_string()),
            Some(id.to_string()),
            "sentry-types sees a different event id in {what}"
        );
    }
}

/// Checks the `session` and `sessions` items of one envelope, received at
/// `received_at`, with the session oracle; returns how many it checked.
fn check_sessions(bytes: &[u8], received_at: SystemTime, what: &str) -> usize {
    relay_sessions::check_envelope_sessions(bytes, received_at)
        .unwrap_or_else(|e| panic!("the session oracle rejected {what}: {e}"))
}

fn run_relay(validator: &Path, files: &[PathBuf]) {
    for chunk in files.chunks(400) {
        let out = Command::new("python3")
            .arg(validator)
            .arg("--strict")
            .args(chunk)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "Relay rejected envelopes:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[derive(Debug)]
struct Chain(&'static str, Option<Box<Chain>>);
impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|c| c as &(dyn Error + 'static))
    }
}

fn representative_envelopes() -> Vec<Envelope> {
    vigil::test::with_captured_envelopes_options(
        || {
            vigil::configure_scope(|scope| {
                scope.set_tag("my-tag", "my value");
                scope.set_user(Some(User {
                    id: Some(42.to_string()),
                    email: Some("john.doe@example.com".into()),
                    ..Default::default()
                }));
                scope.set_extra("answer", 42.into());
                scope.set_context(
                    "os",
                    OsContext {
                        name: Some("Linux".into()),
                        version: Some("6.1".into()),
                        ..Default::default()
                    },
                );
                scope.set_context(
                    "rust",
                    Context::from(RuntimeContext {
                        name: Some("rustc".into()),
                        version: Some("1.95.0".into()),
                        ..Default::default()
                    }),
                );
                scope.set_context(
                    "custom",
                    BTreeMap::from([("k".to_owned(), Value::from("v"))]),
                );
                scope.set_fingerprint(Some(&["{{ default }}", "custom"]));
                scope.set_transaction(Some("/users/{id}"));
            });
            for i in 0..30 {
                vigil::add_breadcrumb(Breadcrumb {
                    category: Some("test".into()),
                    message: Some(format!("crumb {i}")),
                    data: BTreeMap::from([("i".to_owned(), Value::from(i))]),
                    ..Default::default()
                });
            }
            vigil::with_scope(
                |s| s.set_tag("inner", "1"),
                || vigil::capture_message("my error", Level::Error),
            );
            vigil::capture_message("my other error", Level::Warning);
            let chain = Chain(
                "request failed",
                Some(Box::new(Chain(
                    "database unavailable",
                    Some(Box::new(Chain("connection refused", None))),
                ))),
            );
            vigil::capture_error(&chain as &dyn Error);
            vigil::with_scope(
                |s| s.add_attachment(Attachment::new("log.txt", b"line 1\nline 2\n".to_vec())),
                || vigil::capture_message("with attachment", Level::Info),
            );
            vigil::capture_message(&"long ".repeat(5000), Level::Debug);
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test"),
    )
}

#[test]
fn produced_envelopes_pass_both_oracles() {
    let envelopes = representative_envelopes();
    assert_eq!(envelopes.len(), 5);
    let dir = std::env::temp_dir().join(format!("vigil-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut sessions = 0;
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        assert!(
            envelope
                .items()
                .any(|it| matches!(it, EnvelopeItem::Event(_)))
        );
        let bytes = envelope.to_vec().unwrap();
        check_with_sentry_types(&bytes, &format!("envelope {i}"));
        sessions += check_sessions(&bytes, SystemTime::now(), &format!("envelope {i}"));
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "the oracles accepted {} envelopes; the session oracle checked {sessions} session items",
        files.len()
    );
}

/// Checks the `log` items of one envelope with the log oracle; returns
/// how many logs it checked.
fn check_logs(bytes: &[u8], what: &str) -> usize {
    relay_logs::check_envelope_logs(bytes)
        .unwrap_or_else(|e| panic!("the log oracle rejected {what}: {e}"))
}

#[test]
fn log_envelopes_pass_the_oracles() {
    let envelopes = vigil::test::with_captured_envelopes_options(
        || {
            vigil::configure_scope(|scope| {
                scope.set_user(Some(User {
                    id: Some("42".into()),
                    ..Default::default()
                }));
            });
            let transaction =
                vigil::start_transaction(vigil::TransactionContext::new("import", "task"));
            vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            for i in 0..150 {
                vigil::logger_info!(row = i, ratio = 0.5, ok = true, "row {} of {}", i, 150);
            }
            vigil::logger_error!(
                ids = vec![1, 2, 3],
                big = u64::MAX,
                "import failed: {}",
                "disk full"
            );
            vigil::logger_warn!("no parameters");
            transaction.finish();
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test")
            .traces_sample_rate(1.0)
            .send_default_pii(true),
    );
    let dir = std::env::temp_dir().join(format!("vigil-oracle-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut logs = 0;
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        let bytes = envelope.to_vec().unwrap();
        let what = format!("log envelope {i}");
        check_with_sentry_types(&bytes, &what);
        logs += check_logs(&bytes, &what);
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    assert_eq!(logs, 152, "every log reached the log oracle");
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "the oracles accepted {logs} logs in {} envelopes",
        files.len()
    );
}

/// Checks the `trace_metric` items of one envelope with the trace-metric
/// oracle, printing its warnings (units Relay turns into `none`); returns
/// how many metrics it checked and how many warnings it gave.
fn check_trace_metrics(bytes: &[u8], what: &str) -> (usize, usize) {
    let checked = relay_trace_metrics::check_envelope_trace_metrics(bytes)
        .unwrap_or_else(|e| panic!("the trace-metric oracle rejected {what}: {e}"));
    for warning in &checked.warnings {
        println!("trace-metric oracle warning: {what}: {warning}");
    }
    (checked.metrics, checked.warnings.len())
}

/// How many metrics `trace_metric_envelopes_pass_the_oracles` captures.
const METRICS: usize = 250;

/// Whether metric `i` of that test has the custom unit `jobs` (a gauge
/// now and then), which Relay keeps as `none`.
fn has_custom_unit(i: usize) -> bool {
    i % 3 == 1 && i % 10 == 1
}

/// Captures metric `i` of that test: a counter, a gauge or a
/// distribution in turn, the latter two with a unit, each with an
/// attribute of every type and its number as `row`.
fn capture_test_metric(i: usize) {
    use vigil::metrics;
    use vigil::protocol::Unit;
    /// Adds an attribute of every type a metric can carry.
    macro_rules! every_attribute_type {
        ($builder:expr) => {
            $builder
                .attribute("job", "import")
                .attribute("ok", i % 2 == 0)
                .attribute("row", i as i64)
                .attribute("big", u64::MAX)
                .attribute("ratio", 0.25)
                .attribute("ids", vec![1, 2, 3])
        };
    }
    let known = [Unit::Millisecond, Unit::Byte, Unit::Percent, Unit::Kibibyte];
    let unit = known[i % known.len()].clone();
    match i % 3 {
        0 => every_attribute_type!(metrics::counter("oracle.jobs.processed", 1)).capture(),
        1 => {
            let unit = if has_custom_unit(i) {
                Unit::from("jobs")
            } else {
                unit
            };
            every_attribute_type!(metrics::gauge("oracle.queue.depth", i as f64))
                .unit(unit)
                .capture();
        }
        _ => every_attribute_type!(metrics::distribution("oracle.job.duration", i as f64 * 1.5))
            .unit(unit)
            .capture(),
    }
}

/// The trace and span a metric of `trace_metric_envelopes_pass_the_oracles`
/// was captured in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Linkage {
    /// The trace it belongs to.
    trace_id: vigil::protocol::TraceId,
    /// The span it belongs to, if one was active.
    span_id: Option<vigil::protocol::SpanId>,
}

/// 250 metrics of every type through the real SDK (units known and
/// custom, attributes of every type, outside any span, in a transaction
/// and in a child span, with the default and user attributes) reach the
/// oracles in batches of 100, 100 and 50, each linked to its trace and span.
#[test]
fn trace_metric_envelopes_pass_the_oracles() {
    use vigil::protocol::{ItemContainer, MetricType};
    // The linkage each metric is captured with, by its number.
    let mut expected: Vec<Linkage> = Vec::with_capacity(METRICS);
    let envelopes = vigil::test::with_captured_envelopes_options(
        || {
            vigil::configure_scope(|scope| {
                scope.set_user(Some(User {
                    id: Some("42".into()),
                    username: Some("jane".into()),
                    email: Some("jane@example.com".into()),
                    ..Default::default()
                }));
            });
            let outside = Linkage {
                trace_id: vigil::configure_scope(|scope| {
                    Some(scope.propagation_context().trace_id())
                })
                .unwrap(),
                span_id: None,
            };
            while expected.len() < 90 {
                capture_test_metric(expected.len());
                expected.push(outside);
            }
            let transaction =
                vigil::start_transaction(vigil::TransactionContext::new("import", "task"));
            let in_transaction = Linkage {
                trace_id: transaction.trace_id(),
                span_id: Some(transaction.span_id()),
            };
            vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            while expected.len() < 170 {
                capture_test_metric(expected.len());
                expected.push(in_transaction);
            }
            let child = transaction.start_child("db.query", "SELECT * FROM jobs");
            let in_child = Linkage {
                trace_id: child.trace_id(),
                span_id: Some(child.span_id()),
            };
            vigil::configure_scope(|scope| scope.set_span(Some(child.clone().into())));
            while expected.len() < 230 {
                capture_test_metric(expected.len());
                expected.push(in_child);
            }
            child.finish();
            vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            while expected.len() < METRICS {
                capture_test_metric(expected.len());
                expected.push(in_transaction);
            }
            transaction.finish();
            vigil::configure_scope(|scope| scope.set_span(None));
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test")
            .server_name("oracle-host")
            .traces_sample_rate(1.0)
            .send_default_pii(true),
    );
    let dir = std::env::temp_dir().join(format!("vigil-oracle-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut metrics = 0;
    let mut unit_warnings = 0;
    let mut batches = Vec::new();
    let mut seen = vec![false; METRICS];
    let mut types = BTreeMap::new();
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        let bytes = envelope.to_vec().unwrap();
        let what = format!("trace-metric envelope {i}");
        check_with_sentry_types(&bytes, &what);
        let (checked, warned) = check_trace_metrics(&bytes, &what);
        metrics += checked;
        unit_warnings += warned;
        for item in envelope.items() {
            let EnvelopeItem::ItemContainer(ItemContainer::Metrics(sent)) = item else {
                continue;
            };
            batches.push(sent.len());
            for metric in sent {
                let row = metric.attributes["row"].0.as_u64().unwrap() as usize;
                assert!(!seen[row], "metric {row} sent twice");
                seen[row] = true;
                *types.entry(metric.r#type.as_str()).or_insert(0) += 1;
                let linkage = Linkage {
                    trace_id: metric.trace_id,
                    span_id: metric.span_id,
                };
                assert_eq!(linkage, expected[row], "the trace and span of metric {row}");
                assert_eq!(
                    metric.unit.is_some(),
                    metric.r#type != MetricType::Counter,
                    "metric {row}: a unit on gauges and distributions only"
                );
                for (key, value) in [
                    ("sentry.release", "oracle@1.0.0"),
                    ("sentry.environment", "test"),
                    ("server.address", "oracle-host"),
                    ("user.id", "42"),
                    ("user.name", "jane"),
                    ("user.email", "jane@example.com"),
                ] {
                    assert_eq!(
                        metric.attributes.get(key).and_then(|a| a.0.as_str()),
                        Some(value),
                        "metric {row}: attribute {key}"
                    );
                }
                assert!(metric.attributes.contains_key("sentry.sdk.name"));
            }
        }
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    assert_eq!(
        metrics, METRICS,
        "every metric reached the trace-metric oracle"
    );
    assert_eq!(
        batches,
        [100, 100, 50],
        "metrics are sent in batches of 100"
    );
    assert!(seen.iter().all(|&s| s), "every metric was sent");
    assert_eq!(
        types,
        BTreeMap::from([("counter", 84), ("distribution", 83), ("gauge", 83)])
    );
    let custom = (0..METRICS).filter(|&i| has_custom_unit(i)).count();
    assert_eq!(
        unit_warnings, custom,
        "the oracle warns of each metric with the custom unit"
    );
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "the oracles accepted {metrics} trace metrics in {} batches ({} envelopes, with the transaction); {unit_warnings} carry a unit Relay keeps as none",
        batches.len(),
        files.len()
    );
}

/// Checks the `check_in` items of one envelope with the check-in oracle;
/// returns how many it checked.
fn check_check_ins(bytes: &[u8], what: &str) -> usize {
    relay_check_ins::check_envelope_check_ins(bytes)
        .unwrap_or_else(|e| panic!("the check-in oracle rejected {what}: {e}"))
}

#[test]
fn check_in_envelopes_pass_the_oracles() {
    use vigil::protocol::{CheckIn, CheckInStatus, IntervalUnit, MonitorConfig, MonitorSchedule};
    let envelopes = vigil::test::with_captured_envelopes_options(
        || {
            let mut config = MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").unwrap());
            config.checkin_margin = Some(5);
            config.max_runtime = Some(30);
            config.timezone = Some("Europe/Vienna".into());
            config.failure_issue_threshold = Some(2);
            config.recovery_threshold = Some(2);
            config.owner = Some("team:backend".into());
            vigil::monitor("nightly-import", Some(config), || ());
            let _ = vigil::monitor_result("hourly-sync", None, || Err::<(), _>("down"));
            let _ = std::panic::catch_unwind(|| {
                vigil::monitor("explodes", None, || panic!("job failed"));
            });
            let mut heartbeat = CheckIn::new("x".repeat(80), CheckInStatus::Ok);
            heartbeat.monitor_config = Some(MonitorConfig::new(MonitorSchedule::interval(
                10,
                IntervalUnit::Minute,
            )));
            vigil::capture_check_in(heartbeat);
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test"),
    );
    let dir = std::env::temp_dir().join(format!("vigil-oracle-check-ins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut check_ins = 0;
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        let bytes = envelope.to_vec().unwrap();
        let what = format!("check-in envelope {i}");
        check_with_sentry_types(&bytes, &what);
        check_ins += check_check_ins(&bytes, &what);
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    assert_eq!(check_ins, 7, "every check-in reached the check-in oracle");
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "the oracles accepted {check_ins} check-ins in {} envelopes",
        files.len()
    );
}

/// `at` rounded down to its minute, as aggregate buckets are.
fn minute_of(at: SystemTime) -> SystemTime {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    UNIX_EPOCH + Duration::from_secs(secs - secs % 60)
}

/// An envelope of the given items, no event.
fn envelope_of(items: impl IntoIterator<Item = EnvelopeItem>) -> Envelope {
    let mut envelope = Envelope::new();
    for item in items {
        envelope.add_item(item);
    }
    envelope
}

/// Envelopes carrying every shape of session item the writer produces:
/// an application-mode session from its first update to a crash (sent
/// with the crash event), an exited one, an abnormal one with only the
/// required fields, and request-mode aggregates.
fn session_envelopes() -> Vec<Envelope> {
    let now = SystemTime::now();
    let started = now - Duration::from_secs(42);
    let mut attrs = SessionAttributes::new("oracle@1.0.0");
    attrs.environment = Some("test".into());
    let sid = EventId::new();

    let mut first = SessionUpdate::new(sid, started, attrs.clone());
    first.init = true;
    first.distinct_id = Some("user-42".into());
    first.timestamp = Some(started);

    let mut crashed = SessionUpdate::new(sid, started, attrs.clone());
    crashed.sequence = Some(1);
    crashed.timestamp = Some(now);
    crashed.duration = Some(42.0);
    crashed.status = SessionStatus::Crashed;
    crashed.errors = 1;
    let mut crash = Envelope::from_event(vigil::Event::from_message("crash", Level::Fatal));
    crash.add_item(crashed);

    let mut exited = SessionUpdate::new(EventId::new(), started, attrs.clone());
    exited.init = true;
    exited.timestamp = Some(now);
    exited.duration = Some(42.0);
    exited.status = SessionStatus::Exited;
    exited.errors = 3;

    let mut abnormal = SessionUpdate::new(
        EventId::new(),
        started,
        SessionAttributes::new("oracle@1.0.0"),
    );
    abnormal.status = SessionStatus::Abnormal;

    let mut aggregates = SessionAggregates::new(attrs);
    let mut bucket = SessionAggregateItem::new(minute_of(started), None);
    bucket.exited = 5;
    bucket.errored = 2;
    bucket.crashed = 1;
    aggregates.aggregates.push(bucket);
    let mut with_user = SessionAggregateItem::new(minute_of(now), Some("user-42".into()));
    with_user.abnormal = 1;
    aggregates.aggregates.push(with_user);

    vec![
        envelope_of([first.into()]),
        crash,
        envelope_of([exited.into(), abnormal.into()]),
        envelope_of([aggregates.into()]),
    ]
}

#[test]
fn session_items_pass_the_oracles() {
    let dir = std::env::temp_dir().join(format!("vigil-oracle-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut sessions = 0;
    for (i, mut envelope) in session_envelopes().into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        let bytes = envelope.to_vec().unwrap();
        let what = format!("session envelope {i}");
        check_with_sentry_types(&bytes, &what);
        sessions += check_sessions(&bytes, SystemTime::now(), &what);
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    assert_eq!(sessions, 5, "every session item reached the session oracle");
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "the oracles accepted {sessions} session items in {} envelopes",
        files.len()
    );
}

#[test]
#[ignore = "run by scripts/test.sh after the suite, over every envelope it wrote"]
fn every_dumped_envelope_passes_both_oracles() {
    let dir = PathBuf::from(
        std::env::var_os("VIGIL_ENVELOPE_DUMP_DIR").expect("VIGIL_ENVELOPE_DUMP_DIR must be set"),
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "envelope"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the suite wrote no envelopes to {}",
        dir.display()
    );
    let mut sessions = 0;
    let mut logs = 0;
    let mut check_ins = 0;
    let mut metrics = 0;
    let mut unit_warnings = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let what = f.display().to_string();
        check_with_sentry_types(&bytes, &what);
        logs += check_logs(&bytes, &what);
        let (checked, warned) = check_trace_metrics(&bytes, &what);
        metrics += checked;
        unit_warnings += warned;
        check_ins += check_check_ins(&bytes, &what);
        // The dump is written when the envelope is sent (with `sent_at`
        // set just before), so the file's time stands for the receive time.
        let received_at = std::fs::metadata(f).unwrap().modified().unwrap();
        sessions += check_sessions(&bytes, received_at, &what);
    }
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
        run_data_scrubbing_oracle(&dir);
    }
    println!(
        "both oracles accepted {} envelopes; the session oracle checked {sessions} session items, the log oracle {logs} logs, the trace-metric oracle {metrics} metrics ({unit_warnings} with a unit Relay does not know), the check-in oracle {check_ins} check-ins",
        files.len()
    );
}

/// Relay's default data scrubbing over every event and transaction in
/// `dir` (`tests/python/pii_oracle.py`): it must find no value left that
/// its key-name or cookie-name rules filter, all of which the event
/// scrubber's defaults cover.
fn run_data_scrubbing_oracle(dir: &Path) {
    let Some(python) = tools_python::tools_python("Relay's data scrubbing over the dump") else {
        return;
    };
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pii_oracle.py");
    let out = Command::new(python)
        .arg(oracle)
        .arg(dir)
        .output()
        .expect("the data-scrubbing oracle runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "the data-scrubbing oracle printed no summary ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    println!("Relay's data scrubbing over the suite's payloads: {summary}");
    assert_eq!(
        summary["violation_count"], 0,
        "Relay's data scrubbing still filtered values by key or cookie name: {:#}",
        summary["violations"]
    );
}

/// Runs every `feedback` item in `files` through Relay's `StoreNormalizer`
/// (`tests/python/feedback_oracle.py`): `relay-validate.py` checks only
/// the framing and JSON of such items.
fn run_feedback_normalizer(files: &[PathBuf]) {
    let Some(python) = tools_python::tools_python("Relay's normalizer over feedback items") else {
        return;
    };
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/feedback_oracle.py");
    let out = Command::new(python)
        .arg(oracle)
        .args(files)
        .output()
        .expect("the feedback oracle runs");
    assert!(
        out.status.success(),
        "Relay's normalizer rejected a feedback:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn feedback_envelopes_pass_the_oracles() {
    let envelopes = vigil::test::with_captured_envelopes_options(
        || {
            vigil::configure_scope(|scope| {
                scope.set_tag("my-tag", "my value");
                scope.set_user(Some(User {
                    id: Some("42".into()),
                    email: Some("john.doe@example.com".into()),
                    ..Default::default()
                }));
                scope.set_context(
                    "os",
                    OsContext {
                        name: Some("Linux".into()),
                        ..Default::default()
                    },
                );
            });
            vigil::capture_message("checkout failed", Level::Error);
            let mut feedback = vigil::protocol::Feedback::new("I love session replay!");
            feedback.contact_email = Some("john@example.com".into());
            feedback.name = Some("John Smith".into());
            feedback.url = Some("https://shop.example.com/checkout?step=2".into());
            feedback.associated_event_id = vigil::last_event_id();
            assert!(!vigil::capture_feedback(feedback).is_nil());
            // At Sentry's limit: nothing left for Relay to trim.
            vigil::capture_feedback(vigil::protocol::Feedback::new("x".repeat(10_000)));
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test"),
    );
    assert_eq!(envelopes.len(), 3, "the error, then each feedback alone");
    let dir = std::env::temp_dir().join(format!("vigil-oracle-feedback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        let bytes = envelope.to_vec().unwrap();
        let what = format!("feedback envelope {i}");
        if envelope.feedback().is_some() {
            assert_eq!(envelope.items().len(), 1, "{what}: the feedback alone");
            // sentry-types 0.49 has no `feedback` item type: its envelope
            // parser rejects the item, so that oracle is skipped for
            // feedback. This fails once a version parses it, to turn the
            // check on.
            assert!(
                sentry_types::protocol::v7::Envelope::from_slice(&bytes).is_err(),
                "sentry-types now reads {what}: check it with check_with_sentry_types"
            );
        } else {
            check_with_sentry_types(&bytes, &what);
        }
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    run_feedback_normalizer(&files);
    let _ = std::fs::remove_dir_all(&dir);
    println!("the oracles accepted {} feedback envelopes", files.len());
}
