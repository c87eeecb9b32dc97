//! Records to events, breadcrumbs and structured logs.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::time::SystemTime;

use slog::{KV, Key, OwnedKVList, Record, Serializer};
use vigil_core::protocol::{
    Breadcrumb, Context, Event, Level, Log, LogAttribute, LogLevel, Map, Value,
};

/// The value of the `sentry.origin` attribute of the structured logs
/// [`VigilDrain`](crate::VigilDrain) captures.
pub const LOG_ORIGIN: &str = "auto.log.slog";

/// The level of the events and breadcrumbs of a record: `critical` →
/// `fatal`, `error` → `error`, `warning` → `warning`, `info` → `info`,
/// `debug` and `trace` → `debug`.
///
/// ```
/// use vigil_core::protocol::Level;
///
/// assert_eq!(vigil_slog::convert_log_level(slog::Level::Critical), Level::Fatal);
/// assert_eq!(vigil_slog::convert_log_level(slog::Level::Trace), Level::Debug);
/// ```
pub fn convert_log_level(level: slog::Level) -> Level {
    match level {
        slog::Level::Critical => Level::Fatal,
        slog::Level::Error => Level::Error,
        slog::Level::Warning => Level::Warning,
        slog::Level::Info => Level::Info,
        slog::Level::Debug | slog::Level::Trace => Level::Debug,
    }
}

/// The level of the structured logs of a record: `critical` → `fatal`,
/// `error` → `error`, `warning` → `warn`, `info` → `info`, `debug` →
/// `debug`, `trace` → `trace`.
///
/// ```
/// use vigil_core::protocol::LogLevel;
/// use vigil_slog::convert_log_level_to_sentry_log_level as convert;
///
/// assert_eq!(convert(slog::Level::Critical), LogLevel::Fatal);
/// assert_eq!(convert(slog::Level::Warning), LogLevel::Warn);
/// assert_eq!(convert(slog::Level::Trace), LogLevel::Trace);
/// ```
pub fn convert_log_level_to_sentry_log_level(level: slog::Level) -> LogLevel {
    match level {
        slog::Level::Critical => LogLevel::Fatal,
        slog::Level::Error => LogLevel::Error,
        slog::Level::Warning => LogLevel::Warn,
        slog::Level::Info => LogLevel::Info,
        slog::Level::Debug => LogLevel::Debug,
        slog::Level::Trace => LogLevel::Trace,
    }
}

fn message(record: &Record<'_>) -> String {
    let args = record.msg();
    match args.as_str() {
        Some(s) => s.to_owned(),
        None => args.to_string(),
    }
}

/// The event [`VigilDrain`](crate::VigilDrain) captures for a record
/// (`values` are the key-values of the logger it went through): see the
/// [crate docs](crate) for its fields. Useful to build on in a
/// [mapper](crate::VigilDrain::mapper).
pub fn event_from_record(record: &Record<'_>, values: &OwnedKVList) -> Event {
    let mut location = Map::new();
    if !record.module().is_empty() {
        location.insert("module_path".into(), record.module().into());
    }
    if !record.file().is_empty() {
        location.insert("file".into(), record.file().into());
    }
    if record.line() != 0 {
        location.insert("line".into(), record.line().into());
    }
    if !record.tag().is_empty() {
        location.insert("tag".into(), record.tag().into());
    }
    let mut contexts = BTreeMap::new();
    if !location.is_empty() {
        contexts.insert("log".to_owned(), Context::Other(location));
    }
    Event {
        level: convert_log_level(record.level()),
        message: Some(message(record)),
        logger: (!record.module().is_empty()).then(|| record.module().to_owned()),
        contexts,
        extra: key_values(record, values),
        ..Event::default()
    }
}

/// The event for [`LevelFilter::Exception`](crate::LevelFilter::Exception):
/// the same as [`event_from_record`], a record having no error value or
/// stack trace to build an exception from.
pub fn exception_from_record(record: &Record<'_>, values: &OwnedKVList) -> Event {
    event_from_record(record, values)
}

/// The breadcrumb [`VigilDrain`](crate::VigilDrain) records for a record
/// (`values` are the key-values of the logger it went through): see the
/// [crate docs](crate) for its fields.
pub fn breadcrumb_from_record(record: &Record<'_>, values: &OwnedKVList) -> Breadcrumb {
    Breadcrumb {
        category: (!record.module().is_empty()).then(|| record.module().into()),
        message: Some(message(record)),
        level: convert_log_level(record.level()),
        data: key_values(record, values),
        ..Breadcrumb::default()
    }
}

