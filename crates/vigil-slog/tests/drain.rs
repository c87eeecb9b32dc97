//! What records become: events, breadcrumbs, their fields and key-values,
//! the filter, the mapper, the forwarding to the wrapped drain, and the
//! guards against capturing the SDK's own output.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use slog::{Drain, Level, OwnedKVList, Record, RecordLocation, RecordStatic};
use vigil_core::protocol::{self, Event};
use vigil_core::test::{with_captured_events, with_captured_events_options};
use vigil_core::{ClientOptions, Hub};
use vigil_slog::{LevelFilter, RecordMapping, VigilDrain, breadcrumb_from_record};

/// A drain that remembers what it was given, and fails on `critical`
/// records: `Ok` is the number of records so far.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Drain for Recorder {
    type Ok = usize;
    type Err = String;

    fn log(&self, record: &Record<'_>, _: &OwnedKVList) -> Result<usize, String> {
        let mut lines = self.0.lock().unwrap();
        lines.push(format!(
            "{} {}",
            record.level().as_short_str(),
            record.msg()
        ));
        if record.level() == Level::Critical {
            return Err(format!("refused {}", record.msg()));
        }
        Ok(lines.len())
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.is_at_least(Level::Warning)
    }
}

/// The same, usable by a `slog::Logger` (which wants `Ok = ()` and no
/// error).
#[derive(Clone, Default)]
struct LoggerRecorder(Recorder);

impl Drain for LoggerRecorder {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let _ = self.0.log(record, values);
        Ok(())
    }
}

/// Logs one record from `module`, at a fixed location, with one key-value.
fn log_from<D: Drain>(
    drain: &D,
    level: Level,
    module: &'static str,
    message: &str,
) -> Result<D::Ok, D::Err> {
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
    drain.log(
        &Record::new(
            &rstatic,
            &format_args!("{message}"),
            slog::b!("attempt" => 3),
        ),
        &values,
    )
}

fn log<D: Drain>(drain: &D, level: Level, message: &str) -> Result<D::Ok, D::Err> {
    log_from(drain, level, "my_app::db", message)
}

/// The event as JSON with the values that change between runs replaced
/// and what the scope and client add removed.
fn json_of(event: &Event) -> Value {
    let mut json = serde_json::to_value(event).unwrap();
    let obj = json.as_object_mut().unwrap();
    for key in ["event_id", "timestamp", "sdk", "platform", "environment"] {
        obj.remove(key);
    }
    if let Some(contexts) = obj.get_mut("contexts").and_then(Value::as_object_mut) {
        contexts.remove("trace");
        if contexts.is_empty() {
            obj.remove("contexts");
        }
    }
    if let Some(crumbs) = obj.get_mut("breadcrumbs") {
        for crumb in crumbs["values"].as_array_mut().unwrap() {
            crumb.as_object_mut().unwrap().remove("timestamp");
        }
    }
    json
}

fn messages(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.message.clone().unwrap()).collect()
}

fn crumb_messages(event: &Event) -> Vec<String> {
    event
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone().unwrap())
        .collect()
}

