//! Transactions and spans: their JSON, the `transaction` envelope item,
//! what dropping one loses, and the crates.io `sentry-types` parser as an
//! independent reader.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentry_types::protocol::v7 as sentry;
use serde_json::{Value, json};
use vigil_protocol::{
    Context, DataCategory, Envelope, EnvelopeError, EnvelopeItem, Event, Span, SpanStatus,
    TraceContext, Transaction, TransactionInfo, TransactionSource,
};

use crate::fixtures::{fixed_time, object};

const A7_EVENT_ID: &str = "8af16ad50ae742378756408f8877adce";
const A7_TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
const A7_SPAN_ID: &str = "aa8336c618921333";
const A7_PARENT_SPAN_ID: &str = "b0e6f15b45c36b12";
const A7_CHILD_SPAN_ID: &str = "ab00e9cc3dc9dcd7";

/// The transaction of `protocol-telemetry.md` A.7, ending at `end` (the
/// example's times are relative to its end), its span with a tag added so
/// that every span field is set.
pub(crate) fn a7_transaction(end: SystemTime) -> Transaction {
    Transaction {
        event_id: A7_EVENT_ID.parse().unwrap(),
        name: Some("GET /users/{id}".into()),
        transaction_info: Some(TransactionInfo {
            source: TransactionSource::Route,
        }),
        start_timestamp: end - Duration::from_millis(2),
        timestamp: end,
        contexts: BTreeMap::from([(
            "trace".to_owned(),
            Context::from(TraceContext {
                trace_id: A7_TRACE_ID.parse().unwrap(),
                span_id: A7_SPAN_ID.parse().unwrap(),
                parent_span_id: Some(A7_PARENT_SPAN_ID.parse().unwrap()),
                op: Some("http.server".into()),
                status: Some(SpanStatus::Ok),
                origin: Some("auto.http.axum".into()),
                ..Default::default()
            }),
        )]),
        spans: vec![Span {
            span_id: A7_CHILD_SPAN_ID.parse().unwrap(),
            trace_id: A7_TRACE_ID.parse().unwrap(),
            parent_span_id: Some(A7_SPAN_ID.parse().unwrap()),
            op: Some("db.query".into()),
            description: Some("SELECT 1".into()),
            start_timestamp: end - Duration::from_micros(300),
            timestamp: Some(end - Duration::from_micros(200)),
            status: Some(SpanStatus::Ok),
            tags: BTreeMap::from([("db.name".to_owned(), "users".to_owned())]),
            data: object(json!({"db.system": "postgresql"})),
            origin: Some("manual".into()),
        }],
        ..Default::default()
    }
}

/// The example's end, 1796396802.847.
fn a7_end() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_796_396_802_847)
}

/// The A.7 payload as we write it: the docs' example (plus the span tag),
/// with its times as RFC 3339 strings, which every reader of transactions
/// accepts (sentry-types reads no float end times).
fn a7_json() -> Value {
    let mut json = a7_json_with_floats();
    json["start_timestamp"] = "2026-12-04T15:06:42.845000Z".into();
    json["timestamp"] = "2026-12-04T15:06:42.847000Z".into();
    json["spans"][0]["start_timestamp"] = "2026-12-04T15:06:42.846700Z".into();
    json["spans"][0]["timestamp"] = "2026-12-04T15:06:42.846800Z".into();
    json
}

/// The A.7 payload as printed in the docs (float seconds), plus the span
/// tag.
fn a7_json_with_floats() -> Value {
    json!({
        "type": "transaction",
        "event_id": A7_EVENT_ID,
        "transaction": "GET /users/{id}",
        "transaction_info": {"source": "route"},
        "start_timestamp": 1_796_396_802.845,
        "timestamp": 1_796_396_802.847,
        "platform": "native",
        "contexts": {"trace": {
            "type": "trace",
            "trace_id": A7_TRACE_ID,
            "span_id": A7_SPAN_ID,
            "parent_span_id": A7_PARENT_SPAN_ID,
            "op": "http.server",
            "status": "ok",
            "origin": "auto.http.axum"
        }},
        "spans": [{
            "trace_id": A7_TRACE_ID,
            "span_id": A7_CHILD_SPAN_ID,
            "parent_span_id": A7_SPAN_ID,
            "op": "db.query",
            "description": "SELECT 1",
            "start_timestamp": 1_796_396_802.846_7,
            "timestamp": 1_796_396_802.846_8,
            "status": "ok",
            "origin": "manual",
            "tags": {"db.name": "users"},
            "data": {"db.system": "postgresql"}
        }]
    })
}

