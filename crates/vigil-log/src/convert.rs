//! Records to events, breadcrumbs and structured logs.

use std::collections::BTreeMap;
use std::time::SystemTime;

use log::Record;
use vigil_core::protocol::{
    Breadcrumb, Context, Event, Level, Log, LogAttribute, LogLevel, Map, Value,
};

/// The value of the `sentry.origin` attribute of the structured logs
/// [`VigilLogger`](crate::VigilLogger) captures.
pub const LOG_ORIGIN: &str = "auto.log.log";

/// The level of the events and breadcrumbs of a record: `error` →
/// `error`, `warn` → `warning`, `info` → `info`, `debug` and `trace` →
/// `debug`.
pub fn convert_log_level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warning,
        log::Level::Info => Level::Info,
        log::Level::Debug | log::Level::Trace => Level::Debug,
    }
}

/// The level of the structured logs of a record: `error` → `error`,
/// `warn` → `warn`, `info` → `info`, `debug` → `debug`, `trace` →
/// `trace`.
///
/// ```
/// use vigil_core::protocol::LogLevel;
/// use vigil_log::convert_log_level_to_sentry_log_level as convert;
///
/// assert_eq!(convert(log::Level::Warn), LogLevel::Warn);
/// assert_eq!(convert(log::Level::Trace), LogLevel::Trace);
/// ```
pub fn convert_log_level_to_sentry_log_level(level: log::Level) -> LogLevel {
    match level {
        log::Level::Error => LogLevel::Error,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Info => LogLevel::Info,
        log::Level::Debug => LogLevel::Debug,
        log::Level::Trace => LogLevel::Trace,
    }
}

fn message(record: &Record<'_>) -> String {
    let args = record.args();
    match args.as_str() {
        Some(s) => s.to_owned(),
        None => args.to_string(),
    }
}

/// The event [`VigilLogger`](crate::VigilLogger) captures for a record
/// before its event mapper runs: see the [crate docs](crate) for its
/// fields. Useful to build on in a mapper or elsewhere.
pub fn event_from_record(record: &Record<'_>) -> Event {
    let mut location = Map::new();
    if let Some(module_path) = record.module_path() {
        location.insert("module_path".into(), module_path.into());
    }
    if let Some(file) = record.file() {
        location.insert("file".into(), file.into());
    }
    if let Some(line) = record.line() {
        location.insert("line".into(), line.into());
    }
    let mut contexts = BTreeMap::new();
    if !location.is_empty() {
        contexts.insert("log".to_owned(), Context::Other(location));
    }
    Event {
        level: convert_log_level(record.level()),
        message: Some(message(record)),
        logger: Some(record.target().to_owned()),
        contexts,
        extra: key_values(record),
        ..Event::default()
    }
}

/// The event for [`LogFilter::Exception`](crate::LogFilter::Exception):
/// the same as [`event_from_record`], a record having no error value or
/// stack trace to build an exception from.
pub fn exception_from_record(record: &Record<'_>) -> Event {
    event_from_record(record)
}

/// The breadcrumb [`VigilLogger`](crate::VigilLogger) records for a
/// record before its breadcrumb mapper runs: see the [crate docs](crate)
/// for its fields.
pub fn breadcrumb_from_record(record: &Record<'_>) -> Breadcrumb {
    Breadcrumb {
        category: Some(record.target().to_owned().into()),
        message: Some(message(record)),
        level: convert_log_level(record.level()),
        data: key_values(record),
        ..Breadcrumb::default()
    }
}

