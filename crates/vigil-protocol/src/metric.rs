//! Trace metrics: [`Metric`] records (counters, gauges, distributions)
//! sent in batches as one `trace_metric` item
//! ([`ItemContainer::Metrics`](crate::ItemContainer::Metrics)).
//!
//! On the wire a metric is
//! `{"timestamp": 1714564800.5, "trace_id": "…", "span_id": "…", "name": "http.requests",
//! "type": "counter", "value": 1.0, "unit": "millisecond", "attributes": {…}}`,
//! with attributes typed like a log's ([`LogAttribute`]).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Map;
use crate::log::LogAttribute;
use crate::trace::span_id::SpanId;
use crate::trace::trace_id::TraceId;

/// What a metric measures, and so how Sentry aggregates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// A count of occurrences (handled requests, processed jobs); summed.
    Counter,
    /// A current state (queue depth, open connections); its last, lowest,
    /// highest, sum and count are kept.
    Gauge,
    /// A value to analyse statistically (response times, payload sizes);
    /// percentiles are kept.
    Distribution,
}

impl MetricType {
    /// The wire name: `counter`, `gauge` or `distribution`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Distribution => "distribution",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit of a metric's value.
///
/// Sentry knows the units listed here (durations, information sizes,
/// fractions); Relay turns any other unit into `none`, so a value sent
/// with [`Unit::Other`] arrives without its unit.
///
/// Converting from text accepts the names (`"millisecond"`, any case) and
/// the usual symbols (`"ms"`, `"KiB"`, `"MB"`, `"%"`):
///
/// ```
/// use vigil_protocol::Unit;
/// assert_eq!(Unit::from("ms"), Unit::Millisecond);
/// assert_eq!(Unit::from("Kilobyte"), Unit::Kilobyte);
/// assert_eq!(Unit::from("MiB"), Unit::Mebibyte);
/// assert_eq!(Unit::from("requests"), Unit::Other("requests".into()));
/// assert_eq!(Unit::Percent.as_str(), "percent");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// 10⁻⁹ seconds.
    Nanosecond,
    /// 10⁻⁶ seconds.
    Microsecond,
    /// 10⁻³ seconds.
    Millisecond,
    /// A second.
    Second,
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds.
    Day,
    /// 7 days.
    Week,
    /// A bit.
    Bit,
    /// 8 bits.
    Byte,
    /// 1,000 bytes.
    Kilobyte,
    /// 1,024 bytes.
    Kibibyte,
    /// 10⁶ bytes.
    Megabyte,
    /// 2²⁰ bytes.
    Mebibyte,
    /// 10⁹ bytes.
    Gigabyte,
    /// 2³⁰ bytes.
    Gibibyte,
    /// 10¹² bytes.
    Terabyte,
    /// 2⁴⁰ bytes.
    Tebibyte,
    /// 10¹⁵ bytes.
    Petabyte,
    /// 2⁵⁰ bytes.
    Pebibyte,
    /// 10¹⁸ bytes.
    Exabyte,
    /// 2⁶⁰ bytes.
    Exbibyte,
    /// A fraction of 1.
    Ratio,
    /// A fraction of 100.
    Percent,
    /// A unit Sentry does not know: sent as written, and dropped by Relay.
    Other(Cow<'static, str>),
}

/// Every known unit with its wire name, for parsing and writing.
static KNOWN_UNITS: [(Unit, &str); 24] = [
    (Unit::Nanosecond, "nanosecond"),
    (Unit::Microsecond, "microsecond"),
    (Unit::Millisecond, "millisecond"),
    (Unit::Second, "second"),
    (Unit::Minute, "minute"),
    (Unit::Hour, "hour"),
    (Unit::Day, "day"),
    (Unit::Week, "week"),
    (Unit::Bit, "bit"),
    (Unit::Byte, "byte"),
    (Unit::Kilobyte, "kilobyte"),
    (Unit::Kibibyte, "kibibyte"),
    (Unit::Megabyte, "megabyte"),
    (Unit::Mebibyte, "mebibyte"),
    (Unit::Gigabyte, "gigabyte"),
    (Unit::Gibibyte, "gibibyte"),
    (Unit::Terabyte, "terabyte"),
    (Unit::Tebibyte, "tebibyte"),
    (Unit::Petabyte, "petabyte"),
    (Unit::Pebibyte, "pebibyte"),
    (Unit::Exabyte, "exabyte"),
    (Unit::Exbibyte, "exbibyte"),
    (Unit::Ratio, "ratio"),
    (Unit::Percent, "percent"),
];

/// Symbols, matched exactly (`b` is a bit, `B` a byte).
static UNIT_SYMBOLS: [(Unit, &str); 24] = [
    (Unit::Nanosecond, "ns"),
    (Unit::Microsecond, "us"),
    (Unit::Microsecond, "µs"),
    (Unit::Millisecond, "ms"),
    (Unit::Second, "s"),
    (Unit::Minute, "min"),
    (Unit::Hour, "h"),
    (Unit::Day, "d"),
    (Unit::Week, "w"),
    (Unit::Bit, "b"),
    (Unit::Byte, "B"),
    (Unit::Kilobyte, "kB"),
    (Unit::Kilobyte, "KB"),
    (Unit::Kibibyte, "KiB"),
    (Unit::Megabyte, "MB"),
    (Unit::Mebibyte, "MiB"),
    (Unit::Gigabyte, "GB"),
    (Unit::Gibibyte, "GiB"),
    (Unit::Terabyte, "TB"),
    (Unit::Tebibyte, "TiB"),
    (Unit::Petabyte, "PB"),
    (Unit::Pebibyte, "PiB"),
    (Unit::Exabyte, "EB"),
    (Unit::Percent, "%"),
];

impl Unit {
    /// The wire name, e.g. `millisecond`; an [`Other`](Unit::Other) unit
    /// as written.
    pub fn as_str(&self) -> &str {
        match self {
            Unit::Other(text) => text,
            known => KNOWN_UNITS
                .iter()
                .find(|(unit, _)| unit == known)
                .map_or("none", |(_, name)| name),
        }
    }

