//! Records as structured logs: `LevelFilter::Log`, the default filter with
//! and without `enable_logs`, the attributes and their types, the levels,
//! the mapper, and the guards against capturing the SDK's own output.

use std::sync::Arc;

use serde_json::json;
use slog::{Drain, Level, OwnedKVList, Record, RecordLocation, RecordStatic};
use vigil_core::protocol::{
    Envelope, EnvelopeItem, Event, ItemContainer, Log, LogAttribute, LogLevel,
};
use vigil_core::test::with_captured_envelopes_options;
use vigil_core::{ClientOptions, Hub};
use vigil_slog::{LevelFilter, RecordMapping, VigilDrain, default_filter, log_from_record};

/// Logs one record from `module`, at a fixed location, with one key-value
/// of its own and one of its logger.
fn log_from<D: Drain>(drain: &D, level: Level, module: &'static str, message: &str) {
    let location = RecordLocation {
        file: "src/db.rs",
        line: 42,
        column: 7,
        function: "",
        module,
    };
    let rstatic = RecordStatic {
        location: &location,
        tag: "",
        level,
    };
    let values = OwnedKVList::from(slog::o!("service" => "billing"));
    let _ = drain.log(
        &Record::new(
            &rstatic,
            &format_args!("{message}"),
            slog::b!("attempt" => 3),
        ),
        &values,
    );
}

fn log<D: Drain>(drain: &D, level: Level, message: &str) {
    log_from(drain, level, "my_app::db", message);
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

fn only_logs() -> VigilDrain<slog::Discard> {
    VigilDrain::new(slog::Discard).filter(|_| LevelFilter::Log)
}

const LEVELS: [Level; 6] = [
    Level::Critical,
    Level::Error,
    Level::Warning,
    Level::Info,
    Level::Debug,
    Level::Trace,
];

#[test]
fn log_filter_captures_a_log_without_enable_logs() {
    let drain = only_logs();
    let envelopes = with_captured_envelopes_options(
        || log(&drain, Level::Info, "query done"),
        ClientOptions::new(),
    );
    assert_eq!(envelopes.len(), 1);
    assert!(events_of(&envelopes).is_empty());
    let logs = logs_of(&envelopes);
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Info);
    assert_eq!(log.body, "query done");
    assert!(log.trace_id.is_some(), "the client fills the trace");
    let a = &log.attributes;
    assert_eq!(a["attempt"], LogAttribute::from(3));
    assert_eq!(a["service"], LogAttribute::from("billing"));
    assert_eq!(a["logger.target"], LogAttribute::from("my_app::db"));
    assert_eq!(a["code.module.name"], LogAttribute::from("my_app::db"));
    assert_eq!(a["code.file.path"], LogAttribute::from("src/db.rs"));
    assert_eq!(a["code.line.number"], LogAttribute::from(42));
    assert_eq!(a["sentry.origin"], LogAttribute::from("auto.log.slog"));
    // Added by the client.
    assert_eq!(a["sentry.sdk.name"], LogAttribute::from("vigil.rust"));
}

