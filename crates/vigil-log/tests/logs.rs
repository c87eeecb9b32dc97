//! Records as structured logs: `LogFilter::Log`, the default filter with
//! and without `enable_logs`, the attributes and their types, the levels,
//! and the guards against capturing the SDK's own output. The logger is
//! called directly (`Log::log`), so no global state is touched.

use std::sync::Arc;

use log::{Level, Log as _, Metadata, Record};
use vigil_core::protocol::{
    Envelope, EnvelopeItem, Event, ItemContainer, Log, LogAttribute, LogLevel,
};
use vigil_core::test::with_captured_envelopes_options;
use vigil_core::{ClientOptions, Hub};
use vigil_log::{LogFilter, VigilLogger, default_filter};

/// Logs one record with a fixed location and no key-values.
fn log(logger: &dyn log::Log, level: Level, target: &str, message: &str) {
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

/// The structured logs of the envelopes, in order.
fn logs_of(envelopes: &[Envelope]) -> Vec<Log> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The events of the envelopes, in order.
fn events_of(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .filter_map(Envelope::event)
        .cloned()
        .collect()
}

fn bodies(logs: &[Log]) -> Vec<&str> {
    logs.iter().map(|log| log.body.as_str()).collect()
}

fn only_logs() -> VigilLogger {
    VigilLogger::new().filter(|_| LogFilter::Log)
}

#[test]
fn log_filter_captures_a_log_without_enable_logs() {
    let logger = only_logs();
    let envelopes = with_captured_envelopes_options(
        || {
            logger.log(
                &Record::builder()
                    .args(format_args!("order {} paid", 7))
                    .level(Level::Info)
                    .target("my_app::billing")
                    .module_path(Some("my_app::billing::pay"))
                    .file(Some("src/billing/pay.rs"))
                    .line(Some(42))
                    .key_values(&[("user_id", 42)])
                    .build(),
            );
        },
        ClientOptions::new(),
    );
    // One envelope: the log batch, and no event.
    assert_eq!(envelopes.len(), 1);
    assert!(events_of(&envelopes).is_empty());
    let logs = logs_of(&envelopes);
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Info);
    assert_eq!(log.body, "order 7 paid");
    assert!(log.trace_id.is_some(), "the client fills the trace");
    let a = &log.attributes;
    assert_eq!(a["user_id"], LogAttribute::from(42));
    assert_eq!(a["logger.target"], LogAttribute::from("my_app::billing"));
    assert_eq!(
        a["code.module.name"],
        LogAttribute::from("my_app::billing::pay")
    );
    assert_eq!(
        a["code.file.path"],
        LogAttribute::from("src/billing/pay.rs")
    );
    assert_eq!(a["code.line.number"], LogAttribute::from(42));
    assert_eq!(a["sentry.origin"], LogAttribute::from("auto.log.log"));
    // Added by the client.
    assert_eq!(a["sentry.sdk.name"], LogAttribute::from("vigil.rust"));
    assert!(a.contains_key("sentry.environment"));
}

