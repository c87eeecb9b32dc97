//! Check-in oracle: Relay's rules for `check_in` items
//! (`relay-monitors`' `process_check_in` and the envelope checks of
//! `relay-server`), restated here because no Python binding of Relay
//! validates check-ins (`protocol-telemetry.md` §E.3).
//!
//! - Envelope: at most one `check_in` item (a second makes Relay reject
//!   the whole envelope with 413), its payload at most
//!   `max_check_in_size` (100 KiB).
//! - Payload (Relay's `CheckIn`, read with serde): `check_in_id` a UUID,
//!   `monitor_slug` a string, `status` set (`in_progress`, `ok`, `error`;
//!   `missed` and anything else become `unknown`), `environment` a string
//!   of at most 64 characters, `duration` a number, `contexts.trace.trace_id`
//!   a UUID, `monitor_config` with a `schedule` of
//!   `{"type":"crontab","value":string}` or
//!   `{"type":"interval","value":u64,"unit":year|month|week|day|hour|minute}`
//!   and `checkin_margin`, `max_runtime`, `failure_issue_threshold`,
//!   `recovery_threshold` (u64), `timezone`, `owner` (strings). The slug
//!   is cut to 50 characters and must not be empty after that.
//!
//! Stricter than Relay, each an SDK rule:
//! - the slug is at most 50 characters already (Relay would cut it; the
//!   SDK must send the slug the monitor has);
//! - the status is one an SDK sends (`missed` and `unknown` are the
//!   server's);
//! - no field Relay's `CheckIn` lacks (Relay drops it when it writes the
//!   check-in on), except `release`: the protocol lists it and
//!   sentry-python sends it, though the Relay read has no such field
//!   (`protocol-telemetry.md`, open point 25);
//! - `check_in_id` is written as 32 hex digits, `duration` is not
//!   negative, the trace context holds only `trace_id`.

use serde_json::{Map, Value};

/// Relay's `max_check_in_size` default (`relay-config`).
const MAX_CHECK_IN_SIZE: usize = 100 * 1024;
/// Relay keeps this many characters of a slug.
const SLUG_LENGTH: usize = 50;
/// Relay rejects a longer environment.
const ENVIRONMENT_LENGTH: usize = 64;
const SDK_STATUSES: [&str; 3] = ["in_progress", "ok", "error"];
const UNITS: [&str; 6] = ["year", "month", "week", "day", "hour", "minute"];
/// Relay's `CheckIn` fields, and `release` (see the module docs).
const CHECK_IN_FIELDS: [&str; 8] = [
    "check_in_id",
    "monitor_slug",
    "status",
    "environment",
    "duration",
    "monitor_config",
    "contexts",
    "release",
];
const CONFIG_FIELDS: [&str; 7] = [
    "schedule",
    "checkin_margin",
    "max_runtime",
    "timezone",
    "failure_issue_threshold",
    "recovery_threshold",
    "owner",
];

/// Checks the `check_in` items of one serialized envelope; returns how
/// many it checked.
pub(crate) fn check_envelope_check_ins(bytes: &[u8]) -> Result<usize, String> {
    let (_, items) = super::raw_envelope::split(bytes)?;
    let mut check_ins = 0;
    for item in items.iter().filter(|item| item.ty() == Some("check_in")) {
        let payload = item.payload;
        check_ins += 1;
        if check_ins > 1 {
            return Err("a second check_in item in one envelope (Relay answers 413)".into());
        }
        if payload.len() > MAX_CHECK_IN_SIZE {
            return Err(format!(
                "a check-in of {} bytes, over max_check_in_size",
                payload.len()
            ));
        }
        check_check_in(payload)?;
    }
    Ok(check_ins)
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn u64_field(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if v.as_u64().is_some() => Ok(()),
        Some(v) => Err(format!("{key} {v} is not a non-negative integer")),
    }
}

fn string_field(object: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("{key} {v} is not a string")),
    }
}

