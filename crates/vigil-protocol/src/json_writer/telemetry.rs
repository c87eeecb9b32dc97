//! The JSON of the container items' records, [`Log`]s and [`Metric`]s,
//! written by hand into a [`JsonSink`]: byte for byte what `serde_json`
//! writes for their `Serialize` impls, with the keys as literal bytes,
//! ids copied in without an escape scan and attribute types as literals.
//!
//! Keep these writers in step with those impls (`log.rs`, `metric.rs`);
//! the property tests in `json_writer::tests` compare them.

use serde_json::Value;

use super::object::{write_list, write_map};
use super::sink::JsonSink;
use crate::log::{Log, LogAttribute};
use crate::metric::Metric;

/// Writes `{"items":[...]}` with each record by `write_record`.
pub(super) fn write_container<S: JsonSink, T>(
    records: &[T],
    out: &mut S,
    write_record: impl FnMut(&mut S, &T),
) {
    out.raw(br#"{"items":"#);
    write_list(out, records, write_record);
    out.raw(b"}");
}

/// Writes `log` as its `Serialize` impl does.
pub(super) fn write_log<S: JsonSink>(log: &Log, out: &mut S) {
    out.raw(br#"{"timestamp":"#);
    out.serialized(&crate::time::to_f64(log.timestamp));
    if let Some(trace_id) = log.trace_id {
        out.raw(br#","trace_id":"#);
        out.verbatim_string(|| trace_id.to_hex());
    }
    if let Some(span_id) = log.span_id() {
        out.raw(br#","span_id":"#);
        out.verbatim_string(|| span_id.to_hex());
    }
    out.raw(br#","level":"#);
    out.plain_string(log.level.as_str());
    out.raw(br#","body":"#);
    out.string(&log.body);
    if let Some(number) = log.severity_number {
        out.raw(br#","severity_number":"#);
        out.serialized(&number);
    }
    if !log.attributes.is_empty() {
        out.raw(br#","attributes":"#);
        write_map(out, &log.attributes, |out, attribute| {
            write_attribute(attribute, out);
        });
    }
    out.raw(b"}");
}

/// Writes `metric` as its derived `Serialize` impl does.
pub(super) fn write_metric<S: JsonSink>(metric: &Metric, out: &mut S) {
    out.raw(br#"{"type":"#);
    out.plain_string(metric.r#type.as_str());
    out.raw(br#","name":"#);
    out.string(&metric.name);
    out.raw(br#","value":"#);
    out.serialized(&metric.value);
    out.raw(br#","timestamp":"#);
    out.serialized(&crate::time::to_f64(metric.timestamp));
    out.raw(br#","trace_id":"#);
    out.verbatim_string(|| metric.trace_id.to_hex());
    if let Some(span_id) = metric.span_id {
        out.raw(br#","span_id":"#);
        out.verbatim_string(|| span_id.to_hex());
    }
    if let Some(unit) = &metric.unit {
        out.raw(br#","unit":"#);
        out.string(unit.as_str());
    }
    if !metric.attributes.is_empty() {
        out.raw(br#","attributes":"#);
        write_map(out, &metric.attributes, |out, attribute| {
            write_attribute(attribute, out);
        });
    }
    out.raw(b"}");
}

/// Writes `{"value":…,"type":"…"}` as [`LogAttribute`]'s `Serialize`
/// impl does.
fn write_attribute<S: JsonSink>(attribute: &LogAttribute, out: &mut S) {
    out.raw(br#"{"value":"#);
    let ty: &[u8] = match &attribute.0 {
        Value::String(text) => {
            out.string(text);
            br#","type":"string"}"#
        }
        Value::Bool(flag) => {
            out.raw(if *flag { b"true" } else { b"false" });
            br#","type":"boolean"}"#
        }
        Value::Number(number) if number.is_i64() => {
            out.serialized(number);
            br#","type":"integer"}"#
        }
        Value::Number(number) if number.is_u64() => {
            out.string(&number.to_string());
            br#","type":"string"}"#
        }
        Value::Number(number) => {
            out.serialized(number);
            br#","type":"double"}"#
        }
        other => {
            out.string(&other.to_string());
            br#","type":"string"}"#
        }
    };
    out.raw(ty);
}
