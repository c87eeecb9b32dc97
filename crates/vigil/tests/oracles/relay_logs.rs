//! Structured-log oracle: Relay's rules for `log` items, restated here
//! because no Python binding of Relay validates logs
//! (`protocol-telemetry.md` §D.6).
//!
//! - Envelope (`relay-server`'s item-size and envelope checks): at most one
//!   `log` item per envelope (a second makes Relay reject the whole
//!   envelope with 413), each log at most `max_log_size` (2 MiB, checked as
//!   the item's length divided by its `item_count`).
//! - Item header: `item_count` equal to the number of logs, the content
//!   type `application/vnd.sentry.items.log+json`.
//! - Payload (`relay-event-schema`'s `OurLog`): `{"items": [..]}` (and an
//!   optional `version`); each log has a finite `timestamp`, a `trace_id`
//!   (32 hex digits), a `level` of `trace`, `debug`, `info`, `warn`,
//!   `error` or `fatal`, a string `body`; a `span_id` is 16 hex digits; a
//!   `severity_number` is 1 to 24; each attribute is `{"value", "type"}`
//!   with a type of `string`, `boolean`, `integer` (an i64), `double` or
//!   `array` (of one primitive type) whose value matches it (checked by
//!   `relay_attributes.rs`, shared with the trace-metric oracle).
//!
//! Stricter than Relay, each an SDK rule of the spec: no `trace` (sampling
//! context) header on an envelope with logs, at most 100 logs per item,
//! no field Relay does not know (Relay would keep it as "other", unseen),
//! and the `sentry.message.template` attribute only with parameters.

use serde_json::{Map, Value};

use super::relay_attributes::{check_attributes, is_hex};

/// Relay's `max_log_size` default (`relay-config`).
const MAX_LOG_SIZE: usize = 2 * 1024 * 1024;
/// SDK rule: at most this many logs in one item.
const MAX_LOGS_PER_ITEM: usize = 100;
const CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];
const LOG_FIELDS: [&str; 7] = [
    "timestamp",
    "trace_id",
    "span_id",
    "level",
    "body",
    "severity_number",
    "attributes",
];

/// Checks the `log` items of one serialized envelope; returns how many
/// logs it checked.
pub(crate) fn check_envelope_logs(bytes: &[u8]) -> Result<usize, String> {
    let (header, items) = super::raw_envelope::split(bytes)?;
    let mut log_items = 0;
    let mut logs = 0;
    for item in items.iter().filter(|item| item.ty() == Some("log")) {
        let (item_header, payload) = (&item.header, item.payload);
        log_items += 1;
        if log_items > 1 {
            return Err("a second log item in one envelope (Relay answers 413)".into());
        }
        if header.contains_key("trace") {
            return Err("an envelope with logs carries a trace (sampling context) header".into());
        }
        logs += check_item(item_header, payload)?;
    }
    Ok(logs)
}

fn check_item(header: &Map<String, Value>, payload: &[u8]) -> Result<usize, String> {
    if header.get("content_type").and_then(Value::as_str) != Some(CONTENT_TYPE) {
        return Err(format!(
            "log item content_type is {:?}",
            header.get("content_type")
        ));
    }
    let payload: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|e| format!("log payload: {e}"))?;
    if let Some(key) = payload
        .keys()
        .find(|k| !["items", "version"].contains(&k.as_str()))
    {
        return Err(format!("unknown field {key:?} in the log payload"));
    }
    let items = payload
        .get("items")
        .and_then(Value::as_array)
        .ok_or("log payload without an items array")?;
    let count = header.get("item_count").and_then(Value::as_u64);
    if count != Some(items.len() as u64) {
        return Err(format!("item_count {count:?} but {} logs", items.len()));
    }
    if items.is_empty() || items.len() > MAX_LOGS_PER_ITEM {
        return Err(format!(
            "{} logs in one item (1 to {MAX_LOGS_PER_ITEM})",
            items.len()
        ));
    }
    let length = serde_json::to_vec(&payload).map_or(0, |v| v.len());
    if length / items.len() > MAX_LOG_SIZE {
        return Err(format!(
            "logs of {} bytes on average, over max_log_size",
            length / items.len()
        ));
    }
    for (i, log) in items.iter().enumerate() {
        check_log(log).map_err(|e| format!("log {i}: {e}"))?;
    }
    Ok(items.len())
}

