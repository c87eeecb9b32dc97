//! Trace-metric oracle: Relay's rules for `trace_metric` items, restated
//! here because no Python binding of Relay validates trace metrics
//! (`protocol-telemetry.md` §D.5, §D.6).
//!
//! - Envelope (`relay-server`'s item-size and envelope checks): at most one
//!   `trace_metric` item per envelope (a second makes Relay reject the
//!   whole envelope), each metric at most `max_trace_metric_size` (1 MiB),
//!   checked as the item's length divided by its `item_count` and, after
//!   parsing, as each metric's own serialized size.
//! - Item header: `item_count` equal to the number of metrics, the content
//!   type `application/vnd.sentry.items.trace-metric+json`.
//! - Payload (`relay-event-schema`'s `TraceMetric`): `{"items": [..]}` (and
//!   an optional `version`); each metric has a finite numeric `timestamp`
//!   (seconds), a `trace_id` (32 hex digits), a string `name`, a `type` of
//!   `counter`, `gauge` or `distribution` (any other makes Relay drop the
//!   metric as invalid) and a finite numeric `value`; a `span_id` is 16
//!   hex digits, a `unit` a string, and the attributes are typed as a
//!   log's (`relay_attributes.rs`).
//! - A `unit` Relay does not know (the duration, information and fraction
//!   units, and `none`) is kept as `none`: the oracle accepts it with a
//!   warning, since the SDK lets users send custom units.
//!
//! Stricter than Relay, each an SDK rule of the spec: no `trace` (sampling
//! context) header on an envelope with trace metrics, at most 100 metrics
//! per item, ids written in lowercase, a `trace_id` and `span_id` other
//! than all zeros, a non-empty `name`, no field Relay does not know
//! (Relay would keep it as "other", unseen) and no `null` unit.

use serde_json::{Map, Value};

use super::relay_attributes::{check_attributes, is_hex};

/// Relay's `max_trace_metric_size` default (`relay-config`).
const MAX_TRACE_METRIC_SIZE: usize = 1024 * 1024;
/// SDK rule: at most this many metrics in one item.
const MAX_METRICS_PER_ITEM: usize = 100;
/// The content type Relay expects on a `trace_metric` item.
const CONTENT_TYPE: &str = "application/vnd.sentry.items.trace-metric+json";
/// The metric types Relay knows.
const TYPES: [&str; 3] = ["counter", "gauge", "distribution"];
/// The units Relay keeps; it turns any other into `none`.
const KNOWN_UNITS: [&str; 25] = [
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "bit",
    "byte",
    "kilobyte",
    "kibibyte",
    "megabyte",
    "mebibyte",
    "gigabyte",
    "gibibyte",
    "terabyte",
    "tebibyte",
    "petabyte",
    "pebibyte",
    "exabyte",
    "exbibyte",
    "ratio",
    "percent",
    "none",
];
/// The fields of Relay's `TraceMetric`.
const METRIC_FIELDS: [&str; 8] = [
    "timestamp",
    "trace_id",
    "span_id",
    "name",
    "type",
    "value",
    "unit",
    "attributes",
];

/// What the oracle found in the `trace_metric` items of one envelope.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Checked {
    /// How many metrics it checked.
    pub(crate) metrics: usize,
    /// What Relay accepts but changes (a unit it does not know), one
    /// line each.
    pub(crate) warnings: Vec<String>,
}

/// Checks the `trace_metric` items of one serialized envelope.
pub(crate) fn check_envelope_trace_metrics(bytes: &[u8]) -> Result<Checked, String> {
    let (header, items) = super::raw_envelope::split(bytes)?;
    let mut checked = Checked::default();
    let mut metric_items = 0;
    for item in items
        .iter()
        .filter(|item| item.ty() == Some("trace_metric"))
    {
        metric_items += 1;
        if metric_items > 1 {
            return Err("a second trace_metric item in one envelope (Relay rejects it)".into());
        }
        if header.contains_key("trace") {
            return Err(
                "an envelope with trace metrics carries a trace (sampling context) header".into(),
            );
        }
        check_item(&item.header, item.payload, &mut checked)?;
    }
    Ok(checked)
}

