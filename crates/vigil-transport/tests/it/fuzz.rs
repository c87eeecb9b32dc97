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
        for (a, b) in back.items().iter().zip(envelope.items()) {
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