#[test]
fn attribute_types() {
    #[derive(Debug)]
    struct Point {
        x: i32,
    }
    let point = Point { x: 3 };
    let error = std::io::Error::other("disk full");
    let logger = only_logs();
    let envelopes = with_captured_envelopes_options(
        || {
            let kvs: [(&str, log::kv::Value<'_>); 12] = [
                ("int", 42.into()),
                ("negative", (-7i64).into()),
                ("big", u64::MAX.into()),
                ("huge", u128::MAX.into()),
                ("float", 1.5.into()),
                ("nan", f64::NAN.into()),
                ("flag", true.into()),
                ("text", "abc123".into()),
                ("char", 'c'.into()),
                ("debug", log::kv::Value::from_debug(&point)),
                ("display", log::kv::Value::from_display(&error)),
                ("null", log::kv::Value::null()),
            ];
            logger.log(
                &Record::builder()
                    .args(format_args!("typed"))
                    .level(Level::Warn)
                    .target("app")
                    .key_values(&kvs)
                    .build(),
            );
        },
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    assert_eq!(logs.len(), 1);
    let typed: Vec<(String, serde_json::Value)> = [
        "int", "negative", "big", "huge", "float", "nan", "flag", "text", "char", "debug",
        "display", "null",
    ]
    .iter()
    .map(|key| {
        let json = serde_json::to_value(&logs[0].attributes[*key]).unwrap();
        (
            json["type"].as_str().unwrap().to_owned(),
            json["value"].clone(),
        )
    })
    .collect();
    let expected: Vec<(String, serde_json::Value)> = [
        ("integer", serde_json::json!(42)),
        ("integer", serde_json::json!(-7)),
        ("string", serde_json::json!(u64::MAX.to_string())),
        ("string", serde_json::json!(u128::MAX.to_string())),
        ("double", serde_json::json!(1.5)),
        ("string", serde_json::json!("NaN")),
        ("boolean", serde_json::json!(true)),
        ("string", serde_json::json!("abc123")),
        ("string", serde_json::json!("c")),
        ("string", serde_json::json!("Point { x: 3 }")),
        ("string", serde_json::json!("disk full")),
        ("string", serde_json::json!("None")),
    ]
    .into_iter()
    .map(|(ty, value)| (ty.to_owned(), value))
    .collect();
    assert_eq!(typed, expected);
    assert_eq!(point.x, 3);
}

#[test]
fn levels_are_mapped() {
    let logger = only_logs();
    let envelopes = with_captured_envelopes_options(
        || {
            for level in [
                Level::Error,
                Level::Warn,
                Level::Info,
                Level::Debug,
                Level::Trace,
            ] {
                log(&logger, level, "app", level.as_str());
            }
        },
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    let levels: Vec<_> = logs
        .iter()
        .map(|log| (log.body.as_str(), log.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("ERROR", LogLevel::Error),
            ("WARN", LogLevel::Warn),
            ("INFO", LogLevel::Info),
            ("DEBUG", LogLevel::Debug),
            ("TRACE", LogLevel::Trace),
        ]
    );
}

#[test]
fn default_filter_with_enable_logs() {
    let logger = VigilLogger::new();
    let envelopes = with_captured_envelopes_options(
        || {
            for level in [
                Level::Error,
                Level::Warn,
                Level::Info,
                Level::Debug,
                Level::Trace,
            ] {
                log(&logger, level, "app", level.as_str());
            }
        },
        ClientOptions::new().enable_logs(true),
    );
    assert_eq!(bodies(&logs_of(&envelopes)), ["ERROR", "WARN", "INFO"]);
    // The events and breadcrumbs are those of the default filter still.
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("ERROR"));
    assert!(events[0].breadcrumbs.is_empty());
}

#[test]
fn default_filter_without_enable_logs() {
    let logger = VigilLogger::new();
    let envelopes = with_captured_envelopes_options(
        || {
            log(&logger, Level::Info, "app", "info");
            log(&logger, Level::Error, "app", "error");
        },
        ClientOptions::new(),
    );
    assert!(logs_of(&envelopes).is_empty());
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("info"));
}

#[test]
fn default_filter_follows_the_current_client() {
    let metadata = |level| Metadata::builder().level(level).target("app").build();
    let answers = || {
        [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ]
        .map(|level| default_filter(&metadata(level)))
    };
    let without_client = answers();
    let mut with_logs = None;
    with_captured_envelopes_options(
        || with_logs = Some(answers()),
        ClientOptions::new().enable_logs(true),
    );
    let mut without_logs = None;
    with_captured_envelopes_options(|| without_logs = Some(answers()), ClientOptions::new());

    let plain = [
        LogFilter::Event,
        LogFilter::Breadcrumb,
        LogFilter::Breadcrumb,
        LogFilter::Ignore,
        LogFilter::Ignore,
    ];
    assert_eq!(without_client, plain);
    assert_eq!(without_logs.unwrap(), plain);
    assert_eq!(
        with_logs.unwrap(),
        [
            LogFilter::Event | LogFilter::Log,
            LogFilter::Breadcrumb | LogFilter::Log,
            LogFilter::Breadcrumb | LogFilter::Log,
            LogFilter::Ignore,
            LogFilter::Ignore,
        ]
    );
}

#[test]
fn event_and_log_together() {
    let logger = VigilLogger::new().filter(|_| LogFilter::Event | LogFilter::Log);
    let envelopes = with_captured_envelopes_options(
        || log(&logger, Level::Warn, "app", "both"),
        ClientOptions::new(),
    );
    assert_eq!(bodies(&logs_of(&envelopes)), ["both"]);
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("both"));
}

#[test]
fn unknown_location_is_left_out_and_fixed_attributes_win() {
    let logger = only_logs();
    let envelopes = with_captured_envelopes_options(
        || {
            logger.log(
                &Record::builder()
                    .args(format_args!("bare"))
                    .level(Level::Info)
                    .target("app")
                    .key_values(&[("sentry.origin", "mine"), ("logger.target", "mine")])
                    .build(),
            );
        },
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    let a = &logs[0].attributes;
    for key in ["code.file.path", "code.line.number", "code.module.name"] {
        assert!(!a.contains_key(key), "{key}");
    }
    assert_eq!(a["logger.target"], LogAttribute::from("app"));
    assert_eq!(a["sentry.origin"], LogAttribute::from("auto.log.log"));
}

#[test]
fn sdk_threads_and_targets_are_never_captured() {
    let logger = Arc::new(only_logs());
    let envelopes = with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            let on_thread = |name: &str, message: &'static str| {
                let (hub, logger) = (hub.clone(), logger.clone());
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || {
                        Hub::run(hub, || log(&*logger, Level::Info, "ureq::unit", message))
                    })
                    .unwrap()
                    .join()
                    .unwrap();
            };
            on_thread("vigil-transport", "on the transport thread");
            on_thread("vigil-logs", "on the log batch thread");
            on_thread("worker", "on a user thread");
            log(&*logger, Level::Info, "vigil", "from the facade");
            log(&*logger, Level::Info, "vigil_core::client", "from the core");
            log(&*logger, Level::Info, "vigilant::app", "from a user crate");
        },
        ClientOptions::new(),
    );
    assert_eq!(
        bodies(&logs_of(&envelopes)),
        ["on a user thread", "from a user crate"]
    );
}

#[test]
fn records_logged_while_capturing_are_not_captured() {
    let logger = Arc::new(only_logs());
    let in_callback = logger.clone();
    let options = ClientOptions::new().before_send_log(move |log| {
        // A callback that logs through the same logger.
        self::log(&*in_callback, Level::Info, "app", "from before_send_log");
        Some(log)
    });
    let envelopes =
        with_captured_envelopes_options(|| log(&*logger, Level::Info, "app", "outer"), options);
    assert_eq!(bodies(&logs_of(&envelopes)), ["outer"]);
}

#[test]
fn nothing_without_a_client() {
    let logger = only_logs();
    // No client bound: nothing happens, nothing panics.
    log(&logger, Level::Info, "app", "lost");
    let envelopes = with_captured_envelopes_options(|| {}, ClientOptions::new());
    assert!(logs_of(&envelopes).is_empty());
}
