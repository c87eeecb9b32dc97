//! Structured logs on the wire: the `log` item, typed attributes, the
//! span id, and what a dropped batch counts.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use vigil_protocol::{
    DataCategory, Envelope, EnvelopeItem, ItemContainer, Log, LogAttribute, LogLevel, Map,
    PARENT_SPAN_ID, TraceId,
};

use crate::fixtures::{SPAN_ID, TRACE_ID};

fn log(body: &str) -> Log {
    let mut attributes = Map::new();
    attributes.insert("text".to_owned(), LogAttribute::from("a string"));
    attributes.insert("count".to_owned(), LogAttribute::from(3));
    attributes.insert("big".to_owned(), LogAttribute::from(u64::MAX));
    attributes.insert("ratio".to_owned(), LogAttribute::from(0.25));
    attributes.insert("ok".to_owned(), LogAttribute::from(true));
    attributes.insert("ids".to_owned(), LogAttribute::from(vec![1, 2]));
    attributes.insert("mixed".to_owned(), LogAttribute(json!([1, "a"])));
    attributes.insert("nothing".to_owned(), LogAttribute(Value::Null));
    attributes.insert(PARENT_SPAN_ID.to_owned(), LogAttribute::from(SPAN_ID));
    Log {
        level: LogLevel::Warn,
        body: body.to_owned(),
        trace_id: Some(TRACE_ID.parse::<TraceId>().unwrap()),
        timestamp: UNIX_EPOCH + Duration::from_millis(1_714_564_800_500),
        severity_number: Some(LogLevel::Warn.severity_number()),
        attributes,
    }
}

#[test]
fn a_log_is_written_as_sentry_expects() {
    let json = serde_json::to_value(log("disk almost full")).unwrap();
    assert_eq!(
        json,
        json!({
            "timestamp": 1_714_564_800.5,
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "level": "warn",
            "body": "disk almost full",
            "severity_number": 13,
            "attributes": {
                "big": {"value": "18446744073709551615", "type": "string"},
                "count": {"value": 3, "type": "integer"},
                "ids": {"value": "[1,2]", "type": "string"},
                "mixed": {"value": "[1,\"a\"]", "type": "string"},
                "nothing": {"value": "null", "type": "string"},
                "ok": {"value": true, "type": "boolean"},
                "ratio": {"value": 0.25, "type": "double"},
                "sentry.trace.parent_span_id": {"value": SPAN_ID, "type": "string"},
                "text": {"value": "a string", "type": "string"}
            }
        })
    );
}

#[test]
fn levels_have_their_otel_severity_numbers() {
    let levels = [
        (LogLevel::Trace, "trace", 1),
        (LogLevel::Debug, "debug", 5),
        (LogLevel::Info, "info", 9),
        (LogLevel::Warn, "warn", 13),
        (LogLevel::Error, "error", 17),
        (LogLevel::Fatal, "fatal", 21),
    ];
    for (level, name, number) in levels {
        assert_eq!(level.as_str(), name);
        assert_eq!(serde_json::to_value(level).unwrap(), name);
        assert_eq!(level.severity_number(), number);
    }
}

#[test]
fn a_log_item_has_its_count_and_content_type_and_reads_back() {
    let mut envelope = Envelope::new();
    envelope.add_item(ItemContainer::Logs(vec![log("one"), log("two")]));
    let bytes = envelope.to_vec().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines = text.lines();
    lines.next(); // envelope headers
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let payload = lines.next().unwrap();
    assert_eq!(header["type"], "log");
    assert_eq!(header["item_count"], 2);
    assert_eq!(
        header["content_type"],
        "application/vnd.sentry.items.log+json"
    );
    assert_eq!(header["length"], payload.len());
    let payload: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(payload["items"].as_array().unwrap().len(), 2);

    let back = Envelope::from_slice(&bytes).unwrap();
    let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = back.items().next() else {
        panic!("a log item");
    };
    // What reads back is what was written, the typed values as JSON
    // (a u64 too large for an integer comes back as its text).
    let mut expected = log("one");
    expected
        .attributes
        .insert("big".to_owned(), LogAttribute::from(u64::MAX.to_string()));
    expected
        .attributes
        .insert("mixed".to_owned(), LogAttribute::from("[1,\"a\"]"));
    expected
        .attributes
        .insert("nothing".to_owned(), LogAttribute::from("null"));
    expected
        .attributes
        .insert("ids".to_owned(), LogAttribute::from("[1,2]"));
    assert_eq!(logs[0], expected);
    assert_eq!(logs[1].body, "two");
    assert_eq!(logs[0].span_id().unwrap().to_string(), SPAN_ID);
}

#[test]
fn a_top_level_span_id_is_kept_as_the_attribute() {
    let read: Log = serde_json::from_value(json!({
        "timestamp": 1.5,
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "level": "info",
        "body": "b"
    }))
    .unwrap();
    assert_eq!(read.span_id().unwrap().to_string(), SPAN_ID);
    assert_eq!(read.attributes[PARENT_SPAN_ID], LogAttribute::from(SPAN_ID));
    assert!(
        serde_json::from_value::<Log>(json!({"timestamp": 1.5, "level": "loud", "body": "b"}))
            .is_err()
    );
}

#[test]
fn a_dropped_batch_counts_its_logs_and_their_bytes() {
    let item = EnvelopeItem::from(ItemContainer::Logs(vec![log("one"), log("two")]));
    assert_eq!(item.ty(), "log");
    assert_eq!(item.category(), DataCategory::LogItem);
    let outcomes: Vec<_> = item.outcomes().collect();
    assert_eq!(outcomes[0], (DataCategory::LogItem, 2));
    assert_eq!(outcomes[1].0, DataCategory::LogByte);
    // The estimate is within a factor of two of the real size.
    let real: usize = [log("one"), log("two")]
        .iter()
        .map(|l| serde_json::to_vec(l).unwrap().len())
        .sum();
    let estimate = outcomes[1].1 as usize;
    assert!(
        estimate * 2 >= real && estimate <= real * 2,
        "estimate {estimate}, real {real}"
    );
    assert_eq!(
        DataCategory::from_name("log_byte"),
        Some(DataCategory::LogByte)
    );
}
