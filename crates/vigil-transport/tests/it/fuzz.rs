//! Property tests of the envelope reader, which the transport relies on to
//! read its disk queue back: any bytes are handled without panicking, and
//! valid envelopes read back as written.
//!
//! `PROPTEST_CASES=100000 cargo test -p vigil-transport --test it fuzz`
//! runs a longer pass (the default is a few hundred cases, seconds).

use proptest::prelude::*;
use vigil_core::protocol::{Attachment, Envelope, EnvelopeItem, Event, Level};

/// The number of cases: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('\n'),
                Just('\r'),
                Just('"'),
                Just('\\'),
                Just('{'),
                Just('}'),
                Just('\u{0}'),
                Just('é'),
                Just('😀'),
            ],
            0..20,
        )
        .prop_map(|v| v.into_iter().collect()),
    ]
}

fn item() -> impl Strategy<Value = EnvelopeItem> {
    prop_oneof![
        (text(), proptest::option::of(text())).prop_map(|(message, logger)| {
            let mut event = Event::new();
            event.message = Some(message);
            event.logger = logger;
            event.level = Level::Warning;
            EnvelopeItem::from(event)
        }),
        (
            text(),
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::option::of(text())
        )
            .prop_map(|(name, bytes, content_type)| {
                let mut attachment = Attachment::new(name, bytes);
                attachment.content_type = content_type;
                EnvelopeItem::from(attachment)
            }),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        proptest::collection::vec(item(), 0..4),
        proptest::option::of(text()),
    )
        .prop_map(|(items, dsn)| {
            let mut envelope = Envelope::new();
            envelope.headers_mut().dsn = dsn;
            for item in items {
                envelope.add_item(item);
            }
            envelope
        })
}

/// Values at and beyond the edges of what each field holds: times far
/// outside what RFC 3339 can write, integers beyond `u64`, floats near
/// their limits, and the wrong types.
fn edge() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop::sample::select(vec![
        json!(1e15),
        json!(-1e15),
        json!(1e300),
        json!(-1e300),
        json!(1e-300),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(253_402_300_800_u64),
        json!(-62_135_596_801_i64),
        json!("9999-12-31T23:59:59.999999Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("+275760-09-13T00:00:00Z"),
        json!("1970-01-01T00:00:00+23:59"),
        json!(""),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
    ])
}

/// A field holding `usual` two times in three, else an [`edge`] value, so
/// that most items are read and each edge value is tried in every field.
fn or_edge(usual: serde_json::Value) -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![2 => Just(usual), 1 => edge()]
}

/// Fields holding `usual`, each possibly an edge value.
fn fields(usual: Vec<serde_json::Value>) -> impl Strategy<Value = Vec<serde_json::Value>> {
    usual.into_iter().map(or_edge).collect::<Vec<_>>()
}

