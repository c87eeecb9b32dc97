//! Contexts: budgets, room for derived fields, `trace` fields.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{assert_cut, long, trimmed};
use crate::context::{Context, OsContext, RuntimeContext, TraceContext};
use crate::event::Event;
use crate::limits::json_size::str_size;
use crate::trace::span_status::SpanStatus;

const TRACE_ID: &str = "0123456789abcdef0123456789abcdef";
const SPAN_ID: &str = "0123456789abcdef";

#[test]
fn contexts_are_limited_to_8k_each_and_keep_their_type() {
    let other: Map<String, Value> = (0..200)
        .map(|i| (format!("k{i:03}"), json!(long(60))))
        .collect();
    let mut contexts = BTreeMap::new();
    contexts.insert("custom".to_owned(), Context::Other(other));
    contexts.insert(
        "device".to_owned(),
        Context::from(crate::context::DeviceContext {
            arch: Some("x86_64".into()),
            other: [("blob".to_owned(), json!(long(10_000)))]
                .into_iter()
                .collect(),
            ..Default::default()
        }),
    );
    let event = trimmed(Event {
        contexts,
        ..Default::default()
    });
    let custom = serde_json::to_value(&event.contexts["custom"]).unwrap();
    assert!(serde_json::to_vec(&custom).unwrap().len() <= 8192);
    assert!(custom.get("k000").is_some());
    assert!(custom.get("k199").is_none());
    let Context::Device(device) = &event.contexts["device"] else {
        panic!("still a device context: {:?}", event.contexts["device"]);
    };
    assert_eq!(device.arch.as_deref(), Some("x86_64"));
    let size = serde_json::to_vec(&event.contexts["device"]).unwrap().len();
    assert!(size <= 8192, "{size}");
    assert!(device.other["blob"].as_str().unwrap().ends_with("..."));
}

#[test]
fn os_and_runtime_contexts_keep_room_for_derived_fields() {
    let os = OsContext {
        name: Some(long(2000)),
        version: Some(long(1500)),
        other: [("blob".to_owned(), json!(long(6000)))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let runtime = RuntimeContext {
        name: Some("rustc".into()),
        version: Some("1.85.0".into()),
        raw_description: Some(long(9000)),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([
            ("os".into(), Context::from(os)),
            ("runtime".into(), Context::from(runtime)),
        ]),
        ..Default::default()
    });
    let Context::Os(os) = &event.contexts["os"] else {
        panic!("{:?}", event.contexts["os"]);
    };
    // 1 KiB as JSON: 1022 chars and the quotes.
    assert_cut(os.name.as_deref().unwrap(), 1022);
    assert_cut(os.version.as_deref().unwrap(), 1022);
    // Relay adds `os` = "name version" before measuring the context.
    let size = serde_json::to_vec(&event.contexts["os"]).unwrap().len();
    assert!(size + 1024 + 1024 + 16 <= 8192, "{size}");
    assert!(os.other["blob"].as_str().unwrap().ends_with("..."));
    let Context::Runtime(runtime) = &event.contexts["runtime"] else {
        panic!("{:?}", event.contexts["runtime"]);
    };
    assert_eq!(runtime.version.as_deref(), Some("1.85.0"));
    assert_cut(runtime.raw_description.as_deref().unwrap(), 1022);
}

#[test]
fn os_fields_full_of_escapes_still_leave_room() {
    // `\u{1}` takes 6 bytes in JSON: the caps are in bytes, not chars.
    let os = OsContext {
        name: Some("\u{1}".repeat(3000)),
        version: Some("\n".repeat(3000)),
        raw_description: Some("é".repeat(3000)),
        other: [("blob".to_owned(), json!({"nested": long(20_000)}))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("os".into(), Context::from(os))]),
        ..Default::default()
    });
    let Context::Os(os) = &event.contexts["os"] else {
        panic!("{:?}", event.contexts["os"]);
    };
    for field in [&os.name, &os.version, &os.raw_description] {
        assert!(str_size(field.as_deref().unwrap()) <= 1024);
    }
    // Relay adds `os` = "name version" before it measures the context.
    let derived = str_size(os.name.as_deref().unwrap()) + str_size(os.version.as_deref().unwrap());
    let size = serde_json::to_vec(&event.contexts["os"]).unwrap().len();
    assert!(size + derived + 16 <= 8192, "{size} + {derived}");
    assert!(size > 4000, "the rest of the budget is used: {size}");
}

#[test]
fn trace_op_and_origin_are_limited_to_128_chars() {
    let trace = TraceContext {
        trace_id: TRACE_ID.parse().unwrap(),
        span_id: SPAN_ID.parse().unwrap(),
        op: Some(long(300)),
        origin: Some(long(200)),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("trace".into(), Context::from(trace))]),
        ..Default::default()
    });
    let Context::Trace(trace) = &event.contexts["trace"] else {
        panic!("{:?}", event.contexts["trace"]);
    };
    assert_cut(trace.op.as_deref().unwrap(), 128);
    assert_cut(trace.origin.as_deref().unwrap(), 128);
}

#[test]
fn trace_origin_and_status_must_be_valid() {
    // Read from JSON: a `SpanStatus` cannot hold an unknown name, so the
    // status is checked where the text becomes one.
    let trace = |origin: &str, status: &str| {
        let context = serde_json::from_value::<Context>(json!({
            "type": "trace",
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "status": status,
            "origin": origin,
        }))
        .unwrap();
        let event = trimmed(Event {
            contexts: BTreeMap::from([("trace".into(), context)]),
            ..Default::default()
        });
        let Context::Trace(trace) = &event.contexts["trace"] else {
            panic!("{:?}", event.contexts["trace"]);
        };
        (trace.origin.clone(), trace.status)
    };
    assert_eq!(
        trace("auto.http.axum", "internal_error"),
        (
            Some("auto.http.axum".into()),
            Some(SpanStatus::InternalError)
        )
    );
    assert_eq!(trace("auto-http", "broken"), (None, None));
    assert_eq!(trace("manual", "OK"), (Some("manual".into()), None));
}

#[test]
fn context_values_deeper_than_7_levels_become_text() {
    let deep = json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}});
    let Value::Object(map) = deep else {
        unreachable!()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("custom".into(), Context::Other(map))]),
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_value(&event.contexts["custom"]).unwrap(),
        json!({"a": {"b": {"c": {"d": {"e": {"f": "{\"g\":1}"}}}}}})
    );
}