/// A transaction whose times survive the float round trip exactly.
fn exact_transaction(spans: usize) -> Transaction {
    let mut transaction = a7_transaction(fixed_time() + Duration::from_secs(2));
    transaction.start_timestamp = fixed_time();
    transaction.spans = (0..spans)
        .map(|i| Span {
            trace_id: A7_TRACE_ID.parse().unwrap(),
            parent_span_id: Some(A7_SPAN_ID.parse().unwrap()),
            op: Some("db.query".into()),
            start_timestamp: fixed_time() + Duration::from_millis(250 * i as u64),
            timestamp: Some(fixed_time() + Duration::from_millis(250 * i as u64 + 125)),
            ..Default::default()
        })
        .collect();
    transaction
}

// ------------------------------------------------------------------- JSON

#[test]
fn transaction_json_is_the_a7_example() {
    let json = serde_json::to_value(a7_transaction(a7_end())).unwrap();
    assert_eq!(json, a7_json());
    // Reading the example and writing it again gives the same JSON.
    let read: Transaction = serde_json::from_value(a7_json()).unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), a7_json());
    // The docs' float form reads to the same times (to the microsecond a
    // float of today's seconds holds).
    let from_floats: Transaction = serde_json::from_value(a7_json_with_floats()).unwrap();
    assert_within_a_microsecond(from_floats.start_timestamp, read.start_timestamp);
    assert_within_a_microsecond(from_floats.timestamp, read.timestamp);
    let (a, b) = (&from_floats.spans[0], &read.spans[0]);
    assert_within_a_microsecond(a.start_timestamp, b.start_timestamp);
    assert_within_a_microsecond(a.timestamp.unwrap(), b.timestamp.unwrap());
}

#[test]
fn minimal_transaction_writes_type_platform_and_empty_spans() {
    let transaction = Transaction {
        event_id: A7_EVENT_ID.parse().unwrap(),
        start_timestamp: fixed_time(),
        timestamp: fixed_time(),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&transaction).unwrap(),
        json!({
            "type": "transaction",
            "event_id": A7_EVENT_ID,
            "platform": "native",
            "start_timestamp": "2024-05-01T12:00:00.000000Z",
            "timestamp": "2024-05-01T12:00:00.000000Z",
            "spans": []
        })
    );
}

#[test]
fn transaction_round_trips_through_json() {
    let mut transaction = exact_transaction(3);
    transaction.release = Some("app@1.2.3".into());
    transaction.environment = Some("production".into());
    transaction.tags.insert("region".into(), "eu".into());
    transaction.extra.insert("attempt".into(), json!(2));
    let back: Transaction =
        serde_json::from_value(serde_json::to_value(&transaction).unwrap()).unwrap();
    assert_eq!(back, transaction);
}

#[test]
fn reading_follows_relay_required_fields() {
    let read = |value: Value| serde_json::from_value::<Transaction>(value);
    // `start_timestamp` is hard-required; a missing end reads as now.
    assert!(read(json!({"type": "transaction"})).is_err());
    let before = SystemTime::now();
    let transaction = read(json!({"start_timestamp": 1_714_564_800})).unwrap();
    assert!(transaction.timestamp >= before);
    assert!(transaction.spans.is_empty());
    assert_eq!(transaction.platform, "native");
    assert!(transaction.event_id.is_nil());
    // A span needs its ids and start; an unknown status is dropped.
    let span = json!({"span_id": A7_SPAN_ID, "trace_id": A7_TRACE_ID,
                      "start_timestamp": "2024-05-01T12:00:00Z", "status": "bogus"});
    let span: Span = serde_json::from_value(span).unwrap();
    assert_eq!(span.start_timestamp, fixed_time());
    assert_eq!(span.status, None);
    assert_eq!(span.timestamp, None);
    for missing in ["span_id", "trace_id", "start_timestamp"] {
        let mut span = json!({"span_id": A7_SPAN_ID, "trace_id": A7_TRACE_ID,
                              "start_timestamp": 1.5});
        span.as_object_mut().unwrap().remove(missing);
        assert!(serde_json::from_value::<Span>(span).is_err(), "{missing}");
    }
}

