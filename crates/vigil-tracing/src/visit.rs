//! Recording the fields of events and spans as JSON values.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;

use smallvec::SmallVec;
use smol_str::{SmolStr, SmolStrBuilder};
use tracing_core::field::{Field, Visit};
use vigil_core::protocol::{Exception, Value, Values};

/// A field's value as recorded: JSON's scalar types, with text of up to
/// 23 bytes held inline. Converted to JSON only where it is sent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Bool(bool),
    I64(i64),
    U64(u64),
    /// A finite float (NaN and the infinities are recorded as text).
    F64(f64),
    Text(SmolStr),
    /// An error of an event, as its chain: `"Type: message"` per error,
    /// the outermost first.
    Chain(Vec<String>),
}

impl FieldValue {
    /// The text, for a text value.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// As JSON.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            FieldValue::Bool(value) => Value::from(*value),
            FieldValue::I64(value) => Value::from(*value),
            FieldValue::U64(value) => Value::from(*value),
            FieldValue::F64(value) => Value::from(*value),
            FieldValue::Text(text) => Value::from(text.as_str()),
            FieldValue::Chain(chain) => Value::from(chain.clone()),
        }
    }

    /// Into text (for an event's message).
    fn into_text(self) -> String {
        match self {
            FieldValue::Text(text) => text.into(),
            other => other.to_json().to_string(),
        }
    }
}

/// Field values by name: the names are the callsite's static ones, so
/// recording a field allocates no key, and the first four fields are kept
/// inline. A name recorded again replaces its value.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldValues(SmallVec<[(&'static str, FieldValue); 4]>);

impl FieldValues {
    /// Adds `name` with `value`: for the first recording of a span's or an
    /// event's fields, where each field comes once.
    fn push(&mut self, name: &'static str, value: FieldValue) {
        self.0.push((name, value));
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub(crate) fn set(&mut self, name: &'static str, value: FieldValue) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.0.push((name, value)),
        }
    }

    /// Removes `name` and returns its value.
    pub(crate) fn remove(&mut self, name: &str) -> Option<FieldValue> {
        let index = self.0.iter().position(|(n, _)| *n == name)?;
        Some(self.0.remove(index).1)
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Sets every value of `other`.
    pub(crate) fn merge(&mut self, other: FieldValues) {
        for (name, value) in other.0 {
            self.set(name, value);
        }
    }

    /// The names and values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    /// As a map with owned keys (for event extras, breadcrumb data).
    pub(crate) fn into_map(self) -> BTreeMap<String, Value> {
        self.0
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_json()))
            .collect()
    }

    /// As a JSON object.
    pub(crate) fn to_object(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.to_json()))
                .collect(),
        )
    }
}

