//! What records become: the exact JSON of events and breadcrumbs, the
//! filter, the mappers, levels and the guards against capturing the SDK's
//! own output. The logger is called directly (`Log::log`), so no global
//! state is touched.

use std::sync::{Arc, Mutex};

use log::{Level as LogLevel, LevelFilter, Log, Metadata, Record};
use serde_json::{Value, json};
use vigil_core::protocol::Event;
use vigil_core::test::{with_captured_events, with_captured_events_options};
use vigil_core::{ClientOptions, Hub};
use vigil_log::{LogFilter, NoLogger, VigilLogger};

/// Logs one record with a fixed location.
fn log(logger: &dyn Log, level: LogLevel, target: &str, message: &str) {
    logger.log(
        &Record::builder()
            .args(format_args!("{message}"))
            .level(level)
            .target(target)
            .module_path(Some("my_app::config"))
            .file(Some("src/config.rs"))
            .line(Some(42))
            .build(),
    );
}

/// The event as JSON with the values that change between runs replaced
/// and the SDK's identity removed.
fn json_of(event: &Event) -> Value {
    let mut json = serde_json::to_value(event).unwrap();
    let obj = json.as_object_mut().unwrap();
    assert_eq!(obj["event_id"].as_str().unwrap().len(), 32);
    obj.insert("event_id".into(), "<event_id>".into());
    assert!(obj["timestamp"].is_f64());
    obj.insert("timestamp".into(), "<timestamp>".into());
    assert_eq!(obj.remove("sdk").unwrap()["name"], "vigil.rust");
    // Filled in by the client, not by this integration; whether it is
    // written when it is the default is the protocol crate's business.
    if let Some(platform) = obj.remove("platform") {
        assert_eq!(platform, "native");
    }
    // The trace comes from the scope, not from this integration.
    if let Some(contexts) = obj.get_mut("contexts").and_then(Value::as_object_mut) {
        let trace = contexts
            .remove("trace")
            .expect("every event carries a trace");
        assert_eq!(trace["trace_id"].as_str().unwrap().len(), 32);
        if contexts.is_empty() {
            obj.remove("contexts");
        }
    }
    if let Some(crumbs) = obj.get_mut("breadcrumbs") {
        for crumb in crumbs["values"].as_array_mut().unwrap() {
            assert!(crumb["timestamp"].is_f64());
            crumb["timestamp"] = "<timestamp>".into();
        }
    }
    json
}