    /// The known unit a name or symbol stands for; `None` for any other.
    fn known(text: &str) -> Option<Unit> {
        let trimmed = text.trim();
        if let Some((unit, _)) = UNIT_SYMBOLS.iter().find(|(_, symbol)| *symbol == trimmed) {
            return Some(unit.clone());
        }
        if trimmed.eq_ignore_ascii_case("EiB") {
            return Some(Unit::Exbibyte);
        }
        let singular = trimmed
            .strip_suffix('s')
            .filter(|s| s.len() > 2)
            .unwrap_or(trimmed);
        KNOWN_UNITS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(singular))
            .map(|(unit, _)| unit.clone())
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Unit {
    fn from(text: &'static str) -> Unit {
        Unit::known(text).unwrap_or(Unit::Other(Cow::Borrowed(text)))
    }
}

impl From<String> for Unit {
    fn from(text: String) -> Unit {
        Unit::known(&text).unwrap_or(Unit::Other(Cow::Owned(text)))
    }
}

impl From<Cow<'static, str>> for Unit {
    fn from(text: Cow<'static, str>) -> Unit {
        Unit::known(&text).unwrap_or(Unit::Other(text))
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Unit, D::Error> {
        String::deserialize(deserializer).map(Unit::from)
    }
}

/// One measurement: a counter increment, a gauge reading or a
/// distribution sample, linked to the trace (and span) it was taken in.
///
/// Usually built by `vigil::metrics::{counter, gauge, distribution}`; the
/// SDK fills the trace, the span and the default attributes
/// (`sentry.sdk.name`, `sentry.release`, `sentry.environment`,
/// `server.address`, …). Every field is public, so a struct literal or
/// `before_send_metric` can set any of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// What the value measures.
    pub r#type: MetricType,
    /// The metric's name, dot-separated (`http.server.duration`).
    pub name: Cow<'static, str>,
    /// The value: the increment of a counter, the reading of a gauge, the
    /// sample of a distribution. Must be finite.
    pub value: f64,
    /// When it was taken.
    #[serde(with = "crate::time::float")]
    pub timestamp: SystemTime,
    /// The trace it was taken in.
    pub trace_id: TraceId,
    /// The span it was taken in, if one was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<SpanId>,
    /// The unit of `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// Typed attributes to filter and group by.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<Cow<'static, str>, LogAttribute>,
}

impl Metric {
    /// About how many bytes the metric takes serialized (what client
    /// reports count as `trace_metric_byte` when it is dropped): its text
    /// exactly, its numbers and the JSON around them roughly.
    pub fn approximate_size(&self) -> u64 {
        const FIXED: usize = 150; // timestamp, ids, type, value and the keys
        const PER_ATTRIBUTE: usize = 30; // `{"value":..,"type":".."}`
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(key, value)| key.len() + value.approximate_len() + PER_ATTRIBUTE)
            .sum();
        let unit = self.unit.as_ref().map_or(0, |unit| unit.as_str().len());
        (FIXED + self.name.len() + unit + attributes) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units_parse_from_names_plurals_and_symbols() {
        for (unit, name) in &KNOWN_UNITS {
            assert_eq!(&Unit::from(*name), unit);
            assert_eq!(&Unit::from(name.to_uppercase()), unit);
            assert_eq!(&Unit::from(format!("{name}s")), unit);
            assert_eq!(unit.as_str(), *name);
        }
        for (unit, symbol) in &UNIT_SYMBOLS {
            assert_eq!(&Unit::from(*symbol), unit, "{symbol}");
        }
        assert_eq!(Unit::from("EiB"), Unit::Exbibyte);
        assert_eq!(Unit::from("b"), Unit::Bit);
        assert_eq!(Unit::from("B"), Unit::Byte);
        assert_eq!(Unit::from("jobs"), Unit::Other("jobs".into()));
        assert_eq!(Unit::from(String::from("s")), Unit::Second);
    }

    #[test]
    fn a_metric_round_trips_through_its_wire_form() {
        let metric = Metric {
            r#type: MetricType::Distribution,
            name: "http.response_time".into(),
            value: 187.5,
            timestamp: crate::time::from_f64(1_714_564_800.5),
            trace_id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            span_id: Some("0123456789abcdef".parse().unwrap()),
            unit: Some(Unit::Millisecond),
            attributes: Map::from([("http.route".into(), LogAttribute::from("/health"))]),
        };
        let wire = serde_json::to_value(&metric).unwrap();
        assert_eq!(
            wire,
            json!({
                "type": "distribution",
                "name": "http.response_time",
                "value": 187.5,
                "timestamp": 1_714_564_800.5,
                "trace_id": "0123456789abcdef0123456789abcdef",
                "span_id": "0123456789abcdef",
                "unit": "millisecond",
                "attributes": {"http.route": {"value": "/health", "type": "string"}},
            })
        );
        let back: Metric = serde_json::from_value(wire).unwrap();
        assert_eq!(back, metric);
    }

    #[test]
    fn an_unknown_type_is_refused_when_read() {
        let wire = json!({
            "type": "set", "name": "x", "value": 1.0, "timestamp": 1.0,
            "trace_id": "0123456789abcdef0123456789abcdef",
        });
        assert!(serde_json::from_value::<Metric>(wire).is_err());
    }
}