fn check_check_in(payload: &[u8]) -> Result<(), String> {
    let check_in: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|e| format!("check-in payload: {e}"))?;
    if let Some(key) = check_in
        .keys()
        .find(|k| !CHECK_IN_FIELDS.contains(&k.as_str()))
    {
        return Err(format!("unknown field {key:?} (Relay drops it)"));
    }
    match check_in.get("check_in_id").and_then(Value::as_str) {
        Some(id) if is_hex(id, 32) => {}
        other => return Err(format!("check_in_id {other:?} (required, 32 hex digits)")),
    }
    let slug = string_field(&check_in, "monitor_slug")?.unwrap_or_default();
    let cut: String = slug.chars().take(SLUG_LENGTH).collect();
    if cut.is_empty() {
        return Err("an empty monitor_slug (Relay rejects it)".into());
    }
    if cut != slug {
        return Err(format!(
            "monitor_slug {slug:?} is longer than {SLUG_LENGTH} characters (Relay cuts it)"
        ));
    }
    match check_in.get("status") {
        Some(Value::String(status)) if SDK_STATUSES.contains(&status.as_str()) => {}
        other => return Err(format!("status {other:?} (required: {SDK_STATUSES:?})")),
    }
    if let Some(environment) = string_field(&check_in, "environment")?
        && environment.chars().count() > ENVIRONMENT_LENGTH
    {
        return Err(format!(
            "environment longer than {ENVIRONMENT_LENGTH} characters (Relay rejects it)"
        ));
    }
    string_field(&check_in, "release")?;
    match check_in.get("duration") {
        None | Some(Value::Null) => {}
        Some(d) if d.as_f64().is_some_and(|d| d.is_finite() && d >= 0.0) => {}
        Some(d) => return Err(format!("duration {d}")),
    }
    if let Some(contexts) = check_in.get("contexts") {
        check_contexts(contexts)?;
    }
    match check_in.get("monitor_config") {
        None | Some(Value::Null) => Ok(()),
        Some(config) => check_config(config).map_err(|e| format!("monitor_config: {e}")),
    }
}

fn check_contexts(contexts: &Value) -> Result<(), String> {
    let contexts = contexts.as_object().ok_or("contexts is not an object")?;
    if let Some(key) = contexts.keys().find(|k| k.as_str() != "trace") {
        return Err(format!("context {key:?} (only trace is read)"));
    }
    let Some(trace) = contexts.get("trace") else {
        return Ok(());
    };
    let trace = trace.as_object().ok_or("contexts.trace is not an object")?;
    if let Some(key) = trace.keys().find(|k| k.as_str() != "trace_id") {
        return Err(format!("contexts.trace.{key} (Relay drops it)"));
    }
    match trace.get("trace_id").and_then(Value::as_str) {
        Some(id) if is_hex(id, 32) => Ok(()),
        other => Err(format!("contexts.trace.trace_id {other:?}")),
    }
}