/// A destination that remembers what it was given.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Log for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= LogLevel::Warn
    }

    fn log(&self, record: &Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }

    fn flush(&self) {}
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn error_record_becomes_this_event() {
    let logger = VigilLogger::new();
    let events = with_captured_events(|| {
        log(
            &logger,
            LogLevel::Error,
            "my_app::config",
            "cannot open app.toml",
        );
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        json_of(&events[0]),
        json!({
            "event_id": "<event_id>",
            "level": "error",
            "message": "cannot open app.toml",
            "logger": "my_app::config",
            "timestamp": "<timestamp>",
            "environment": "production",
            "contexts": {
                "log": {"module_path": "my_app::config", "file": "src/config.rs", "line": 42}
            }
        })
    );
}

#[test]
fn warn_and_info_become_these_breadcrumbs() {
    let logger = VigilLogger::new();
    let events = with_captured_events(|| {
        log(&logger, LogLevel::Info, "my_app::db", "connected");
        log(&logger, LogLevel::Warn, "my_app::db", "slow query");
        log(&logger, LogLevel::Debug, "my_app::db", "ignored by default");
        log(&logger, LogLevel::Trace, "my_app::db", "ignored by default");
        log(&logger, LogLevel::Error, "my_app", "failed");
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        json_of(&events[0])["breadcrumbs"],
        json!({"values": [
            {"timestamp": "<timestamp>", "type": "default", "category": "my_app::db",
             "message": "connected", "level": "info"},
            {"timestamp": "<timestamp>", "type": "default", "category": "my_app::db",
             "message": "slow query", "level": "warning"},
        ]})
    );
}

#[test]
fn record_without_location_has_no_log_context() {
    let logger = VigilLogger::new();
    let events = with_captured_events(|| {
        logger.log(
            &Record::builder()
                .args(format_args!("{} + {} = {}", 1, 1, 3))
                .level(LogLevel::Error)
                .target("math")
                .build(),
        );
    });
    let json = json_of(&events[0]);
    assert_eq!(json["message"], "1 + 1 = 3");
    assert!(json.get("contexts").is_none(), "{json}");
}

#[cfg(feature = "kv")]
#[test]
fn key_values_become_extra_and_data() {
    use log::kv::Value as KvValue;
    let logger = VigilLogger::new();
    let kvs: [(&str, KvValue<'_>); 5] = [
        ("path", KvValue::from("app.toml")),
        ("attempt", KvValue::from(3u32)),
        ("ratio", KvValue::from(0.5f64)),
        ("retry", KvValue::from(true)),
        ("list", KvValue::from_debug(&[1, 2])),
    ];
    let record = |level, message: &str| {
        logger.log(
            &Record::builder()
                .args(format_args!("{message}"))
                .level(level)
                .target("my_app::config")
                .key_values(&kvs)
                .build(),
        );
    };
    let events = with_captured_events(|| {
        record(LogLevel::Warn, "retrying");
        record(LogLevel::Error, "giving up");
    });
    let json = json_of(&events[0]);
    let expected = json!({
        "attempt": 3, "list": "[1, 2]", "path": "app.toml", "ratio": 0.5, "retry": true
    });
    assert_eq!(json["extra"], expected);
    assert_eq!(
        json["breadcrumbs"]["values"][0],
        json!({"timestamp": "<timestamp>", "type": "default", "category": "my_app::config",
               "message": "retrying", "data": expected, "level": "warning"})
    );
}

#[test]
fn levels_are_mapped() {
    let logger = VigilLogger::new().filter(|_| LogFilter::Event);
    let events = with_captured_events(|| {
        for level in [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            log(&logger, level, "t", "m");
        }
    });
    let levels: Vec<_> = events.iter().map(|e| e.level.as_str()).collect();
    assert_eq!(levels, ["error", "warning", "info", "debug", "debug"]);
}

#[test]
fn custom_filter_decides() {
    let logger = VigilLogger::new()
        .filter(|md| match (md.level(), md.target()) {
            (_, "noisy") => LogFilter::Ignore,
            (LogLevel::Debug | LogLevel::Trace, "my_app::db") => LogFilter::Breadcrumb,
            (LogLevel::Warn, _) => LogFilter::Event,
            (LogLevel::Error, _) => LogFilter::EventAndBreadcrumb,
            _ => LogFilter::Ignore,
        })
        .filter_max_level(LevelFilter::Debug);
    let events = with_captured_events(|| {
        log(&logger, LogLevel::Error, "noisy", "not captured");
        log(&logger, LogLevel::Debug, "my_app::db", "query");
        log(&logger, LogLevel::Debug, "my_app::http", "not captured");
        log(&logger, LogLevel::Trace, "my_app::db", "above max_level");
        log(&logger, LogLevel::Warn, "my_app", "warned");
        log(&logger, LogLevel::Error, "my_app", "first error");
        log(&logger, LogLevel::Error, "my_app", "second error");
    });
    let messages: Vec<_> = events.iter().map(|e| e.message.clone().unwrap()).collect();
    assert_eq!(messages, ["warned", "first error", "second error"]);
    assert_eq!(events[0].level.as_str(), "warning");
    let crumbs = &events[2].breadcrumbs;
    let crumb_messages: Vec<_> = crumbs.iter().map(|c| c.message.clone().unwrap()).collect();
    // The first error left a breadcrumb pointing at its event; the second
    // error's own breadcrumb is recorded after it was captured.
    assert_eq!(crumb_messages, ["query", "first error"]);
    assert_eq!(crumbs[0].level.as_str(), "debug");
    assert_eq!(crumbs[1].event_id, Some(events[1].event_id));
    assert_eq!(crumbs[1].level.as_str(), "error");
}

#[test]
fn mappers_change_or_drop() {
    let logger = VigilLogger::new()
        .event_mapper(|record, mut event| {
            if record.target() == "drop" {
                return None;
            }
            event.fingerprint = vec![record.target().to_owned()];
            event
                .tags
                .insert("line".into(), record.line().unwrap_or(0).to_string().into());
            Some(event)
        })
        .breadcrumb_mapper(|record, mut crumb| {
            if record.target() == "drop" {
                return None;
            }
            crumb.ty = "debug".into();
            Some(crumb)
        });
    let events = with_captured_events(|| {
        log(&logger, LogLevel::Warn, "drop", "dropped crumb");
        log(&logger, LogLevel::Warn, "keep", "kept crumb");
        log(&logger, LogLevel::Error, "drop", "dropped event");
        log(&logger, LogLevel::Error, "keep", "kept event");
    });
    assert_eq!(events.len(), 1);
    let json = json_of(&events[0]);
    assert_eq!(json["message"], "kept event");
    assert_eq!(json["fingerprint"], json!(["keep"]));
    assert_eq!(json["tags"], json!({"line": "42"}));
    assert_eq!(
        json["breadcrumbs"]["values"],
        json!([{"timestamp": "<timestamp>", "type": "debug", "category": "keep",
                "message": "kept crumb", "level": "warning"}])
    );
}

#[test]
fn max_level_and_enabled_follow_filter_and_dest() {
    let md = |level| Metadata::builder().level(level).target("t").build();

    let alone = VigilLogger::new();
    assert_eq!(alone.max_level(), LevelFilter::Info);
    assert!(alone.enabled(&md(LogLevel::Error)));
    assert!(alone.enabled(&md(LogLevel::Info)));
    assert!(!alone.enabled(&md(LogLevel::Debug)));
    assert!(
        !alone.enabled(
            &Metadata::builder()
                .level(LogLevel::Error)
                .target("vigil_core")
                .build()
        )
    );

    let wrapped = VigilLogger::with_dest(Recorder::default());
    assert_eq!(wrapped.max_level(), LevelFilter::Trace);
    let wrapped = wrapped.dest_max_level(LevelFilter::Warn);
    assert_eq!(wrapped.max_level(), LevelFilter::Info);
    let wrapped = wrapped
        .filter(|_| LogFilter::Event)
        .filter_max_level(LevelFilter::Error);
    assert_eq!(wrapped.max_level(), LevelFilter::Warn);
    // Warn: only the destination wants it; info: nobody.
    assert!(wrapped.enabled(&md(LogLevel::Warn)));
    assert!(!wrapped.enabled(&md(LogLevel::Info)));

    let ignoring = VigilLogger::new().filter(|md| {
        if md.target() == "t" {
            LogFilter::Breadcrumb
        } else {
            LogFilter::Ignore
        }
    });
    assert_eq!(ignoring.max_level(), LevelFilter::Trace);
    assert!(ignoring.enabled(&md(LogLevel::Trace)));
    assert!(
        !ignoring.enabled(
            &Metadata::builder()
                .level(LogLevel::Error)
                .target("u")
                .build()
        )
    );
}

#[test]
fn every_record_is_forwarded() {
    let dest = Recorder::default();
    let logger = VigilLogger::with_dest(dest.clone());
    let events = with_captured_events(|| {
        log(&logger, LogLevel::Error, "a", "error");
        log(&logger, LogLevel::Trace, "a", "trace");
        log(&logger, LogLevel::Error, "vigil_transport", "sdk");
    });
    assert_eq!(events.len(), 1);
    // Without a client, records still reach the destination.
    log(&logger, LogLevel::Info, "a", "no client");
    assert_eq!(
        dest.lines(),
        ["ERROR error", "TRACE trace", "ERROR sdk", "INFO no client"]
    );
}

#[test]
fn records_logged_while_capturing_are_not_captured() {
    let dest = Recorder::default();
    let logger = Arc::new(VigilLogger::with_dest(dest.clone()));
    let options = ClientOptions {
        before_send: Some(Arc::new({
            let logger = logger.clone();
            move |event| {
                log(&*logger, LogLevel::Error, "my_app", "logged by before_send");
                Some(event)
            }
        })),
        before_breadcrumb: Some(Arc::new({
            let logger = logger.clone();
            move |crumb| {
                log(
                    &*logger,
                    LogLevel::Warn,
                    "my_app",
                    "logged by before_breadcrumb",
                );
                Some(crumb)
            }
        })),
        ..ClientOptions::default()
    };
    let events = with_captured_events_options(
        || {
            log(&*logger, LogLevel::Warn, "my_app", "first");
            log(&*logger, LogLevel::Error, "my_app", "second");
        },
        options,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("second"));
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone().unwrap())
        .collect();
    assert_eq!(crumbs, ["first"]);
    // The nested records were still forwarded.
    assert_eq!(
        dest.lines(),
        [
            "WARN first",
            "WARN logged by before_breadcrumb",
            "ERROR second",
            "ERROR logged by before_send"
        ]
    );
}

#[test]
fn sdk_threads_and_targets_are_never_captured() {
    let logger = Arc::new(VigilLogger::new());
    let events = with_captured_events(|| {
        let hub = Hub::current();
        let on_thread = |name: &str, message: &'static str| {
            let (hub, logger) = (hub.clone(), logger.clone());
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    Hub::run(hub, || {
                        log(&*logger, LogLevel::Error, "ureq::unit", message)
                    })
                })
                .unwrap()
                .join()
                .unwrap();
        };
        on_thread("vigil-transport", "on the transport thread");
        on_thread("worker", "on a user thread");
        log(&*logger, LogLevel::Error, "vigil", "from the facade");
        log(
            &*logger,
            LogLevel::Error,
            "vigil_core::client",
            "from the core",
        );
    });
    let messages: Vec<_> = events.iter().map(|e| e.message.clone().unwrap()).collect();
    assert_eq!(messages, ["on a user thread"]);
}

#[test]
fn panicking_callbacks_capture_nothing() {
    let dest = Recorder::default();
    let filter_panics = VigilLogger::with_dest(dest.clone()).filter(|_| panic!("filter bug"));
    let mapper_panics = VigilLogger::new().event_mapper(|_, _| panic!("mapper bug"));
    let events = with_captured_events(|| {
        log(&filter_panics, LogLevel::Error, "a", "filtered");
        log(&mapper_panics, LogLevel::Error, "a", "mapped");
        assert!(!filter_panics.enabled(&Metadata::builder().level(LogLevel::Info).build()));
    });
    assert!(events.is_empty());
    assert_eq!(dest.lines(), ["ERROR filtered"]);
}

#[test]
fn disabled_sdk_captures_nothing() {
    let logger = VigilLogger::new();
    log(&logger, LogLevel::Error, "a", "no client bound");
    assert!(logger.dest() == &NoLogger);
}
