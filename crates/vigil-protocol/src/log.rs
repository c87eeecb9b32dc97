//! Structured logs: [`Log`] records with typed [`LogAttribute`]s, sent in
//! batches as one `log` item ([`ItemContainer::Logs`]).
//!
//! On the wire a log is
//! `{"timestamp": 1714564800.5, "trace_id": "…", "span_id": "…", "level": "info",
//! "body": "…", "severity_number": 9, "attributes": {"key": {"value": 1, "type": "integer"}}}`.
//! The span a log was written in is kept as the attribute
//! [`PARENT_SPAN_ID`] and written as the top-level `span_id` too.

use std::fmt;
use std::time::SystemTime;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Map;
use crate::metric::Metric;
use crate::trace::span_id::SpanId;
use crate::trace::trace_id::TraceId;

/// The attribute that holds the id of the span a log was written in.
pub const PARENT_SPAN_ID: &str = "sentry.trace.parent_span_id";

/// The severity of a log (OpenTelemetry's severity texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Finer than debugging.
    Trace,
    /// Debugging.
    Debug,
    /// Something happened.
    Info,
    /// Something may be wrong.
    Warn,
    /// Something failed.
    Error,
    /// Something failed and the program cannot go on.
    Fatal,
}

impl LogLevel {
    /// The wire name: `trace`, `debug`, `info`, `warn`, `error` or `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }

    /// The lowest OpenTelemetry severity number of the level (1, 5, 9,
    /// 13, 17, 21).
    pub fn severity_number(self) -> u8 {
        match self {
            LogLevel::Trace => 1,
            LogLevel::Debug => 5,
            LogLevel::Info => 9,
            LogLevel::Warn => 13,
            LogLevel::Error => 17,
            LogLevel::Fatal => 21,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OpenTelemetry severity number (1 to 24).
pub type LogSeverityNumber = u8;

/// The value of a log attribute.
///
/// Written with its type, as Sentry expects: text as `string`, `true` and
/// `false` as `boolean`, a whole number that fits an `i64` as `integer`
/// (a larger one as `string`), other numbers as `double`; lists, objects
/// and `null` as their JSON text (`string`: Sentry does not show `array`
/// attributes yet, and the reference SDK writes them as text too).
///
/// ```
/// use vigil_protocol::LogAttribute;
/// assert_eq!(LogAttribute::from(7u64), LogAttribute::from(7));
/// let json = serde_json::to_value(LogAttribute::from(1.5)).unwrap();
/// assert_eq!(json, serde_json::json!({"value": 1.5, "type": "double"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LogAttribute(pub Value);

macro_rules! attribute_from {
    ($($ty:ty),* $(,)?) => {
        $(impl From<$ty> for LogAttribute {
            fn from(value: $ty) -> LogAttribute {
                LogAttribute(Value::from(value))
            }
        })*
    };
}

attribute_from!(
    &str, String, bool, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64
);

impl From<std::borrow::Cow<'_, str>> for LogAttribute {
    fn from(value: std::borrow::Cow<'_, str>) -> LogAttribute {
        LogAttribute(Value::String(value.into_owned()))
    }
}

impl From<Value> for LogAttribute {
    fn from(value: Value) -> LogAttribute {
        LogAttribute(value)
    }
}

impl<T: Into<LogAttribute>> From<Vec<T>> for LogAttribute {
    fn from(values: Vec<T>) -> LogAttribute {
        LogAttribute(Value::Array(
            values.into_iter().map(|v| v.into().0).collect(),
        ))
    }
}

/// The wire type of a primitive value, `None` for the others.
fn primitive_type(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(n) if n.is_u64() => "string",
        Value::Number(_) => "double",
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    })
}

impl LogAttribute {
    /// The value and wire type this attribute is written with.
    pub fn to_typed(&self) -> (Value, &'static str) {
        match &self.0 {
            Value::Number(n) if !n.is_i64() && n.is_u64() => {
                (Value::String(n.to_string()), "string")
            }
            other => match primitive_type(other) {
                Some(ty) => (other.clone(), ty),
                None => (Value::String(other.to_string()), "string"),
            },
        }
    }
}

impl LogAttribute {
    /// About how many bytes the value takes serialized: text exactly,
    /// numbers and list items as 8.
    pub(crate) fn approximate_len(&self) -> usize {
        match &self.0 {
            Value::String(text) => text.len(),
            Value::Array(values) => values.len() * 8,
            _ => 8,
        }
    }
}

impl Serialize for LogAttribute {
    /// Writes what [`to_typed`](LogAttribute::to_typed) gives, without
    /// copying a primitive value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match &self.0 {
            Value::Number(n) if !n.is_i64() && n.is_u64() => {
                map.serialize_entry("value", &n.to_string())?;
                map.serialize_entry("type", "string")?;
            }
            value => match primitive_type(value) {
                Some(ty) => {
                    map.serialize_entry("value", value)?;
                    map.serialize_entry("type", ty)?;
                }
                None => {
                    map.serialize_entry("value", &value.to_string())?;
                    map.serialize_entry("type", "string")?;
                }
            },
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LogAttribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LogAttribute, D::Error> {
        #[derive(Deserialize)]
        struct Typed {
            value: Value,
        }
        Ok(LogAttribute(Typed::deserialize(deserializer)?.value))
    }
}