/// Checks one `trace_metric` item, adding what it found to `checked`.
fn check_item(
    header: &Map<String, Value>,
    payload: &[u8],
    checked: &mut Checked,
) -> Result<(), String> {
    if header.get("content_type").and_then(Value::as_str) != Some(CONTENT_TYPE) {
        return Err(format!(
            "trace_metric item content_type is {:?}",
            header.get("content_type")
        ));
    }
    let length = payload.len();
    let payload: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|e| format!("trace_metric payload: {e}"))?;
    if let Some(key) = payload
        .keys()
        .find(|k| !["items", "version"].contains(&k.as_str()))
    {
        return Err(format!("unknown field {key:?} in the trace_metric payload"));
    }
    let metrics = payload
        .get("items")
        .and_then(Value::as_array)
        .ok_or("trace_metric payload without an items array")?;
    let count = header.get("item_count").and_then(Value::as_u64);
    if count != Some(metrics.len() as u64) {
        return Err(format!(
            "item_count {count:?} but {} metrics",
            metrics.len()
        ));
    }
    if metrics.is_empty() || metrics.len() > MAX_METRICS_PER_ITEM {
        return Err(format!(
            "{} metrics in one item (1 to {MAX_METRICS_PER_ITEM})",
            metrics.len()
        ));
    }
    if length > MAX_TRACE_METRIC_SIZE * metrics.len() {
        return Err(format!(
            "an item of {length} bytes for {} metrics, over max_trace_metric_size each",
            metrics.len()
        ));
    }
    for (i, metric) in metrics.iter().enumerate() {
        let unit = check_metric(metric).map_err(|e| format!("metric {i}: {e}"))?;
        if let Some(unit) = unit {
            checked.warnings.push(format!(
                "metric {i}: unit {unit:?} is not one Relay knows; it arrives as \"none\""
            ));
        }
    }
    checked.metrics += metrics.len();
    Ok(())
}

/// Whether `text` is `len` lowercase hex digits, not all zeros.
fn is_id(text: &str, len: usize) -> bool {
    is_hex(text, len)
        && !text.bytes().any(|b| b.is_ascii_uppercase())
        && text.bytes().any(|b| b != b'0')
}