fn check_config(config: &Value) -> Result<(), String> {
    let config = config.as_object().ok_or("not an object")?;
    if let Some(key) = config.keys().find(|k| !CONFIG_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {key:?} (Relay drops it)"));
    }
    for key in [
        "checkin_margin",
        "max_runtime",
        "failure_issue_threshold",
        "recovery_threshold",
    ] {
        u64_field(config, key)?;
    }
    string_field(config, "timezone")?;
    string_field(config, "owner")?;
    let schedule = config
        .get("schedule")
        .and_then(Value::as_object)
        .ok_or("no schedule object")?;
    match schedule.get("type").and_then(Value::as_str) {
        Some("crontab") => {
            if schedule.len() != 2 || !schedule.get("value").is_some_and(Value::is_string) {
                return Err(format!("crontab schedule {schedule:?}"));
            }
        }
        Some("interval") => {
            let unit = schedule.get("unit").and_then(Value::as_str);
            if schedule.len() != 3
                || schedule.get("value").and_then(Value::as_u64).is_none()
                || !unit.is_some_and(|u| UNITS.contains(&u))
            {
                return Err(format!("interval schedule {schedule:?}"));
            }
        }
        other => return Err(format!("schedule type {other:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(payloads: &[&str]) -> Vec<u8> {
        let mut out = b"{}".to_vec();
        for payload in payloads {
            out.extend_from_slice(
                format!("\n{{\"type\":\"check_in\",\"length\":{}}}\n", payload.len()).as_bytes(),
            );
            out.extend_from_slice(payload.as_bytes());
        }
        out
    }

    const GOOD: &str = r#"{"check_in_id":"c762b164a9ff4dbea6ae6d29ac3182ae","monitor_slug":"nightly","status":"ok","duration":1.5,"release":"a@1","environment":"prod","contexts":{"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}},"monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * *"},"checkin_margin":5,"max_runtime":30,"timezone":"UTC","owner":"team:x"}}"#;

    #[test]
    fn the_oracle_accepts_a_good_check_in_and_refuses_each_rule_broken() {
        assert_eq!(check_envelope_check_ins(&envelope(&[GOOD])), Ok(1));
        let interval = GOOD.replace(
            r#"{"type":"crontab","value":"0 3 * * *"}"#,
            r#"{"type":"interval","value":5,"unit":"minute"}"#,
        );
        assert_eq!(check_envelope_check_ins(&envelope(&[&interval])), Ok(1));
        let slug = |s: &str| GOOD.replace("\"nightly\"", &format!("{s:?}"));
        assert_eq!(
            check_envelope_check_ins(&envelope(&[&slug(&"s".repeat(50))])),
            Ok(1)
        );
        let environment = |n: usize| GOOD.replace("\"prod\"", &format!("{:?}", "e".repeat(n)));
        assert_eq!(
            check_envelope_check_ins(&envelope(&[&environment(64)])),
            Ok(1)
        );
        let huge = GOOD.replace("\"a@1\"", &format!("{:?}", "r".repeat(MAX_CHECK_IN_SIZE)));
        let broken = [
            // Two check-ins in one envelope.
            envelope(&[GOOD, GOOD]),
            // Over 100 KiB.
            envelope(&[&huge]),
            // Slug empty, slug over 50.
            envelope(&[&slug("")]),
            envelope(&[&slug(&"s".repeat(51))]),
            // Environment over 64.
            envelope(&[&environment(65)]),
            // Status missing, server-only, unknown.
            envelope(&[&GOOD.replace("\"status\":\"ok\",", "")]),
            envelope(&[&GOOD.replace("\"ok\"", "\"missed\"")]),
            envelope(&[&GOOD.replace("\"ok\"", "\"done\"")]),
            // Serde shape: id, duration, trace id, schedule, unit, margin.
            envelope(&[&GOOD.replace("c762b164a9ff4dbea6ae6d29ac3182ae", "c762")]),
            envelope(&[&GOOD.replace("1.5", "\"1.5\"")]),
            envelope(&[&GOOD.replace("4bf92f3577b34da6a3ce929d0e0e4736", "x")]),
            envelope(&[&GOOD.replace("\"crontab\"", "\"cron\"")]),
            envelope(&[&interval.replace("\"minute\"", "\"second\"")]),
            envelope(&[&GOOD.replace("\"checkin_margin\":5", "\"checkin_margin\":-5")]),
            // Fields Relay drops.
            envelope(&[&GOOD.replace("\"duration\"", "\"extra\":1,\"duration\"")]),
            envelope(&[&GOOD.replace("\"timezone\"", "\"extra\":1,\"timezone\"")]),
            envelope(&[&GOOD.replace(
                "\"trace_id\"",
                "\"span_id\":\"b0e6f15b45c36b12\",\"trace_id\"",
            )]),
        ];
        for (i, bytes) in broken.iter().enumerate() {
            assert!(
                check_envelope_check_ins(bytes).is_err(),
                "case {i} passed: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
