//! Records to events and breadcrumbs.

use std::collections::BTreeMap;

use log::Record;
use vigil_core::protocol::{Breadcrumb, Context, Event, Level, Map, Value};

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

#[cfg(not(feature = "kv"))]
fn key_values(_: &Record<'_>) -> BTreeMap<String, Value> {
    BTreeMap::new()
}

#[cfg(feature = "kv")]
fn key_values(record: &Record<'_>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // `Collect` never fails, so neither does the walk.
    let _ = record.key_values().visit(&mut kv::Collect(&mut out));
    out
}

#[cfg(feature = "kv")]
mod kv {
    use std::collections::BTreeMap;

    use log::kv::{Error, Key, VisitSource, VisitValue};
    use vigil_core::protocol::Value;

    /// Collects key-values as JSON, the last value of a repeated key
    /// winning.
    pub(super) struct Collect<'a>(pub(super) &'a mut BTreeMap<String, Value>);

    impl<'kvs> VisitSource<'kvs> for Collect<'_> {
        fn visit_pair(&mut self, key: Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), Error> {
            self.0.insert(key.as_str().to_owned(), to_json(&value));
            Ok(())
        }
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