/// Checks one metric; returns its unit if Relay does not know it.
fn check_metric(metric: &Value) -> Result<Option<&str>, String> {
    let size = serde_json::to_vec(metric).map_or(0, |v| v.len());
    if size > MAX_TRACE_METRIC_SIZE {
        return Err(format!("{size} bytes, over max_trace_metric_size"));
    }
    let metric = metric.as_object().ok_or("not an object")?;
    if let Some(key) = metric.keys().find(|k| !METRIC_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {key:?}"));
    }
    let timestamp = metric
        .get("timestamp")
        .and_then(Value::as_f64)
        .ok_or("no numeric timestamp")?;
    if !timestamp.is_finite() || timestamp <= 0.0 {
        return Err(format!("timestamp {timestamp}"));
    }
    match metric.get("trace_id").and_then(Value::as_str) {
        Some(id) if is_id(id, 32) => {}
        other => {
            return Err(format!(
                "trace_id {other:?} (required, 32 lowercase hex digits, not all zeros)"
            ));
        }
    }
    if let Some(span_id) = metric.get("span_id")
        && !span_id.as_str().is_some_and(|id| is_id(id, 16))
    {
        return Err(format!(
            "span_id {span_id} (16 lowercase hex digits, not all zeros)"
        ));
    }
    match metric.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => {}
        other => return Err(format!("name {other:?} (required, not empty)")),
    }
    match metric.get("type").and_then(Value::as_str) {
        Some(ty) if TYPES.contains(&ty) => {}
        other => return Err(format!("type {other:?} (counter, gauge or distribution)")),
    }
    match metric.get("value") {
        Some(value) if value.as_f64().is_some_and(f64::is_finite) => {}
        other => return Err(format!("value {other:?} (required, a finite number)")),
    }
    if let Some(attributes) = metric.get("attributes") {
        check_attributes(attributes)?;
    }
    match metric.get("unit") {
        None => Ok(None),
        Some(Value::String(unit)) if KNOWN_UNITS.contains(&unit.as_str()) => Ok(None),
        Some(Value::String(unit)) => Ok(Some(unit)),
        Some(other) => Err(format!("unit {other} is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope of `items` (header and payload each), with a `trace`
    /// header if asked.
    fn envelope(items: &[(&str, &str)], trace: bool) -> Vec<u8> {
        let mut out = if trace {
            br#"{"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}}"#.to_vec()
        } else {
            b"{}".to_vec()
        };
        for (header, payload) in items {
            out.push(b'\n');
            out.extend_from_slice(header.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(payload.as_bytes());
        }
        out
    }

    /// The item header for `count` metrics.
    fn header(count: usize) -> String {
        format!(r#"{{"type":"trace_metric","item_count":{count},"content_type":"{CONTENT_TYPE}"}}"#)
    }

    /// The payload holding `metrics`.
    fn payload(metrics: &[&str]) -> String {
        format!(r#"{{"items":[{}]}}"#, metrics.join(","))
    }

    /// An envelope of one item holding `metrics`, with the right header.
    fn one_item(metrics: &[&str]) -> Vec<u8> {
        envelope(&[(&header(metrics.len()), &payload(metrics))], false)
    }

    /// A metric every rule accepts.
    const GOOD: &str = r#"{"timestamp":1.5,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","name":"http.requests","type":"counter","value":1.0,"unit":"millisecond","attributes":{"n":{"value":1,"type":"integer"},"ids":{"value":[1,2],"type":"array"}}}"#;

    /// `GOOD` with `from` replaced by `to` (which must be in it).
    fn good_with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from} is not in the good metric");
        GOOD.replacen(from, to, 1)
    }

    /// Good metrics pass (a bare one, 100 in an item, other item types
    /// beside), a unit Relay does not know only with a warning.
    #[test]
    fn the_oracle_accepts_good_metrics_and_warns_of_unknown_units() {
        let good = Checked {
            metrics: 1,
            warnings: vec![],
        };
        assert_eq!(check_envelope_trace_metrics(&one_item(&[GOOD])), Ok(good));
        let bare = r#"{"timestamp":1,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","name":"q","type":"gauge","value":-3}"#;
        let none = good_with("\"millisecond\"", "\"none\"");
        let hundred = [GOOD; MAX_METRICS_PER_ITEM];
        for (case, bytes, metrics) in [
            ("bare", one_item(&[bare]), 1),
            ("unit none", one_item(&[&none]), 1),
            ("a hundred", one_item(&hundred), 100),
        ] {
            let checked =
                check_envelope_trace_metrics(&bytes).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(
                checked,
                Checked {
                    metrics,
                    warnings: vec![]
                },
                "{case}"
            );
        }
        let custom = good_with("\"millisecond\"", "\"requests\"");
        let checked = check_envelope_trace_metrics(&one_item(&[GOOD, &custom])).unwrap();
        assert_eq!(checked.metrics, 2);
        assert_eq!(
            checked.warnings,
            ["metric 1: unit \"requests\" is not one Relay knows; it arrives as \"none\""]
        );
        let other_items = envelope(
            &[
                (r#"{"type":"log","item_count":0}"#, "{}"),
                (&header(1), &payload(&[GOOD])),
            ],
            false,
        );
        assert_eq!(
            check_envelope_trace_metrics(&other_items).map(|c| c.metrics),
            Ok(1)
        );
    }

    /// Each rule, broken alone, makes the oracle refuse the envelope with
    /// its own error.
    #[test]
    fn the_oracle_refuses_each_rule_broken() {
        let item = |metric: &str| one_item(&[metric]);
        let huge = good_with(
            "\"value\":1,\"type\":\"integer\"",
            &format!(
                "\"value\":\"{}\",\"type\":\"string\"",
                "x".repeat(MAX_TRACE_METRIC_SIZE)
            ),
        );
        let too_many = [GOOD; MAX_METRICS_PER_ITEM + 1];
        // Each case with a part of the error it must give.
        let broken: Vec<(&str, Vec<u8>)> = vec![
            (
                "a second trace_metric item",
                envelope(
                    &[
                        (&header(1), &payload(&[GOOD])),
                        (&header(1), &payload(&[GOOD])),
                    ],
                    false,
                ),
            ),
            (
                "trace (sampling context) header",
                envelope(&[(&header(1), &payload(&[GOOD]))], true),
            ),
            (
                "item_count Some(2) but 1 metrics",
                envelope(&[(&header(2), &payload(&[GOOD]))], false),
            ),
            (
                "item_count None",
                envelope(
                    &[(
                        &header(1).replace("\"item_count\":1,", ""),
                        &payload(&[GOOD]),
                    )],
                    false,
                ),
            ),
            (
                "content_type is",
                envelope(
                    &[(
                        &header(1).replace("trace-metric+json", "log+json"),
                        &payload(&[GOOD]),
                    )],
                    false,
                ),
            ),
            ("101 metrics in one item", one_item(&too_many)),
            ("0 metrics in one item", one_item(&[])),
            (
                "bytes for 1 metrics, over max_trace_metric_size",
                item(&huge),
            ),
            (
                "bytes, over max_trace_metric_size",
                one_item(&[GOOD, &huge]),
            ),
            (
                "unknown field \"x\" in the trace_metric payload",
                envelope(
                    &[(&header(1), &format!(r#"{{"items":[{GOOD}],"x":1}}"#))],
                    false,
                ),
            ),
            (
                "without an items array",
                envelope(&[(&header(1), r#"{"version":2}"#)], false),
            ),
            ("metric 0: not an object", item("[]")),
            (
                "no numeric timestamp",
                item(&good_with("\"timestamp\":1.5,", "")),
            ),
            ("no numeric timestamp", item(&good_with("1.5", "\"1.5\""))),
            ("timestamp -1.5", item(&good_with("1.5", "-1.5"))),
            (
                "trace_id None",
                item(&good_with(
                    ",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"",
                    "",
                )),
            ),
            (
                "trace_id Some(\"4bf92f35\")",
                item(&good_with("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f35")),
            ),
            (
                "trace_id Some(\"4BF92F",
                item(&good_with(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    "4BF92F3577B34DA6A3CE929D0E0E4736",
                )),
            ),
            (
                "trace_id Some(\"0000",
                item(&good_with(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    &"0".repeat(32),
                )),
            ),
            (
                "span_id \"00f067aa\"",
                item(&good_with("00f067aa0ba902b7", "00f067aa")),
            ),
            (
                "span_id \"0000000000000000\"",
                item(&good_with("00f067aa0ba902b7", &"0".repeat(16))),
            ),
            (
                "span_id null",
                item(&good_with("\"00f067aa0ba902b7\"", "null")),
            ),
            (
                "name None",
                item(&good_with("\"name\":\"http.requests\",", "")),
            ),
            (
                "name Some(\"\")",
                item(&good_with("\"http.requests\"", "\"\"")),
            ),
            ("name None", item(&good_with("\"http.requests\"", "7"))),
            ("type None", item(&good_with("\"type\":\"counter\",", ""))),
            (
                "type Some(\"set\")",
                item(&good_with("\"counter\"", "\"set\"")),
            ),
            ("value None", item(&good_with("\"value\":1.0,", ""))),
            (
                "value Some(String",
                item(&good_with("\"value\":1.0", "\"value\":\"1\"")),
            ),
            (
                "value Some(Null)",
                item(&good_with("\"value\":1.0", "\"value\":null")),
            ),
            (
                "unit 3 is not a string",
                item(&good_with("\"millisecond\"", "3")),
            ),
            (
                "unit null is not a string",
                item(&good_with("\"millisecond\"", "null")),
            ),
            (
                "is not of type integer",
                item(&good_with(
                    "\"value\":1,\"type\":\"integer\"",
                    "\"value\":\"1\",\"type\":\"integer\"",
                )),
            ),
            (
                "attribute \"n\": no type",
                item(&good_with(
                    "\"value\":1,\"type\":\"integer\"",
                    "\"value\":1",
                )),
            ),
            (
                "is not of type array",
                item(&good_with("[1,2]", "[1,\"2\"]")),
            ),
            (
                "attributes is not an object",
                item(&good_with(
                    &GOOD[GOOD.find("{\"n\"").unwrap()..GOOD.len() - 1],
                    "[]",
                )),
            ),
            (
                "metric 0: unknown field \"extra\"",
                item(&good_with("\"value\":1.0", "\"value\":1.0,\"extra\":1")),
            ),
        ];
        for (expected, bytes) in &broken {
            match check_envelope_trace_metrics(bytes) {
                Err(error) => assert!(
                    error.contains(expected),
                    "expected an error with {expected:?}, got {error:?}"
                ),
                Ok(checked) => panic!("the case of {expected:?} passed: {checked:?}"),
            }
        }
    }
}