#[test]
fn attribute_types() {
    #[derive(Debug)]
    struct Point {
        x: i32,
    }
    let point = Point { x: 3 };
    let error = std::io::Error::other("disk full");
    let root = slog::Logger::root(only_logs(), slog::o!());
    let envelopes = with_captured_envelopes_options(
        || {
            slog::info!(root, "typed";
                "int" => 42,
                "negative" => -7i64,
                "big" => u64::MAX,
                "huge" => u128::MAX,
                "float" => 1.5,
                "nan" => f64::NAN,
                "flag" => true,
                "text" => "abc123",
                "char" => 'c',
                "debug" => ?point,
                "display" => %error,
                "none" => None::<i32>,
                "unit" => (),
            );
        },
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    assert_eq!(logs.len(), 1);
    let typed = |key: &str| {
        let json = serde_json::to_value(&logs[0].attributes[key]).unwrap();
        (
            json["type"].as_str().unwrap().to_owned(),
            json["value"].clone(),
        )
    };
    let expected = [
        ("int", "integer", json!(42)),
        ("negative", "integer", json!(-7)),
        ("big", "string", json!(u64::MAX.to_string())),
        ("huge", "string", json!(u128::MAX.to_string())),
        ("float", "double", json!(1.5)),
        ("nan", "string", json!("NaN")),
        ("flag", "boolean", json!(true)),
        ("text", "string", json!("abc123")),
        ("char", "string", json!("c")),
        ("debug", "string", json!("Point { x: 3 }")),
        ("display", "string", json!("disk full")),
        ("none", "string", json!("null")),
        ("unit", "string", json!("null")),
    ];
    for (key, ty, value) in expected {
        assert_eq!(typed(key), (ty.to_owned(), value), "{key}");
    }
    assert_eq!(point.x, 3);
}

#[test]
fn key_values_of_record_and_loggers() {
    let root = slog::Logger::root(
        only_logs(),
        slog::o!("service" => "billing", "region" => "eu", "tier" => 1),
    );
    let child = root.new(slog::o!("region" => "us"));
    let envelopes = with_captured_envelopes_options(
        || slog::warn!(child, "nearest wins"; "service" => "checkout"),
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    let a = &logs[0].attributes;
    assert_eq!(a["service"], LogAttribute::from("checkout"));
    assert_eq!(a["region"], LogAttribute::from("us"));
    assert_eq!(a["tier"], LogAttribute::from(1));
    // The module of this test.
    assert_eq!(a["logger.target"], LogAttribute::from("logs"));
}

#[test]
fn levels_are_mapped() {
    let drain = only_logs();
    let envelopes = with_captured_envelopes_options(
        || {
            for level in LEVELS {
                log(&drain, level, level.as_str());
            }
        },
        ClientOptions::new(),
    );
    let levels: Vec<_> = logs_of(&envelopes)
        .iter()
        .map(|log| (log.body.clone(), log.level))
        .collect();
    let expected: Vec<_> = [
        ("CRITICAL", LogLevel::Fatal),
        ("ERROR", LogLevel::Error),
        ("WARNING", LogLevel::Warn),
        ("INFO", LogLevel::Info),
        ("DEBUG", LogLevel::Debug),
        ("TRACE", LogLevel::Trace),
    ]
    .map(|(body, level)| (body.to_owned(), level))
    .into();
    assert_eq!(levels, expected);
}

#[test]
fn default_filter_with_enable_logs() {
    let drain = VigilDrain::new(slog::Discard);
    let envelopes = with_captured_envelopes_options(
        || {
            for level in LEVELS {
                log(&drain, level, level.as_str());
            }
        },
        ClientOptions::new().enable_logs(true),
    );
    assert_eq!(
        bodies(&logs_of(&envelopes)),
        ["CRITICAL", "ERROR", "WARNING", "INFO"]
    );
    // The events are those of the default filter still.
    let events = events_of(&envelopes);
    let messages: Vec<_> = events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(messages, [Some("CRITICAL"), Some("ERROR")]);
}

#[test]
fn default_filter_without_enable_logs() {
    let drain = VigilDrain::new(slog::Discard);
    let envelopes = with_captured_envelopes_options(
        || {
            log(&drain, Level::Info, "info");
            log(&drain, Level::Error, "error");
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
    let answers = || LEVELS.map(default_filter);
    let without_client = answers();
    let mut with_logs = None;
    with_captured_envelopes_options(
        || with_logs = Some(answers()),
        ClientOptions::new().enable_logs(true),
    );
    let mut without_logs = None;
    with_captured_envelopes_options(|| without_logs = Some(answers()), ClientOptions::new());

    let plain = [
        LevelFilter::Event,
        LevelFilter::Event,
        LevelFilter::Breadcrumb,
        LevelFilter::Breadcrumb,
        LevelFilter::Ignore,
        LevelFilter::Ignore,
    ];
    assert_eq!(without_client, plain);
    assert_eq!(without_logs.unwrap(), plain);
    assert_eq!(
        with_logs.unwrap(),
        [
            LevelFilter::Event | LevelFilter::Log,
            LevelFilter::Event | LevelFilter::Log,
            LevelFilter::Breadcrumb | LevelFilter::Log,
            LevelFilter::Breadcrumb | LevelFilter::Log,
            LevelFilter::Ignore,
            LevelFilter::Ignore,
        ]
    );
}

#[test]
fn event_and_log_together() {
    let drain = VigilDrain::new(slog::Discard).filter(|_| LevelFilter::Event | LevelFilter::Log);
    let envelopes = with_captured_envelopes_options(
        || log(&drain, Level::Warning, "both"),
        ClientOptions::new(),
    );
    assert_eq!(bodies(&logs_of(&envelopes)), ["both"]);
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("both"));
}

#[test]
fn mapper_can_make_logs() {
    let drain = VigilDrain::new(slog::Discard)
        .filter(|_| LevelFilter::Breadcrumb)
        .mapper(|record, values| {
            let mut log = log_from_record(record, values);
            log.attributes
                .insert("mapped".to_owned(), LogAttribute::from(true));
            RecordMapping::Log(Box::new(log))
        });
    let envelopes = with_captured_envelopes_options(
        || log(&drain, Level::Info, "mapped"),
        ClientOptions::new(),
    );
    let logs = logs_of(&envelopes);
    assert_eq!(bodies(&logs), ["mapped"]);
    assert_eq!(logs[0].attributes["mapped"], LogAttribute::from(true));
    assert_eq!(
        logs[0].attributes["sentry.origin"],
        LogAttribute::from("auto.log.slog")
    );
}

#[test]
fn fixed_attributes_win_and_unknown_location_is_left_out() {
    let location = RecordLocation {
        file: "",
        line: 0,
        column: 0,
        function: "",
        module: "",
    };
    let rstatic = RecordStatic {
        location: &location,
        tag: "",
        level: Level::Info,
    };
    let values = OwnedKVList::from(slog::o!("sentry.origin" => "mine"));
    let log = log_from_record(
        &Record::new(&rstatic, &format_args!("bare"), slog::b!()),
        &values,
    );
    for key in [
        "logger.target",
        "code.file.path",
        "code.line.number",
        "code.module.name",
    ] {
        assert!(!log.attributes.contains_key(key), "{key}");
    }
    assert_eq!(
        log.attributes["sentry.origin"],
        LogAttribute::from("auto.log.slog")
    );
}

#[test]
fn sdk_threads_and_modules_are_never_captured() {
    let drain = Arc::new(only_logs());
    let envelopes = with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            let on_thread = |name: &str, message: &'static str| {
                let (hub, drain) = (hub.clone(), drain.clone());
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || {
                        Hub::run(hub, || {
                            log_from(&*drain, Level::Info, "ureq::unit", message)
                        })
                    })
                    .unwrap()
                    .join()
                    .unwrap();
            };
            on_thread("vigil-transport", "on the transport thread");
            on_thread("vigil-logs", "on the log batch thread");
            on_thread("worker", "on a user thread");
            log_from(&*drain, Level::Info, "vigil", "from the facade");
            log_from(&*drain, Level::Info, "vigil_core::client", "from the core");
            log_from(&*drain, Level::Info, "vigilant::app", "from a user crate");
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
    let drain = Arc::new(only_logs());
    let in_callback = drain.clone();
    let options = ClientOptions::new().before_send_log(move |log| {
        // A callback that logs through the same drain.
        self::log(&*in_callback, Level::Info, "from before_send_log");
        Some(log)
    });
    let envelopes = with_captured_envelopes_options(|| log(&*drain, Level::Info, "outer"), options);
    assert_eq!(bodies(&logs_of(&envelopes)), ["outer"]);
}