/// `value` formatted with `format`, inline when short.
fn text(format: impl FnOnce(&mut SmolStrBuilder) -> fmt::Result) -> FieldValue {
    let mut builder = SmolStrBuilder::new();
    // Writing to a `SmolStrBuilder` cannot fail; a `Debug` impl that
    // reports an error leaves what it wrote.
    let _ = format(&mut builder);
    FieldValue::Text(builder.finish())
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
    /// The name of the field `exception` was made from.
    pub(crate) exception_field: Option<&'static str>,
    /// The error fields as a log shows them (only when asked for): the
    /// chain with each type named from its `Debug` output.
    pub(crate) log_chains: Vec<(&'static str, Vec<String>)>,
    take_message: bool,
    want_exception: bool,
    want_log_chains: bool,
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

    /// Also keeps the error fields as a log shows them
    /// ([`Fields::log_chains`]).
    pub(crate) fn with_log_chains(mut self) -> Fields {
        self.want_log_chains = true;
        self
    }

    /// The value of a field as a log shows it.
    pub(crate) fn log_value(&self, name: &str, value: &FieldValue) -> Value {
        match value {
            FieldValue::Chain(_) => match self.log_chains.iter().find(|(n, _)| *n == name) {
                Some((_, chain)) => Value::from(chain.clone()),
                None => value.to_json(),
            },
            other => other.to_json(),
        }
    }

    fn insert(&mut self, field: &Field, value: FieldValue) {
        if self.take_message && field.name() == "message" {
            self.message = Some(value.into_text());
        } else {
            self.values.push(field.name(), value);
        }
    }

    /// Completes an event's fields once all are recorded: without a
    /// `message` field, a text `error` field (what `#[instrument(err)]`
    /// emits) is the message.
    pub(crate) fn finish(&mut self) {
        if self.take_message
            && self.message.is_none()
            && matches!(self.values.get("error"), Some(FieldValue::Text(_)))
            && let Some(error) = self.values.remove("error")
        {
            self.message = Some(error.into_text());
        }
    }
}

/// An error's chain as text, `"Type: message"` per error, the outermost
/// first, from the exceptions `vigil_core::event_from_error` builds
/// (innermost first).
fn chain_of(exceptions: &[Exception]) -> Vec<String> {
    exceptions
        .iter()
        .rev()
        .filter_map(|exception| {
            let value = exception.value.as_deref()?;
            Some(if exception.ty.is_empty() {
                value.to_owned()
            } else {
                format!("{}: {value}", exception.ty)
            })
        })
        .collect()
}

/// An error's chain as a log shows it, `"Type: message"` per error, the
/// outermost first, each type the leading path of the error's `Debug`
/// output (`Custom` for an `io::Error` made with `io::Error::new`).
fn log_chain_of(error: &(dyn Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(error), |&e| e.source())
        .map(|e| {
            let debug = format!("{e:?}");
            format!("{}: {e}", vigil_core::parse_type_from_debug(&debug))
        })
        .collect()
}

/// The typed value of each kind of field.
mod typed {
    use super::{FieldValue, SmolStr, fmt, text};
    use std::error::Error;
    use std::fmt::Write as _;

    pub(super) fn f64(value: f64) -> FieldValue {
        // JSON has no NaN or infinities: those are sent as text.
        if value.is_finite() {
            FieldValue::F64(value)
        } else {
            text(|out| write!(out, "{value}"))
        }
    }

    pub(super) fn i128(value: i128) -> FieldValue {
        match i64::try_from(value) {
            Ok(v) => FieldValue::I64(v),
            Err(_) => text(|out| write!(out, "{value}")),
        }
    }

    pub(super) fn u128(value: u128) -> FieldValue {
        match u64::try_from(value) {
            Ok(v) => FieldValue::U64(v),
            Err(_) => text(|out| write!(out, "{value}")),
        }
    }

    pub(super) fn str(value: &str) -> FieldValue {
        FieldValue::Text(SmolStr::new(value))
    }

    pub(super) fn error(value: &(dyn Error + 'static)) -> FieldValue {
        text(|out| write!(out, "{value}"))
    }

    pub(super) fn debug(value: &dyn fmt::Debug) -> FieldValue {
        text(|out| write!(out, "{value:?}"))
    }
}

/// A span's fields are recorded straight into its values (each field of
/// a callsite comes once; [`FieldValues::merge`] adds later recordings).
impl Visit for FieldValues {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field.name(), typed::f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field.name(), FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field.name(), FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push(field.name(), typed::i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push(field.name(), typed::u128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field.name(), FieldValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field.name(), typed::str(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.push(field.name(), typed::error(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field.name(), typed::debug(value));
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, typed::f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.insert(field, typed::i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.insert(field, typed::u128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, FieldValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, typed::str(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let exception = vigil_core::event_from_error(value).exception;
        if self.want_log_chains {
            self.log_chains.push((field.name(), log_chain_of(value)));
        }
        let chain = FieldValue::Chain(chain_of(&exception.values));
        if self.want_exception && self.exception.is_none() {
            self.exception = Some(exception);
            self.exception_field = Some(field.name());
        }
        self.insert(field, chain);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, typed::debug(value));
    }
}