/// The structured log [`VigilDrain`](crate::VigilDrain) captures for a
/// record with [`LevelFilter::Log`](crate::LevelFilter::Log) (`values`
/// are the key-values of the logger it went through): see the
/// [crate docs](crate#structured-logs) for its attributes. The client adds
/// the trace, the span and its default attributes when it is captured.
///
/// ```
/// use vigil_core::protocol::{LogAttribute, LogLevel};
///
/// let location = slog::RecordLocation {
///     file: "src/jobs.rs",
///     line: 12,
///     column: 5,
///     function: "",
///     module: "my_app::jobs",
/// };
/// let rstatic = slog::RecordStatic { location: &location, tag: "", level: slog::Level::Info };
/// let values = slog::OwnedKVList::from(slog::o!("service" => "billing"));
/// let log = vigil_slog::log_from_record(
///     &slog::Record::new(&rstatic, &format_args!("job {} done", 7), slog::b!("attempt" => 2)),
///     &values,
/// );
/// assert_eq!(log.level, LogLevel::Info);
/// assert_eq!(log.body, "job 7 done");
/// assert_eq!(log.attributes["attempt"], LogAttribute::from(2));
/// assert_eq!(log.attributes["service"], LogAttribute::from("billing"));
/// assert_eq!(log.attributes["logger.target"], LogAttribute::from("my_app::jobs"));
/// assert_eq!(log.attributes["code.line.number"], LogAttribute::from(12));
/// assert_eq!(log.attributes["sentry.origin"], LogAttribute::from("auto.log.slog"));
/// ```
pub fn log_from_record(record: &Record<'_>, values: &OwnedKVList) -> Log {
    let mut attributes: Map<String, LogAttribute> = key_values(record, values)
        .into_iter()
        .map(|(key, value)| (key, LogAttribute(value)))
        .collect();
    let mut set = |key: &str, value: LogAttribute| {
        attributes.insert(key.to_owned(), value);
    };
    if !record.module().is_empty() {
        set("logger.target", record.module().into());
        set("code.module.name", record.module().into());
    }
    if !record.file().is_empty() {
        set("code.file.path", record.file().into());
    }
    if record.line() != 0 {
        set("code.line.number", record.line().into());
    }
    set("sentry.origin", LOG_ORIGIN.into());
    Log {
        level: convert_log_level_to_sentry_log_level(record.level()),
        body: message(record),
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes,
    }
}

/// The key-values of the record and of its logger as JSON. When a key
/// repeats, the value nearest to the logging statement wins: the record's
/// over the logger's, a child logger's over its parent's, and the last of a
/// statement's own.
fn key_values(record: &Record<'_>, values: &OwnedKVList) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // slog hands the pairs over nearest first: the record's (the last
    // written first), then the logger's from the child up to the root. So
    // the first value of a key is kept. `Collect` never fails; a value that
    // fails to serialize itself only loses its own pair.
    let _ = record.kv().serialize(record, &mut Collect(&mut out));
    let _ = values.serialize(record, &mut Collect(&mut out));
    out
}

/// Collects key-values as JSON, keeping the first value of a key.
struct Collect<'a>(&'a mut BTreeMap<String, Value>);

impl Collect<'_> {
    fn put(&mut self, key: Key, value: impl FnOnce() -> Value) -> slog::Result {
        if let Entry::Vacant(slot) = self.0.entry(key.to_string()) {
            slot.insert(value());
        }
        Ok(())
    }
}

/// JSON has no NaN or infinities: those are sent as text.
fn float(value: f64) -> Value {
    if value.is_finite() {
        value.into()
    } else {
        value.to_string().into()
    }
}

impl Serializer for Collect<'_> {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        self.put(key, || match value.as_str() {
            Some(s) => s.into(),
            None => value.to_string().into(),
        })
    }

    fn emit_usize(&mut self, key: Key, value: usize) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_isize(&mut self, key: Key, value: isize) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_bool(&mut self, key: Key, value: bool) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_char(&mut self, key: Key, value: char) -> slog::Result {
        self.put(key, || value.to_string().into())
    }

    fn emit_u8(&mut self, key: Key, value: u8) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_i8(&mut self, key: Key, value: i8) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_u16(&mut self, key: Key, value: u16) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_i16(&mut self, key: Key, value: i16) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_u32(&mut self, key: Key, value: u32) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_i32(&mut self, key: Key, value: i32) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_f32(&mut self, key: Key, value: f32) -> slog::Result {
        self.put(key, || float(value.into()))
    }

    fn emit_u64(&mut self, key: Key, value: u64) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_i64(&mut self, key: Key, value: i64) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_f64(&mut self, key: Key, value: f64) -> slog::Result {
        self.put(key, || float(value))
    }

    fn emit_u128(&mut self, key: Key, value: u128) -> slog::Result {
        self.put(key, || match u64::try_from(value) {
            Ok(v) => v.into(),
            Err(_) => value.to_string().into(),
        })
    }

    fn emit_i128(&mut self, key: Key, value: i128) -> slog::Result {
        self.put(key, || match i64::try_from(value) {
            Ok(v) => v.into(),
            Err(_) => value.to_string().into(),
        })
    }

    fn emit_str(&mut self, key: Key, value: &str) -> slog::Result {
        self.put(key, || value.into())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.put(key, || Value::Null)
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.put(key, || Value::Null)
    }

    fn emit_serde(&mut self, key: Key, value: &dyn slog::SerdeValue) -> slog::Result {
        // A value that fails to serialize leaves a note instead.
        self.put(key, || match serde_json::to_value(value.as_serde()) {
            Ok(json) => json,
            Err(err) => format!("<unserializable value: {err}>").into(),
        })
    }
}
