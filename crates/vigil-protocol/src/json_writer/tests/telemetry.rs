//! The log and trace-metric writers against `serde_json` and the
//! `Serialize` impls: records with every field present or absent and
//! attributes of every JSON kind (`u64` beyond `i64`, floats, lists,
//! objects, `null`), in items of 0 to 12 records.

use proptest::prelude::*;
use serde_json::Value;

use super::{Floats, json, same_json, span_id, text, time, trace_id};
use crate::Map;
use crate::json_writer::{write_log_container, write_metric_container};
use crate::log::{ContainerPayloadRef, Log, LogAttribute, LogLevel, PARENT_SPAN_ID};
use crate::metric::{Metric, MetricType, Unit};

fn attributes() -> impl Strategy<Value = Map<String, LogAttribute>> {
    prop::collection::btree_map(text(), json(Floats::Allowed).prop_map(LogAttribute), 0..6)
}

fn level() -> impl Strategy<Value = LogLevel> {
    prop::sample::select(
        &[
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Fatal,
        ][..],
    )
}

prop_compose! {
    fn log()(
        level in level(),
        body in text(),
        trace_id in prop::option::of(trace_id()),
        span_id in prop::option::of(span_id()),
        timestamp in time(),
        severity_number in prop::option::of(1u8..=24),
        mut attributes in attributes(),
    ) -> Log {
        if let Some(span_id) = span_id {
            attributes.insert(PARENT_SPAN_ID.to_owned(), LogAttribute::from(span_id.to_string()));
        }
        Log { level, body, trace_id, timestamp, severity_number, attributes }
    }
}

fn unit() -> impl Strategy<Value = Option<Unit>> {
    prop::option::of(prop_oneof![
        Just(Unit::Millisecond),
        Just(Unit::Kibibyte),
        Just(Unit::Percent),
        text().prop_map(Unit::from),
    ])
}

prop_compose! {
    fn metric()(
        r#type in prop::sample::select(
            &[MetricType::Counter, MetricType::Gauge, MetricType::Distribution][..]
        ),
        name in text(),
        value in prop_oneof![any::<f64>(), any::<i32>().prop_map(f64::from)],
        timestamp in time(),
        trace_id in trace_id(),
        span_id in prop::option::of(span_id()),
        unit in unit(),
        attributes in attributes(),
    ) -> Metric {
        let attributes = attributes.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Metric { r#type, name: name.into(), value, timestamp, trace_id, span_id, unit, attributes }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn log_items_are_written_as_serde_json_writes_them(
        logs in prop::collection::vec(log(), 0..12)
    ) {
        let mut fast = Vec::new();
        write_log_container(&logs, &mut fast).unwrap();
        let serde = serde_json::to_vec(&ContainerPayloadRef { items: &logs }).unwrap();
        same_json(&fast, &serde)?;
    }

    #[test]
    fn metric_items_are_written_as_serde_json_writes_them(
        metrics in prop::collection::vec(metric(), 0..12)
    ) {
        let mut fast = Vec::new();
        write_metric_container(&metrics, &mut fast).unwrap();
        let serde = serde_json::to_vec(&ContainerPayloadRef { items: &metrics }).unwrap();
        same_json(&fast, &serde)?;
    }
}

#[test]
fn an_attribute_of_each_kind_is_written_with_its_type() {
    let mut attributes = Map::new();
    for (key, value) in [
        ("big", Value::from(u64::MAX)),
        ("list", serde_json::json!([1, "a"])),
        ("none", Value::Null),
        ("ratio", Value::from(0.25)),
        ("yes", Value::from(true)),
    ] {
        attributes.insert(key.to_owned(), LogAttribute(value));
    }
    let log = Log {
        level: LogLevel::Info,
        body: "b".into(),
        trace_id: None,
        timestamp: std::time::UNIX_EPOCH,
        severity_number: None,
        attributes,
    };
    let mut fast = Vec::new();
    write_log_container(std::slice::from_ref(&log), &mut fast).unwrap();
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        concat!(
            r#"{"items":[{"timestamp":0.0,"level":"info","body":"b","attributes":{"#,
            r#""big":{"value":"18446744073709551615","type":"string"},"#,
            r#""list":{"value":"[1,\"a\"]","type":"string"},"#,
            r#""none":{"value":"null","type":"string"},"#,
            r#""ratio":{"value":0.25,"type":"double"},"#,
            r#""yes":{"value":true,"type":"boolean"}}}]}"#
        )
    );
}