#[test]
fn transaction_sources_use_their_wire_names() {
    for (source, name) in [
        (TransactionSource::Custom, "custom"),
        (TransactionSource::Url, "url"),
        (TransactionSource::Route, "route"),
        (TransactionSource::View, "view"),
        (TransactionSource::Component, "component"),
        (TransactionSource::Task, "task"),
        (TransactionSource::Unknown, "unknown"),
    ] {
        assert_eq!(source.as_str(), name);
        assert_eq!(source.to_string(), name);
        assert_eq!(name.parse(), Ok(source));
        assert_eq!(serde_json::to_value(source).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<TransactionSource>(json!(name)).unwrap(),
            source
        );
    }
    assert_eq!(TransactionSource::default(), TransactionSource::Custom);
    assert!("Route".parse::<TransactionSource>().is_err());
    let info: TransactionInfo = serde_json::from_value(json!({})).unwrap();
    assert_eq!(info.source, TransactionSource::Unknown);
    let info: TransactionInfo = serde_json::from_value(json!({"source": "sanitized"})).unwrap();
    assert_eq!(info.source, TransactionSource::Unknown);
}

// --------------------------------------------------------------- envelope

#[test]
fn envelope_round_trip_with_a_transaction() {
    let transaction = exact_transaction(3);
    let id = transaction.event_id;
    let mut envelope = Envelope::from_transaction(transaction.clone());
    envelope.headers_mut().sent_at = Some(fixed_time());
    assert_eq!(envelope.headers().event_id, Some(id));
    let bytes = envelope.to_vec().unwrap();
    let back = Envelope::from_slice(&bytes).unwrap();
    assert_eq!(back, envelope);
    assert_eq!(back.transaction(), Some(&transaction));
    assert_eq!(back.event(), None);
    assert_eq!(back.items().as_slice()[0].ty(), "transaction");
    assert_eq!(
        back.items().as_slice()[0].category(),
        DataCategory::Transaction
    );
    assert_eq!(back.to_vec().unwrap(), bytes);

    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    let payload = serde_json::to_string(&transaction).unwrap();
    assert_eq!(
        lines[1],
        format!(r#"{{"type":"transaction","length":{}}}"#, payload.len())
    );
    assert_eq!(lines[2], payload);
}

#[test]
fn add_item_copies_the_transaction_id() {
    let transaction = Transaction::default();
    let id = transaction.event_id;
    let mut envelope = Envelope::new();
    envelope.add_item(transaction);
    assert_eq!(envelope.headers().event_id, Some(id));
}

#[test]
fn malformed_transaction_items_are_errors_like_events() {
    for payload in [&b"{\"a\":"[..], b"{\"spans\":[]}", b"[1]"] {
        let mut bytes = format!(
            "{{}}\n{{\"type\":\"transaction\",\"length\":{}}}\n",
            payload.len()
        )
        .into_bytes();
        bytes.extend_from_slice(payload);
        let err = Envelope::from_slice(&bytes).unwrap_err();
        assert!(
            matches!(&err, EnvelopeError::InvalidPayload { index: 0, item_type, .. }
                if item_type == "transaction"),
            "{err:?}"
        );
    }
}

#[test]
fn dropping_a_transaction_loses_it_and_its_spans_plus_one() {
    let item = EnvelopeItem::from(exact_transaction(3));
    assert_eq!(
        item.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Transaction, 1), (DataCategory::Span, 4)]
    );
    let empty = EnvelopeItem::from(exact_transaction(0));
    assert_eq!(
        empty.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Transaction, 1), (DataCategory::Span, 1)]
    );
    // Any other item loses its quantity of its category.
    let event = EnvelopeItem::from(Event::new());
    assert_eq!(
        event.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Error, 1)]
    );
    let attachment = EnvelopeItem::from(vigil_protocol::Attachment::new("a", vec![0; 10]));
    assert_eq!(
        attachment.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Attachment, 10)]
    );
}

