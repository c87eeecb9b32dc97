//! Recording the fields of events and spans as JSON values.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;

use tracing_core::field::{Field, Visit};
use vigil_core::protocol::{Exception, Value, Values};

/// Field values by name: the names are the callsite's static ones, so
/// recording a field allocates no key. A name recorded again replaces its
/// value.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldValues(Vec<(&'static str, Value)>);

impl FieldValues {
    /// Sets `name` to `value`.
    pub(crate) fn set(&mut self, name: &'static str, value: Value) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.0.push((name, value)),
        }
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Sets every value of `other`.
    pub(crate) fn merge(&mut self, other: FieldValues) {
        for (name, value) in other.0 {
            self.set(name, value);
        }
    }

    /// The names and values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    /// As a map with owned keys (for event extras, breadcrumb data).
    pub(crate) fn into_map(self) -> BTreeMap<String, Value> {
        self.0.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
    }

    /// As a JSON object.
    pub(crate) fn to_object(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        )
    }
}

/// The fields of an event or span, typed as JSON: integers, floats,
/// booleans and strings keep their type; `Debug` values (`?x`), `Display`
/// values (`%x`) and errors become text.
#[derive(Default)]
pub(crate) struct Fields {
    /// The `message` field of an event (spans keep it as a normal field).
    pub(crate) message: Option<String>,
    pub(crate) values: FieldValues,
    /// The exceptions of the first error field (only when asked for).
    pub(crate) exception: Option<Values<Exception>>,
    take_message: bool,
    want_exception: bool,
}

impl Fields {
    /// Fields of an event: `message` is taken apart, and the first field
    /// recorded as an error becomes exceptions if `want_exception`.
    pub(crate) fn for_event(want_exception: bool) -> Fields {
        Fields {
            take_message: true,
            want_exception,
            ..Fields::default()
        }
    }

    /// Fields of a span that has at most `capacity` of them.
    pub(crate) fn for_span(capacity: usize) -> Fields {
        Fields {
            values: FieldValues(Vec::with_capacity(capacity)),
            ..Fields::default()
        }
    }

    fn insert(&mut self, field: &Field, value: Value) {
        if self.take_message && field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.values.set(field.name(), value);
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinities: those are sent as text.
        let value = if value.is_finite() {
            Value::from(value)
        } else {
            Value::from(value.to_string())
        };
        self.insert(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value.into());
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value = match i64::try_from(value) {
            Ok(v) => Value::from(v),
            Err(_) => Value::from(value.to_string()),
        };
        self.insert(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = match u64::try_from(value) {
            Ok(v) => Value::from(v),
            Err(_) => Value::from(value.to_string()),
        };
        self.insert(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.want_exception && self.exception.is_none() {
            self.exception = Some(vigil_core::event_from_error(value).exception);
        }
        self.insert(field, value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}").into());
    }
}