fn check_log(log: &Value) -> Result<(), String> {
    let log = log.as_object().ok_or("not an object")?;
    if let Some(key) = log.keys().find(|k| !LOG_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {key:?}"));
    }
    let timestamp = log
        .get("timestamp")
        .and_then(Value::as_f64)
        .ok_or("no numeric timestamp")?;
    if !timestamp.is_finite() || timestamp <= 0.0 {
        return Err(format!("timestamp {timestamp}"));
    }
    match log.get("trace_id").and_then(Value::as_str) {
        Some(id) if is_hex(id, 32) => {}
        other => return Err(format!("trace_id {other:?} (required, 32 hex digits)")),
    }
    if let Some(span_id) = log.get("span_id")
        && !span_id.as_str().is_some_and(|id| is_hex(id, 16))
    {
        return Err(format!("span_id {span_id}"));
    }
    match log.get("level").and_then(Value::as_str) {
        Some(level) if LEVELS.contains(&level) => {}
        other => return Err(format!("level {other:?}")),
    }
    if !log.get("body").is_some_and(Value::is_string) {
        return Err("no string body".into());
    }
    if let Some(number) = log.get("severity_number")
        && !number.as_u64().is_some_and(|n| (1..=24).contains(&n))
    {
        return Err(format!("severity_number {number}"));
    }
    let Some(attributes) = log.get("attributes") else {
        return Ok(());
    };
    let attributes = check_attributes(attributes)?;
    let templated = attributes.contains_key("sentry.message.template");
    let parameters = attributes
        .keys()
        .any(|k| k.starts_with("sentry.message.parameter."));
    if templated && !parameters {
        return Err("a message template without parameters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    const HEADER: &str =
        r#"{"type":"log","item_count":1,"content_type":"application/vnd.sentry.items.log+json"}"#;
    const GOOD: &str = r#"{"items":[{"timestamp":1.5,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","level":"info","body":"b","attributes":{"n":{"value":1,"type":"integer"}}}]}"#;

    #[test]
    fn the_oracle_accepts_a_good_log_and_refuses_each_rule_broken() {
        assert_eq!(
            check_envelope_logs(&envelope(&[(HEADER, GOOD)], false)),
            Ok(1)
        );
        let broken = [
            envelope(&[(HEADER, GOOD), (HEADER, GOOD)], false),
            envelope(&[(HEADER, GOOD)], true),
            envelope(
                &[(
                    &HEADER.replace("\"item_count\":1", "\"item_count\":2"),
                    GOOD,
                )],
                false,
            ),
            envelope(
                &[(
                    HEADER,
                    &GOOD.replace("\"level\":\"info\"", "\"level\":\"warning\""),
                )],
                false,
            ),
            envelope(
                &[(
                    HEADER,
                    &GOOD.replace(",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"", ""),
                )],
                false,
            ),
            envelope(
                &[(
                    HEADER,
                    &GOOD.replace(
                        "\"value\":1,\"type\":\"integer\"",
                        "\"value\":\"1\",\"type\":\"integer\"",
                    ),
                )],
                false,
            ),
            envelope(
                &[(
                    HEADER,
                    &GOOD.replace("\"value\":1,\"type\":\"integer\"", "\"value\":1"),
                )],
                false,
            ),
            envelope(
                &[(
                    HEADER,
                    &GOOD.replace("\"body\":\"b\"", "\"body\":\"b\",\"extra\":1"),
                )],
                false,
            ),
        ];
        for (i, bytes) in broken.iter().enumerate() {
            assert!(check_envelope_logs(bytes).is_err(), "case {i} passed");
        }
    }
}