/// One item of each type the transport stores, its time, number and id
/// fields filled with [`edge`] values now and then: `(type, payload)`.
fn edgy_item() -> impl Strategy<Value = (&'static str, serde_json::Value)> {
    use serde_json::json;
    let trace = "0123456789abcdef0123456789abcdef";
    let span = "0123456789abcdef";
    let time = json!(1_733_400_000.25);
    let count = json!(1);
    prop_oneof![
        fields(vec![time.clone(), time.clone(), time.clone(), time.clone(), count.clone(), count.clone()])
            .prop_map(move |v| ("event", json!({
            "timestamp": v[0],
            "start_timestamp": v[1],
            "contexts": {"app": {"app_start_time": v[2]}, "trace": {"trace_id": trace, "span_id": span}},
            "breadcrumbs": [{"timestamp": v[3], "message": "b"}],
            "exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"lineno": v[4], "colno": v[5]}]}}]},
        }))),
        fields(vec![time.clone(), time.clone(), time.clone(), time.clone(), count.clone()])
            .prop_map(move |v| ("transaction", json!({
            "type": "transaction",
            "transaction": "t",
            "timestamp": v[0],
            "start_timestamp": v[1],
            "contexts": {"trace": {"trace_id": trace, "span_id": span}},
            "spans": [{"trace_id": trace, "span_id": span, "start_timestamp": v[2], "timestamp": v[3], "data": {"n": v[4]}}],
        }))),
        fields(vec![json!("2024-12-05T10:00:00Z"), json!("2024-12-05T10:00:01Z"), json!(1.0), count.clone(), count.clone()])
            .prop_map(|v| ("session", json!({
            "sid": "bd9a3f5e-3a1e-4cf0-9a5f-7a3c1d2e4f60",
            "started": v[0],
            "timestamp": v[1],
            "duration": v[2],
            "errors": v[3],
            "seq": v[4],
            "attrs": {"release": "app@1"},
        }))),
        fields(vec![json!("2024-12-05T10:00:00Z"), count.clone(), count.clone(), count.clone()])
            .prop_map(|v| ("sessions", json!({
            "aggregates": [{"started": v[0], "exited": v[1], "errored": v[2], "crashed": v[3]}],
            "attrs": {"release": "app@1"},
        }))),
        fields(vec![time, count]).prop_map(|v| ("client_report", json!({
            "timestamp": v[0],
            "discarded_events": [{"reason": "sample_rate", "category": "error", "quantity": v[1]}],
        }))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(2048),
        ..ProptestConfig::default()
    })]

    /// What the reader accepts, the writer writes back without panicking,
    /// and the reader accepts that again: a stored file can always be
    /// sent. The items are made of edge values in every time, number and
    /// id field.
    #[test]
    fn whatever_reads_writes_back(
        items in proptest::collection::vec(edgy_item(), 1..4),
        sent_at in edge(),
    ) {
        let mut bytes = serde_json::to_vec(&serde_json::json!({"sent_at": sent_at})).unwrap();
        for (ty, payload) in &items {
            bytes.push(b'\n');
            bytes.extend(serde_json::to_vec(&serde_json::json!({"type": ty})).unwrap());
            bytes.push(b'\n');
            bytes.extend(serde_json::to_vec(payload).unwrap());
        }
        if let Ok(read) = Envelope::from_slice(&bytes) {
            let written = read.to_vec().unwrap();
            let again = Envelope::from_slice(&written);
            prop_assert!(again.is_ok(), "{}: {:?}", String::from_utf8_lossy(&written), again.err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(512),
        ..ProptestConfig::default()
    })]

    /// Arbitrary bytes never make the reader panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Envelope::from_slice(&bytes);
    }

    /// Valid envelopes, cut or spliced anywhere, never make the reader
    /// panic; whatever still parses writes back to the same bytes.
    #[test]
    fn mutated_envelopes_never_panic(
        envelope in envelope(),
        at in any::<usize>(),
        insert in proptest::collection::vec(any::<u8>(), 0..6),
        cut in any::<bool>(),
    ) {
        let mut bytes = envelope.to_vec().unwrap();
        let at = at % (bytes.len() + 1);
        if cut {
            bytes.truncate(at);
        } else {
            bytes.splice(at..at, insert);
        }
        if let Ok(parsed) = Envelope::from_slice(&bytes) {
            let again = Envelope::from_slice(&parsed.to_vec().unwrap()).unwrap();
            prop_assert_eq!(again, parsed);
        }
    }

    /// A valid envelope reads back as written. (Not byte for byte: event
    /// timestamps are float seconds, and `SystemTime` → `f64` → `SystemTime`
    /// can move them by less than a microsecond, so the check is on the
    /// fields and on reading being stable after one pass.)
    #[test]
    fn valid_envelopes_round_trip(envelope in envelope()) {
        let bytes = envelope.to_vec().unwrap();
        let back = Envelope::from_slice(&bytes).unwrap();
        let again = Envelope::from_slice(&back.to_vec().unwrap()).unwrap();
        prop_assert_eq!(&again, &back);
        prop_assert_eq!(back.headers().event_id, envelope.headers().event_id);
        prop_assert_eq!(&back.headers().dsn, &envelope.headers().dsn);
        prop_assert_eq!(back.items().len(), envelope.items().len());
        for (a, b) in back.items().zip(envelope.items()) {
            match (a, b) {
                (EnvelopeItem::Event(a), EnvelopeItem::Event(b)) => {
                    prop_assert_eq!(&a.message, &b.message);
                    prop_assert_eq!(&a.logger, &b.logger);
                    prop_assert_eq!(a.event_id, b.event_id);
                    prop_assert_eq!(a.level, b.level);
                    let drift = a.timestamp.duration_since(b.timestamp)
                        .or_else(|e| Ok::<_, ()>(e.duration()))
                        .unwrap();
                    prop_assert!(drift < std::time::Duration::from_micros(1), "{drift:?}");
                }
                (EnvelopeItem::Attachment(a), EnvelopeItem::Attachment(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "{a:?} read back as {b:?}"),
            }
        }
    }
}