// ----------------------------------------------------------- sentry-types

#[test]
fn sentry_types_reads_our_transactions() {
    let transaction = a7_transaction(a7_end());
    let mut envelope = Envelope::from_transaction(transaction.clone());
    envelope.headers_mut().sent_at = Some(a7_end());
    let bytes = envelope.to_vec().unwrap();
    let parsed = sentry::Envelope::from_slice(&bytes).expect("sentry-types parses it");
    assert_eq!(parsed.uuid(), Some(transaction.event_id.as_uuid()));
    let items: Vec<&sentry::EnvelopeItem> = parsed.items().collect();
    assert_eq!(items.len(), 1);
    let sentry::EnvelopeItem::Transaction(theirs) = items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(theirs.event_id, *transaction.event_id.as_uuid());
    assert_eq!(theirs.name.as_deref(), Some("GET /users/{id}"));
    assert_eq!(theirs.platform, "native");
    assert_within_a_microsecond(theirs.start_timestamp, transaction.start_timestamp);
    assert_within_a_microsecond(theirs.timestamp.unwrap(), transaction.timestamp);
    let Some(sentry::Context::Trace(trace)) = theirs.contexts.get("trace") else {
        panic!("{:?}", theirs.contexts)
    };
    assert_eq!(trace.trace_id.to_string(), A7_TRACE_ID);
    assert_eq!(trace.span_id.to_string(), A7_SPAN_ID);
    assert_eq!(trace.op.as_deref(), Some("http.server"));
    assert_eq!(trace.status, Some(sentry::SpanStatus::Ok));
    assert_eq!(theirs.spans.len(), 1);
    let span = &theirs.spans[0];
    assert_eq!(span.span_id.to_string(), A7_CHILD_SPAN_ID);
    assert_eq!(span.trace_id.to_string(), A7_TRACE_ID);
    assert_eq!(
        span.parent_span_id.map(|id| id.to_string()).as_deref(),
        Some(A7_SPAN_ID)
    );
    assert_eq!(span.op.as_deref(), Some("db.query"));
    assert_eq!(span.description.as_deref(), Some("SELECT 1"));
    assert_eq!(span.status, Some(sentry::SpanStatus::Ok));
    assert_eq!(span.tags["db.name"], "users");
    assert_eq!(span.data["db.system"], "postgresql");
    let ours = &transaction.spans[0];
    assert_within_a_microsecond(span.start_timestamp, ours.start_timestamp);
    assert_within_a_microsecond(span.timestamp.unwrap(), ours.timestamp.unwrap());
}

/// RFC 3339 with six decimals keeps times to the microsecond.
#[track_caller]
fn assert_within_a_microsecond(a: SystemTime, b: SystemTime) {
    let diff = a.duration_since(b).unwrap_or_else(|e| e.duration());
    assert!(diff < Duration::from_micros(1), "{a:?} vs {b:?}");
}

#[test]
fn we_read_what_sentry_types_writes() {
    let span = sentry::Span {
        op: Some("db.query".into()),
        timestamp: Some(SystemTime::now()),
        status: Some(sentry::SpanStatus::Ok),
        ..Default::default()
    };
    let transaction = sentry::Transaction {
        name: Some("from sentry-types".into()),
        timestamp: Some(SystemTime::now()),
        spans: vec![span],
        ..Default::default()
    };
    let id = transaction.event_id;
    let mut envelope = sentry::Envelope::new();
    envelope.add_item(transaction);
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).unwrap();
    let ours = Envelope::from_slice(&bytes).unwrap();
    let transaction = ours.transaction().expect("a transaction item");
    assert_eq!(*transaction.event_id.as_uuid(), id);
    assert_eq!(transaction.name.as_deref(), Some("from sentry-types"));
    assert_eq!(transaction.spans.len(), 1);
    assert_eq!(transaction.spans[0].op.as_deref(), Some("db.query"));
    assert_eq!(transaction.spans[0].status, Some(SpanStatus::Ok));
}