#[test]
fn error_records_become_events_with_their_breadcrumbs() {
    let drain = VigilDrain::new(slog::Discard);
    let events = with_captured_events(|| {
        log(&drain, Level::Info, "connecting").unwrap();
        log(&drain, Level::Warning, "slow query").unwrap();
        log(&drain, Level::Error, "connection lost").unwrap();
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        json_of(&events[0]),
        json!({
            "level": "error",
            "message": "connection lost",
            "logger": "my_app::db",
            "contexts": {
                "log": {
                    "module_path": "my_app::db",
                    "file": "src/db.rs",
                    "line": 42,
                },
            },
            "extra": {"attempt": 3, "service": "billing"},
            "breadcrumbs": {"values": [
                {
                    "type": "default",
                    "category": "my_app::db",
                    "level": "info",
                    "message": "connecting",
                    "data": {"attempt": 3, "service": "billing"},
                },
                {
                    "type": "default",
                    "category": "my_app::db",
                    "level": "warning",
                    "message": "slow query",
                    "data": {"attempt": 3, "service": "billing"},
                },
            ]},
        })
    );
}

#[test]
fn levels_map_to_vigil_levels() {
    use protocol::Level as V;
    let cases = [
        (Level::Critical, V::Fatal),
        (Level::Error, V::Error),
        (Level::Warning, V::Warning),
        (Level::Info, V::Info),
        (Level::Debug, V::Debug),
        (Level::Trace, V::Debug),
    ];
    for (level, expected) in cases {
        assert_eq!(vigil_slog::convert_log_level(level), expected, "{level:?}");
    }
    // Every level as an event and as a breadcrumb.
    let drain = VigilDrain::new(slog::Discard).filter(|_| LevelFilter::EventAndBreadcrumb);
    let events = with_captured_events(|| {
        for (level, _) in cases {
            log(&drain, level, level.as_str()).unwrap();
        }
    });
    let levels: Vec<_> = events.iter().map(|e| e.level).collect();
    assert_eq!(levels, cases.map(|(_, v)| v));
    let last = events.last().unwrap();
    let crumb_levels: Vec<_> = last.breadcrumbs.iter().map(|c| c.level).collect();
    assert_eq!(
        crumb_levels,
        cases[..5].iter().map(|(_, v)| *v).collect::<Vec<_>>()
    );
}

#[test]
fn default_filter_by_level() {
    use vigil_slog::default_filter;
    assert_eq!(default_filter(Level::Critical), LevelFilter::Event);
    assert_eq!(default_filter(Level::Error), LevelFilter::Event);
    assert_eq!(default_filter(Level::Warning), LevelFilter::Breadcrumb);
    assert_eq!(default_filter(Level::Info), LevelFilter::Breadcrumb);
    assert_eq!(default_filter(Level::Debug), LevelFilter::Ignore);
    assert_eq!(default_filter(Level::Trace), LevelFilter::Ignore);

    let drain = VigilDrain::new(slog::Discard);
    let events = with_captured_events(|| {
        log(&drain, Level::Trace, "trace").unwrap();
        log(&drain, Level::Debug, "debug").unwrap();
        log(&drain, Level::Info, "info").unwrap();
        log(&drain, Level::Critical, "critical").unwrap();
    });
    assert_eq!(messages(&events), ["critical"]);
    assert_eq!(events[0].level, protocol::Level::Fatal);
    assert_eq!(crumb_messages(&events[0]), ["info"]);
}

#[test]
fn custom_filter() {
    let drain = VigilDrain::new(slog::Discard).filter(|level| match level {
        Level::Critical => LevelFilter::Event | LevelFilter::Exception,
        Level::Error => LevelFilter::EventAndBreadcrumb,
        Level::Debug => LevelFilter::Breadcrumb,
        _ => LevelFilter::Ignore,
    });
    let events = with_captured_events(|| {
        log(&drain, Level::Info, "ignored").unwrap();
        log(&drain, Level::Debug, "debug").unwrap();
        log(&drain, Level::Error, "error").unwrap();
        log(&drain, Level::Critical, "critical").unwrap();
    });
    // `Event | Exception` captures two events.
    assert_eq!(messages(&events), ["error", "critical", "critical"]);
    // The error's event does not list itself; later events list its
    // breadcrumb, which points at it.
    assert_eq!(crumb_messages(&events[0]), ["debug"]);
    assert_eq!(crumb_messages(&events[1]), ["debug", "error"]);
    assert_eq!(events[1].breadcrumbs[0].event_id, None);
    assert_eq!(events[1].breadcrumbs[1].event_id, Some(events[0].event_id));
}

#[test]
fn is_enabled_asks_the_filter_and_the_wrapped_drain() {
    let drain = VigilDrain::new(Recorder::default());
    // The recorder wants warnings and above, the default filter info and
    // above.
    assert!(drain.is_enabled(Level::Error));
    assert!(drain.is_enabled(Level::Info));
    assert!(!drain.is_enabled(Level::Debug));
    let drain = drain.filter(|_| LevelFilter::Ignore);
    assert!(drain.is_enabled(Level::Warning));
    assert!(!drain.is_enabled(Level::Info));
    let drain = VigilDrain::new(slog::Discard).filter(|level| {
        if level == Level::Trace {
            LevelFilter::Breadcrumb
        } else {
            LevelFilter::Ignore
        }
    });
    assert!(drain.is_trace_enabled());
    assert!(!drain.is_error_enabled());
}

#[test]
fn every_record_is_forwarded_and_its_result_returned() {
    let inner = Recorder::default();
    let drain = VigilDrain::new(inner.clone());
    let mut results = Vec::new();
    let events = with_captured_events(|| {
        results.push(log(&drain, Level::Trace, "trace"));
        results.push(log(&drain, Level::Info, "info"));
        results.push(log(&drain, Level::Error, "error"));
        results.push(log(&drain, Level::Critical, "critical"));
        // The SDK's own records too.
        results.push(log_from(&drain, Level::Error, "vigil_core::client", "sdk"));
    });
    assert_eq!(
        results,
        [
            Ok(1),
            Ok(2),
            Ok(3),
            Err("refused critical".to_owned()),
            Ok(5)
        ]
    );
    // A failing wrapped drain does not stop the capture.
    assert_eq!(messages(&events), ["error", "critical"]);
    // Without a client, records still reach the wrapped drain.
    assert_eq!(log(&drain, Level::Error, "no client"), Ok(6));
    assert_eq!(
        inner.lines(),
        [
            "TRCE trace",
            "INFO info",
            "ERRO error",
            "CRIT critical",
            "ERRO sdk",
            "ERRO no client"
        ]
    );
    assert_eq!(drain.get_ref().lines().len(), 6);
    assert_eq!(drain.into_inner().lines().len(), 6);
}

#[test]
fn key_values_keep_their_types() {
    #[derive(Clone, serde::Serialize)]
    struct User {
        id: u32,
        roles: Vec<&'static str>,
    }

    let drain = VigilDrain::new(slog::Discard);
    let root = slog::Logger::root(drain, slog::o!("service" => "billing"));
    let user = User {
        id: 7,
        roles: vec!["admin"],
    };
    let events = with_captured_events(|| {
        slog::error!(root, "typed";
            "u8" => 1u8, "i64" => -2i64, "usize" => 3usize, "f64" => 1.5f64,
            "nan" => f64::NAN, "big" => u128::MAX, "small" => 5u128,
            "bool" => true, "char" => 'c', "str" => "text", "string" => String::from("owned"),
            "none" => None::<u32>, "some" => Some(4), "unit" => (),
            "display" => %"shown", "debug" => ?vec![1, 2],
            "error" => #std::io::Error::other("disk full"),
            "user" => slog::Serde(user.clone()),
        );
    });
    assert_eq!(
        Value::Object(events[0].extra.clone().into_iter().collect()),
        json!({
            "service": "billing",
            "u8": 1, "i64": -2, "usize": 3, "f64": 1.5,
            "nan": "NaN", "big": u128::MAX.to_string(), "small": 5,
            "bool": true, "char": "c", "str": "text", "string": "owned",
            "none": null, "some": 4, "unit": null,
            "display": "shown", "debug": "[1, 2]",
            "error": "disk full",
            "user": {"id": 7, "roles": ["admin"]},
        })
    );
}

#[test]
fn the_nearest_key_value_wins() {
    let drain = VigilDrain::new(slog::Discard);
    let root = slog::Logger::root(drain, slog::o!("who" => "root", "root_only" => 1));
    let child = root.new(slog::o!("who" => "child", "child_only" => 2));
    let grandchild = child.new(slog::o!("who" => "grandchild"));
    let events = with_captured_events(|| {
        slog::info!(grandchild, "from the logger");
        slog::error!(grandchild, "from the record"; "who" => "first", "who" => "record");
    });
    let crumb = &events[0].breadcrumbs[0];
    assert_eq!(crumb.data["who"], "grandchild");
    assert_eq!(crumb.data["root_only"], 1);
    assert_eq!(crumb.data["child_only"], 2);
    assert_eq!(events[0].extra["who"], "record");
    assert_eq!(events[0].extra.len(), 3);
}

#[test]
fn tags_and_locations_of_logger_records() {
    let drain = VigilDrain::new(slog::Discard);
    let root = slog::Logger::root(drain, slog::o!());
    let events = with_captured_events(|| {
        slog::error!(root, # "billing", "tagged");
    });
    let location = serde_json::to_value(&events[0].contexts["log"]).unwrap();
    assert_eq!(location["module_path"], module_path!());
    assert_eq!(location["file"], file!());
    assert_eq!(location["tag"], "billing");
    assert!(location["line"].as_u64().unwrap() > 0);
    assert_eq!(events[0].logger.as_deref(), Some(module_path!()));
}

#[test]
fn mapper_builds_what_is_captured() {
    let inner = Recorder::default();
    let drain = VigilDrain::new(inner.clone()).mapper(|record, values| match record.level() {
        Level::Error => {
            let mut event = vigil_slog::event_from_record(record, values);
            event.fingerprint = vec!["db".to_owned()];
            RecordMapping::Event(Box::new(event))
        }
        Level::Warning => RecordMapping::Ignore,
        _ => {
            let mut crumb = breadcrumb_from_record(record, values);
            crumb.category = Some("mapped".into());
            RecordMapping::Breadcrumb(crumb)
        }
    });
    let events = with_captured_events(|| {
        // Ignored by the (default) filter: the mapper is not asked.
        log(&drain, Level::Debug, "debug").unwrap();
        log(&drain, Level::Warning, "warning").unwrap();
        log(&drain, Level::Info, "info").unwrap();
        log(&drain, Level::Error, "error").unwrap();
    });
    assert_eq!(messages(&events), ["error"]);
    assert_eq!(events[0].fingerprint, ["db"]);
    assert_eq!(crumb_messages(&events[0]), ["info"]);
    assert_eq!(events[0].breadcrumbs[0].category.as_deref(), Some("mapped"));
    assert_eq!(inner.lines().len(), 4);
}

#[test]
fn panicking_callbacks_capture_nothing() {
    let inner = Recorder::default();
    let filter_panics = VigilDrain::new(inner.clone()).filter(|_| panic!("filter bug"));
    let mapper_panics = VigilDrain::new(slog::Discard).mapper(|_, _| panic!("mapper bug"));
    let events = with_captured_events(|| {
        assert_eq!(log(&filter_panics, Level::Error, "filtered"), Ok(1));
        log(&mapper_panics, Level::Error, "mapped").unwrap();
        assert!(filter_panics.is_enabled(Level::Error));
        assert!(!filter_panics.is_enabled(Level::Info));
    });
    assert!(events.is_empty());
    assert_eq!(inner.lines(), ["ERRO filtered"]);
}

#[test]
fn records_logged_while_capturing_are_not_captured() {
    let inner = LoggerRecorder::default();
    let root = slog::Logger::root(VigilDrain::new(inner.clone()), slog::o!());
    let options = ClientOptions {
        before_send: Some(Arc::new({
            let root = root.clone();
            move |event| {
                slog::error!(root, "logged by before_send");
                Some(event)
            }
        })),
        before_breadcrumb: Some(Arc::new({
            let root = root.clone();
            move |crumb| {
                slog::warn!(root, "logged by before_breadcrumb");
                Some(crumb)
            }
        })),
        ..ClientOptions::default()
    };
    let events = with_captured_events_options(
        || {
            slog::warn!(root, "first");
            slog::error!(root, "second");
        },
        options,
    );
    assert_eq!(messages(&events), ["second"]);
    assert_eq!(crumb_messages(&events[0]), ["first"]);
    // The nested records were still forwarded.
    assert_eq!(
        inner.0.lines(),
        [
            "WARN first",
            "WARN logged by before_breadcrumb",
            "ERRO second",
            "ERRO logged by before_send"
        ]
    );
}

#[test]
fn sdk_threads_and_modules_are_never_captured() {
    let drain = Arc::new(VigilDrain::new(slog::Discard));
    let events = with_captured_events(|| {
        let hub = Hub::current();
        let on_thread = |name: &str, message: &'static str| {
            let (hub, drain) = (hub.clone(), drain.clone());
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    Hub::run(hub, || {
                        log_from(&*drain, Level::Error, "ureq::unit", message)
                    })
                })
                .unwrap()
                .join()
                .unwrap()
                .unwrap();
        };
        on_thread("vigil-transport", "on the transport thread");
        on_thread("worker", "on a user thread");
        log_from(&*drain, Level::Error, "vigil", "from the facade").unwrap();
        log_from(&*drain, Level::Error, "vigil_core::client", "from the core").unwrap();
        log_from(&*drain, Level::Error, "vigilant::app", "from a user crate").unwrap();
    });
    assert_eq!(messages(&events), ["on a user thread", "from a user crate"]);
}

#[test]
fn level_filter_set_operations() {
    let mut set = LevelFilter::Ignore;
    assert!(set.is_empty());
    assert_eq!(format!("{set:?}"), "LevelFilter(0x0)");
    set |= LevelFilter::Event;
    set.insert(LevelFilter::Breadcrumb);
    assert_eq!(set, LevelFilter::EventAndBreadcrumb);
    assert_eq!(format!("{set:?}"), "LevelFilter(Breadcrumb | Event)");
    assert!(set.intersects(LevelFilter::Event | LevelFilter::Exception));
    assert!(!set.contains(LevelFilter::Event | LevelFilter::Exception));
    assert!(set.contains(LevelFilter::Ignore));
    assert_eq!(set & LevelFilter::Event, LevelFilter::Event);
    set &= LevelFilter::Breadcrumb | LevelFilter::Exception;
    assert_eq!(set, LevelFilter::Breadcrumb);
    set.remove(LevelFilter::Breadcrumb);
    assert_eq!(set, LevelFilter::Ignore);
    assert_eq!(LevelFilter::default(), LevelFilter::Ignore);
}