/// A structured log: a message with a level, typed attributes and the
/// trace it belongs to.
///
/// Build one with a struct literal (every field named, as in the reference
/// SDK) and send it with `Hub::capture_log`; the SDK fills the trace, the
/// span and the default attributes (`sentry.sdk.name`, `sentry.release`,
/// `sentry.environment`, `server.address`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    /// The severity.
    pub level: LogLevel,
    /// The message, as shown.
    pub body: String,
    /// The trace the log belongs to (required by Sentry: filled from the
    /// scope when `None`).
    pub trace_id: Option<TraceId>,
    /// When it was written.
    pub timestamp: SystemTime,
    /// The OpenTelemetry severity number; by default the one of `level`.
    pub severity_number: Option<LogSeverityNumber>,
    /// Typed attributes.
    pub attributes: Map<String, LogAttribute>,
}

impl Log {
    /// About how many bytes the log takes serialized (what client reports
    /// count as `log_byte` when it is dropped): its text exactly, its
    /// numbers and the JSON around them roughly.
    pub fn approximate_size(&self) -> u64 {
        const FIXED: usize = 140; // timestamp, ids, level and the keys
        const PER_ATTRIBUTE: usize = 30; // `{"value":..,"type":".."}`
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(key, value)| key.len() + value.approximate_len() + PER_ATTRIBUTE)
            .sum();
        (FIXED + self.body.len() + attributes) as u64
    }

    /// The id of the span the log was written in (the attribute
    /// [`PARENT_SPAN_ID`]), if it holds a valid one.
    pub fn span_id(&self) -> Option<SpanId> {
        match &self.attributes.get(PARENT_SPAN_ID)?.0 {
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }
}

impl Serialize for Log {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &crate::time::to_f64(self.timestamp))?;
        if let Some(trace_id) = &self.trace_id {
            map.serialize_entry("trace_id", trace_id)?;
        }
        if let Some(span_id) = self.span_id() {
            map.serialize_entry("span_id", &span_id)?;
        }
        map.serialize_entry("level", &self.level)?;
        map.serialize_entry("body", &self.body)?;
        if let Some(number) = self.severity_number {
            map.serialize_entry("severity_number", &number)?;
        }
        if !self.attributes.is_empty() {
            map.serialize_entry("attributes", &self.attributes)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Log {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Log, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            timestamp: f64,
            #[serde(default)]
            trace_id: Option<TraceId>,
            #[serde(default)]
            span_id: Option<SpanId>,
            level: LogLevel,
            body: String,
            #[serde(default)]
            severity_number: Option<LogSeverityNumber>,
            #[serde(default)]
            attributes: Map<String, LogAttribute>,
        }
        let wire = Wire::deserialize(deserializer)?;
        if !wire.timestamp.is_finite() {
            return Err(D::Error::custom("the timestamp is not a number"));
        }
        let mut attributes = wire.attributes;
        if let Some(span_id) = wire.span_id {
            attributes
                .entry(PARENT_SPAN_ID.to_owned())
                .or_insert_with(|| LogAttribute::from(span_id.to_string()));
        }
        Ok(Log {
            level: wire.level,
            body: wire.body,
            trace_id: wire.trace_id,
            timestamp: crate::time::from_f64(wire.timestamp),
            severity_number: wire.severity_number,
            attributes,
        })
    }
}

/// Items that carry several records of one kind in one envelope item.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ItemContainer {
    /// Structured logs: one `log` item (at most one per envelope, at most
    /// 100 logs).
    Logs(Vec<Log>),
    /// Trace metrics: one `trace_metric` item (at most one per envelope,
    /// at most 100 metrics).
    Metrics(Vec<Metric>),
}

impl ItemContainer {
    /// The item's wire `type`.
    pub fn ty(&self) -> &'static str {
        match self {
            ItemContainer::Logs(_) => "log",
            ItemContainer::Metrics(_) => "trace_metric",
        }
    }

    /// The `content_type` of the item.
    pub fn content_type(&self) -> &'static str {
        match self {
            ItemContainer::Logs(_) => "application/vnd.sentry.items.log+json",
            ItemContainer::Metrics(_) => "application/vnd.sentry.items.trace-metric+json",
        }
    }

    /// How many records the item carries (its `item_count`).
    pub fn len(&self) -> usize {
        match self {
            ItemContainer::Logs(logs) => logs.len(),
            ItemContainer::Metrics(metrics) => metrics.len(),
        }
    }

    /// Whether the item carries no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<Log>> for ItemContainer {
    fn from(logs: Vec<Log>) -> ItemContainer {
        ItemContainer::Logs(logs)
    }
}

impl From<Vec<Metric>> for ItemContainer {
    fn from(metrics: Vec<Metric>) -> ItemContainer {
        ItemContainer::Metrics(metrics)
    }
}

/// The payload of a container item as `serde_json` writes it:
/// `{"items": [...]}` (the reference the hand-written writer of
/// `json_writer` is tested against).
#[cfg(test)]
#[derive(Serialize)]
pub(crate) struct ContainerPayloadRef<'a, T> {
    pub(crate) items: &'a [T],
}

/// The payload of a container item as read.
#[derive(Deserialize)]
pub(crate) struct ContainerPayload<T> {
    pub(crate) items: Vec<T>,
}
