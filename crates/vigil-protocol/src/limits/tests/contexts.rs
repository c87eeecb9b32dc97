//! Contexts: budgets, room for derived fields, `trace` fields.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::Map;
use smol_str::SmolStr;

use super::{assert_cut, long, trimmed};
use crate::context::{AppContext, Context, DeviceContext, OsContext, RuntimeContext, TraceContext};
use crate::event::Event;
use crate::limits::fields::contexts::{fit_as_value, fit_fields, trim_context};
use crate::limits::json_size::{serialized_size, str_size};
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
        op: Some(long(300).into()),
        origin: Some(long(200).into()),
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
        contexts: BTreeMap::from([("custom".into(), Context::Other(map.into_iter().collect()))]),
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_value(&event.contexts["custom"]).unwrap(),
        json!({"a": {"b": {"c": {"d": {"e": {"f": "{\"g\":1}"}}}}}})
    );
}

/// Free values of a context: strings with escapes, a float counted
/// longer than written, nesting.
fn bag_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(1.5e300)),
        "[a-z\"\\\n]{0,40}".prop_map(Value::from),
        "[a-z\"]{0,3000}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn bag() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("type|[a-z]{0,6}", bag_value(), 0..5)
        .prop_map(|m| m.into_iter().collect())
}

fn opt_long_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z \"]{0,1500}")
}

fn any_context() -> impl Strategy<Value = Context> {
    prop_oneof![
        (opt_long_text(), opt_long_text(), bag()).prop_map(|(op, description, data)| {
            Context::from(TraceContext {
                op: op.map(SmolStr::from),
                description,
                data,
                ..Default::default()
            })
        }),
        (opt_long_text(), opt_long_text(), opt_long_text(), bag()).prop_map(
            |(name, version, raw_description, other)| Context::from(OsContext {
                name,
                version,
                raw_description,
                other,
                ..Default::default()
            })
        ),
        (opt_long_text(), bag()).prop_map(|(name, other)| Context::from(RuntimeContext {
            name,
            other,
            ..Default::default()
        })),
        (opt_long_text(), bag()).prop_map(|(arch, other)| Context::from(DeviceContext {
            arch,
            other,
            ..Default::default()
        })),
        (opt_long_text(), bag()).prop_map(|(app_name, other)| Context::from(AppContext {
            app_name,
            other,
            ..Default::default()
        })),
        bag().prop_map(Context::Other),
        (opt_long_text(), bag()).prop_map(|(message, other)| {
            let mut feedback = crate::feedback::Feedback::new(message.unwrap_or_default());
            feedback.other = other;
            Context::from(feedback)
        }),
    ]
}

/// The free values of `context`.
fn free_values(context: &mut Context) -> &mut Map<String, Value> {
    match context {
        Context::Os(os) => &mut os.other,
        Context::Runtime(runtime) => &mut runtime.other,
        Context::Device(device) => &mut device.other,
        Context::App(app) => &mut app.other,
        Context::Trace(trace) => &mut trace.data,
        Context::Other(map) => map,
        Context::Feedback(feedback) => &mut feedback.other,
    }
}

/// A value with `levels` nested containers around a string.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!("leaf"), |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({ "k": inner })
        }
    })
}

/// Named contexts on both sides of the limits: padded to within a few
/// bytes of their budget (8 KiB less the room kept for what Relay adds) or
/// within a few hundred, or holding a value nested around the depth limit.
fn context_near_limits() -> impl Strategy<Value = (String, Context)> {
    (
        "trace|os|custom|[a-z\"]{0,300}",
        any_context(),
        prop::option::of(prop_oneof![-4isize..4, -900isize..0]),
        prop::option::of(3usize..8),
    )
        .prop_map(|(name, mut context, offset, levels)| {
            if let Some(levels) = levels {
                free_values(&mut context).insert("deep".into(), nested(levels));
            }
            if let Some(offset) = offset {
                let reserve = fit_fields(&name, &mut context.clone());
                free_values(&mut context).insert("pad".into(), json!(""));
                let size = serialized_size(&context) as isize;
                let target = (8192 - reserve as isize + offset).max(size);
                let pad = "p".repeat((target - size) as usize);
                free_values(&mut context).insert("pad".into(), json!(pad));
            }
            (name, context)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The shortcut for contexts that are clearly within their limits
    /// changes nothing: trimming gives what the full check as a JSON value
    /// gives.
    #[test]
    fn trimming_a_context_is_the_full_check((name, context) in context_near_limits()) {
        let mut trimmed = context.clone();
        trim_context(&name, &mut trimmed);
        let mut checked = context;
        let reserve = fit_fields(&name, &mut checked);
        fit_as_value(&mut checked, reserve);
        prop_assert_eq!(trimmed, checked);
    }
}