/// The structured log [`VigilLogger`](crate::VigilLogger) captures for a
/// record with [`LogFilter::Log`](crate::LogFilter::Log): see the
/// [crate docs](crate#structured-logs) for its attributes. The client
/// adds the trace, the span and its default attributes when it is
/// captured.
///
/// ```
/// use vigil_core::protocol::{LogAttribute, LogLevel};
///
/// let log = vigil_log::log_from_record(
///     &log::Record::builder()
///         .args(format_args!("job {} done", 7))
///         .level(log::Level::Info)
///         .target("my_app::jobs")
///         .line(Some(12))
///         .key_values(&[("attempt", 2)])
///         .build(),
/// );
/// assert_eq!(log.level, LogLevel::Info);
/// assert_eq!(log.body, "job 7 done");
/// assert_eq!(log.attributes["attempt"], LogAttribute::from(2));
/// assert_eq!(log.attributes["logger.target"], LogAttribute::from("my_app::jobs"));
/// assert_eq!(log.attributes["code.line.number"], LogAttribute::from(12));
/// assert_eq!(log.attributes["sentry.origin"], LogAttribute::from("auto.log.log"));
/// assert!(!log.attributes.contains_key("code.file.path"));
/// ```
pub fn log_from_record(record: &Record<'_>) -> Log {
    let mut attributes = Map::new();
    // `Collect` never fails, so neither does the walk.
    let _ = record
        .key_values()
        .visit(&mut kv::Collect(&mut attributes, kv::to_log_attribute));
    let mut set = |key: &str, value: LogAttribute| {
        attributes.insert(key.to_owned(), value);
    };
    set("logger.target", record.target().into());
    if let Some(file) = record.file() {
        set("code.file.path", file.into());
    }
    if let Some(line) = record.line() {
        set("code.line.number", line.into());
    }
    if let Some(module_path) = record.module_path() {
        set("code.module.name", module_path.into());
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

#[cfg(not(feature = "kv"))]
fn key_values(_: &Record<'_>) -> BTreeMap<String, Value> {
    BTreeMap::new()
}

#[cfg(feature = "kv")]
fn key_values(record: &Record<'_>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // `Collect` never fails, so neither does the walk.
    let _ = record
        .key_values()
        .visit(&mut kv::Collect(&mut out, kv::to_json));
    out
}

mod kv {
    use log::kv::{Error, Key, VisitSource, VisitValue};
    use vigil_core::protocol::{LogAttribute, Value};

    /// Collects key-values into a map, converted by the function, the
    /// last value of a repeated key winning.
    pub(super) struct Collect<'a, M, T>(
        pub(super) &'a mut M,
        pub(super) fn(&log::kv::Value<'_>) -> T,
    );

    impl<'kvs, M, T> VisitSource<'kvs> for Collect<'_, M, T>
    where
        M: Extend<(String, T)>,
    {
        fn visit_pair(&mut self, key: Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), Error> {
            self.0
                .extend(std::iter::once((key.as_str().to_owned(), (self.1)(&value))));
            Ok(())
        }
    }

    /// The typed attribute of a value: integers, floats, booleans and
    /// strings keep their type (non-finite floats and integers outside the
    /// `i64` range become text once sent); anything else (null, values
    /// captured with `:?` or `:%`, errors, ...) becomes its text.
    pub(super) fn to_log_attribute(value: &log::kv::Value<'_>) -> LogAttribute {
        LogAttribute(match to_json(value) {
            Value::Null => Value::String(value.to_string()),
            json => json,
        })
    }

    /// Numbers, booleans, strings and nulls keep their JSON type; anything
    /// else (captured with `:?`, `:%`, errors, ...) becomes its text.
    pub(super) fn to_json(value: &log::kv::Value<'_>) -> Value {
        let mut out = None;
        let _ = value.visit(ToJson(&mut out));
        out.unwrap_or_else(|| Value::String(value.to_string()))
    }

    struct ToJson<'a>(&'a mut Option<Value>);

    impl<'v> VisitValue<'v> for ToJson<'_> {
        fn visit_any(&mut self, value: log::kv::Value<'_>) -> Result<(), Error> {
            *self.0 = Some(Value::String(value.to_string()));
            Ok(())
        }

        fn visit_null(&mut self) -> Result<(), Error> {
            *self.0 = Some(Value::Null);
            Ok(())
        }

        fn visit_u64(&mut self, value: u64) -> Result<(), Error> {
            *self.0 = Some(value.into());
            Ok(())
        }

        fn visit_i64(&mut self, value: i64) -> Result<(), Error> {
            *self.0 = Some(value.into());
            Ok(())
        }

        fn visit_u128(&mut self, value: u128) -> Result<(), Error> {
            *self.0 = Some(match u64::try_from(value) {
                Ok(v) => v.into(),
                Err(_) => value.to_string().into(),
            });
            Ok(())
        }

        fn visit_i128(&mut self, value: i128) -> Result<(), Error> {
            *self.0 = Some(match i64::try_from(value) {
                Ok(v) => v.into(),
                Err(_) => value.to_string().into(),
            });
            Ok(())
        }

        fn visit_f64(&mut self, value: f64) -> Result<(), Error> {
            // JSON has no NaN or infinities: those are sent as text.
            *self.0 = Some(if value.is_finite() {
                value.into()
            } else {
                value.to_string().into()
            });
            Ok(())
        }

        fn visit_bool(&mut self, value: bool) -> Result<(), Error> {
            *self.0 = Some(value.into());
            Ok(())
        }

        fn visit_str(&mut self, value: &str) -> Result<(), Error> {
            *self.0 = Some(value.into());
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn typed_values() {
            use log::kv::Value as V;
            assert_eq!(to_json(&V::from(7u64)), Value::from(7));
            assert_eq!(to_json(&V::from(-7i64)), Value::from(-7));
            assert_eq!(
                to_json(&V::from(u128::MAX)),
                Value::from(u128::MAX.to_string())
            );
            assert_eq!(to_json(&V::from(1.5f64)), Value::from(1.5));
            assert_eq!(to_json(&V::from(f64::NAN)), Value::from("NaN"));
            assert_eq!(to_json(&V::from(true)), Value::from(true));
            assert_eq!(to_json(&V::from("s")), Value::from("s"));
            assert_eq!(to_json(&V::from('c')), Value::from("c"));
            assert_eq!(to_json(&V::null()), Value::Null);
            let list = [1, 2];
            assert_eq!(to_json(&V::from_debug(&list)), Value::from("[1, 2]"));
        }
    }
}
