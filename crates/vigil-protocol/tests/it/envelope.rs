//! The envelope writer and reader, and the crates.io `sentry-types` parser
//! as an independent reader of what we write.

use sentry_types::protocol::v7 as sentry;
use serde_json::{Value, json};
use vigil_protocol::{
    Attachment, DataCategory, DebugImage, Envelope, EnvelopeError, EnvelopeItem, Event, EventId,
    RawItem,
};

use crate::fixtures::{
    BUILD_ID, DEBUG_ID, EVENT_ID, client_report, fixed_time, full_event, session_update,
};

/// Binary content with newlines, a CR and a NUL inside.
const BINARY: &[u8] = b"\x00\x01line one\nline two\r\n\n\xff\xfe{\"type\":\"event\"}\n";

fn attachment() -> Attachment {
    let mut attachment =
        Attachment::new("dump.bin", BINARY).with_content_type("application/x-dump");
    attachment.attachment_type = Some("event.attachment".into());
    attachment
}

fn raw_item() -> RawItem {
    let Value::Object(headers) = json!({"type": "vigil_custom", "flavor": "test"}) else {
        unreachable!()
    };
    let mut raw: RawItem = parse_single_raw(&headers);
    raw.payload = b"opaque\npayload".to_vec();
    raw
}

/// Builds a `RawItem` by reading it back, as its fields are not all public
/// constructors (it is `#[non_exhaustive]`).
fn parse_single_raw(headers: &serde_json::Map<String, Value>) -> RawItem {
    let mut bytes = b"{}\n".to_vec();
    bytes.extend(serde_json::to_vec(headers).unwrap());
    bytes.extend(b"\n");
    let envelope = Envelope::from_slice(&bytes).unwrap();
    match envelope.into_items().pop() {
        Some(EnvelopeItem::Raw(raw)) => raw,
        other => panic!("{other:?}"),
    }
}

/// event + attachment + client report + session, all `sentry-types` knows.
fn known_items_envelope() -> Envelope {
    let mut envelope = Envelope::from_event(full_event(fixed_time()));
    envelope.add_item(attachment());
    envelope.add_item(client_report(fixed_time()));
    envelope.add_item(session_update(fixed_time()));
    envelope.headers_mut().sent_at = Some(fixed_time());
    envelope.headers_mut().dsn = Some("https://public@o1.ingest.sentry.io/42".into());
    envelope
}

#[test]
fn round_trip_of_every_item_kind() {
    let mut envelope = known_items_envelope();
    envelope.add_item(EnvelopeItem::Raw(raw_item()));
    let bytes = envelope.to_vec().unwrap();
    let back = Envelope::from_slice(&bytes).unwrap();
    assert_eq!(back, envelope);
    let types: Vec<&str> = back.items().map(EnvelopeItem::ty).collect();
    assert_eq!(
        types,
        [
            "event",
            "attachment",
            "client_report",
            "session",
            "vigil_custom"
        ]
    );
    let EnvelopeItem::Attachment(a) = &back.items().as_slice()[1] else {
        panic!()
    };
    assert_eq!(a.buffer, BINARY);
    assert_eq!(a.content_type.as_deref(), Some("application/x-dump"));
    let EnvelopeItem::Raw(raw) = &back.items().as_slice()[4] else {
        panic!()
    };
    assert_eq!(raw.headers["flavor"], "test");
    assert_eq!(raw.payload, b"opaque\npayload");
    // Writing what we read gives the same bytes.
    assert_eq!(back.to_vec().unwrap(), bytes);
}

#[test]
fn wire_format_of_a_small_envelope() {
    let event = Event {
        event_id: EVENT_ID.parse().unwrap(),
        timestamp: fixed_time(),
        message: Some("hello".into()),
        ..Default::default()
    };
    let mut envelope = Envelope::from_event(event);
    envelope.add_item(Attachment::new("a.txt", "hi\n"));
    let bytes = envelope.to_vec().unwrap();
    let payload = format!(
        r#"{{"event_id":"{EVENT_ID}","level":"error","message":"hello","platform":"native","timestamp":1714564800.0}}"#
    );
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines.len(), 7, "{text:?}");
    assert_eq!(lines[0], format!(r#"{{"event_id":"{EVENT_ID}"}}"#));
    assert_eq!(
        lines[1],
        format!(r#"{{"type":"event","length":{}}}"#, payload.len())
    );
    assert_eq!(lines[2], payload);
    let header: Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(
        header,
        json!({"type": "attachment", "length": 3, "filename": "a.txt"})
    );
    // The payload `hi\n`, then the newline that ends the item, then the
    // optional final newline.
    assert_eq!(&lines[4..], ["hi", "", ""]);
}

#[test]
fn envelope_header_and_event_id() {
    let mut envelope = Envelope::new();
    assert!(envelope.is_empty());
    assert_eq!(envelope.to_vec().unwrap(), b"{}\n");
    let event = Event::new();
    let id = event.event_id;
    envelope.add_item(client_report(fixed_time()));
    assert_eq!(envelope.headers().event_id, None);
    envelope.add_item(event);
    assert_eq!(envelope.headers().event_id, Some(id));
    assert_eq!(envelope.event().map(|e| e.event_id), Some(id));
    envelope.retain_items(|i| i.category() != DataCategory::Internal);
    assert_eq!(envelope.items().len(), 1);
}

#[test]
fn unknown_header_fields_are_kept() {
    let bytes = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"future\":{\"x\":1}}\n";
    let envelope = Envelope::from_slice(bytes).unwrap();
    assert_eq!(envelope.headers().other["future"], json!({"x": 1}));
    assert_eq!(envelope.to_vec().unwrap(), bytes);
}

#[test]
fn categories_and_quantities() {
    for (ty, category) in [
        ("event", DataCategory::Error),
        ("transaction", DataCategory::Transaction),
        ("attachment", DataCategory::Attachment),
        ("session", DataCategory::Session),
        ("sessions", DataCategory::Session),
        ("client_report", DataCategory::Internal),
        ("check_in", DataCategory::Monitor),
        ("log", DataCategory::LogItem),
        ("span", DataCategory::Span),
        ("feedback", DataCategory::Feedback),
        ("whatever", DataCategory::Default),
    ] {
        // A raw item of each type: the category follows from the type alone.
        let mut raw = raw_item();
        raw.headers.insert("type".into(), ty.into());
        assert_eq!(EnvelopeItem::Raw(raw).category(), category, "{ty}");
    }
    assert_eq!(
        EnvelopeItem::from(attachment()).quantity(),
        BINARY.len() as u64
    );
    assert_eq!(
        EnvelopeItem::from(Attachment::new("empty", Vec::new())).quantity(),
        1
    );
    assert_eq!(EnvelopeItem::from(Event::new()).quantity(), 1);
}

// ------------------------------------------------------------------ framing

fn read(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    Envelope::from_slice(bytes)
}

#[test]
fn no_trailing_newline_is_accepted() {
    let envelope = read(b"{}\n{\"type\":\"x\",\"length\":3}\nabc").unwrap();
    assert_eq!(raw_payloads(&envelope), [b"abc".to_vec()]);
    let envelope = read(b"{}\n{\"type\":\"x\"}\nabc").unwrap();
    assert_eq!(raw_payloads(&envelope), [b"abc".to_vec()]);
    assert!(read(b"{}").unwrap().is_empty());
    assert!(read(b"{}\n").unwrap().is_empty());
}

#[test]
fn implicit_length_items_run_to_the_next_newline() {
    let envelope = read(
        b"{}\n{\"type\":\"a\"}\nfirst\r\n{\"type\":\"b\"}\n\n{\"type\":\"c\",\"length\":2}\nhi\n",
    )
    .unwrap();
    assert_eq!(
        raw_payloads(&envelope),
        [b"first\r".to_vec(), Vec::new(), b"hi".to_vec()]
    );
}

#[test]
fn whitespace_before_a_header_is_skipped_like_relay() {
    let envelope = read(b"{}\n{\"type\":\"a\",\"length\":1}\nx\n\n").unwrap();
    assert_eq!(raw_payloads(&envelope), [b"x".to_vec()]);
}

#[test]
fn missing_type_is_an_error() {
    assert_eq!(
        read(b"{}\n{\"length\":0}\n\n").unwrap_err(),
        EnvelopeError::MissingItemType { index: 0 }
    );
    assert_eq!(
        read(b"{}\n{\"type\":\"a\"}\n\n{\"type\":7}\n").unwrap_err(),
        EnvelopeError::MissingItemType { index: 1 }
    );
}

#[test]
fn short_payload_is_an_error() {
    assert_eq!(
        read(b"{}\n{\"type\":\"a\",\"length\":10}\nabc").unwrap_err(),
        EnvelopeError::PayloadTooShort {
            index: 0,
            declared: 10,
            available: 3
        }
    );
}

#[test]
fn garbage_after_a_length_prefixed_payload_is_an_error() {
    for bytes in [
        &b"{}\n{\"type\":\"a\",\"length\":2}\nabc\n"[..],
        b"{}\n{\"type\":\"a\",\"length\":2}\nab \n",
        b"{}\n{\"type\":\"a\",\"length\":2}\nab\r\n",
    ] {
        assert_eq!(
            read(bytes).unwrap_err(),
            EnvelopeError::MissingNewlineAfterPayload { index: 0 }
        );
    }
}

#[test]
fn invalid_header_json_is_an_error() {
    assert!(matches!(
        read(b"not json\n").unwrap_err(),
        EnvelopeError::InvalidEnvelopeHeader { .. }
    ));
    assert!(matches!(
        read(b"[1,2]\n").unwrap_err(),
        EnvelopeError::InvalidEnvelopeHeader { .. }
    ));
    assert!(matches!(
        read(b"{\"event_id\":\"nope\"}\n").unwrap_err(),
        EnvelopeError::InvalidEnvelopeHeader { .. }
    ));
    assert!(matches!(
        read(b"").unwrap_err(),
        EnvelopeError::InvalidEnvelopeHeader { .. }
    ));
    assert!(matches!(
        read(b"{}\n{\"type\":\"a\"\n").unwrap_err(),
        EnvelopeError::InvalidItemHeader { index: 0, .. }
    ));
    assert!(matches!(
        read(b"{}\n{\"type\":\"a\",\"length\":-1}\n").unwrap_err(),
        EnvelopeError::InvalidItemHeader { index: 0, .. }
    ));
    assert!(matches!(
        read(b"{}\n{\"type\":\"a\"} {}\n").unwrap_err(),
        EnvelopeError::InvalidItemHeader { index: 0, .. }
    ));
    // A header must be on one line.
    assert!(matches!(
        read(b"{}\n{\"type\":\n\"a\"}\n").unwrap_err(),
        EnvelopeError::InvalidItemHeader { index: 0, .. }
    ));
}

#[test]
fn crlf_header_lines_are_an_error() {
    let err = read(b"{}\r\n{\"type\":\"a\",\"length\":1}\nx").unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidEnvelopeHeader { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("CRLF"), "{err}");
    let err = read(b"{}\n{\"type\":\"a\",\"length\":1}\r\nx").unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidItemHeader { index: 0, .. }),
        "{err:?}"
    );
    let err = read(b"{} \n").unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidEnvelopeHeader { .. }),
        "{err:?}"
    );
}

#[test]
fn invalid_known_payloads_are_errors() {
    let err = read(b"{}\n{\"type\":\"event\",\"length\":5}\n{\"a\":\n").unwrap_err();
    assert!(
        matches!(&err, EnvelopeError::InvalidPayload { index: 0, item_type, .. } if item_type == "event"),
        "{err:?}"
    );
    let err = read(b"{}\n{\"type\":\"attachment\",\"length\":1}\nx").unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidItemHeader { index: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn errors_have_messages() {
    for err in [
        EnvelopeError::MissingItemType { index: 1 },
        EnvelopeError::PayloadTooShort {
            index: 0,
            declared: 2,
            available: 1,
        },
        EnvelopeError::MissingNewlineAfterPayload { index: 0 },
    ] {
        assert!(!err.to_string().is_empty());
    }
}

fn raw_payloads(envelope: &Envelope) -> Vec<Vec<u8>> {
    envelope
        .items()
        .map(|item| match item {
            EnvelopeItem::Raw(raw) => raw.payload.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

// ------------------------------------------------------------ sentry-types

/// `envelope` with its ELF images in the legacy form, the only one
/// `sentry-types` 0.49 reads: typed `symbolic`, with `name` for
/// `code_file` and `id` for `debug_id`. (Relay reads both forms; the
/// precise `elf` tells Sentry which kind of debug file to look for.)
fn with_legacy_images(envelope: Envelope) -> Envelope {
    let mut adapted = Envelope::new();
    *adapted.headers_mut() = envelope.headers().clone();
    for mut item in envelope.into_items() {
        if let EnvelopeItem::Event(event) = &mut item {
            for image in &mut event.debug_meta.images {
                if let DebugImage::Elf(native) = image {
                    let Value::Object(mut fields) = serde_json::to_value(&*native).unwrap() else {
                        unreachable!()
                    };
                    fields.insert("type".into(), json!("symbolic"));
                    for (name, legacy) in [("code_file", "name"), ("debug_id", "id")] {
                        let value = fields.remove(name).unwrap();
                        fields.insert(legacy.into(), value);
                    }
                    *image = DebugImage::Other(fields.into_iter().collect());
                }
            }
        }
        adapted.add_item(item);
    }
    adapted
}

#[test]
fn sentry_types_reads_what_we_write() {
    let envelope = with_legacy_images(known_items_envelope());
    let bytes = envelope.to_vec().unwrap();
    let parsed = sentry::Envelope::from_slice(&bytes).expect("sentry-types parses our envelope");

    let id: EventId = EVENT_ID.parse().unwrap();
    assert_eq!(parsed.uuid(), Some(id.as_uuid()));
    let items: Vec<&sentry::EnvelopeItem> = parsed.items().collect();
    assert_eq!(items.len(), 4);

    let sentry::EnvelopeItem::Event(event) = items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(event.event_id, *id.as_uuid());
    assert_eq!(event.message.as_deref(), Some("connection lost"));
    assert_eq!(event.level, sentry::Level::Warning);
    assert_eq!(event.exception.values.len(), 2);
    assert_eq!(event.exception.values[1].ty, "app::DbError");
    assert_eq!(event.breadcrumbs.len(), 2);
    assert_eq!(event.tags["component"], "db");
    assert_eq!(event.release.as_deref(), Some("app@1.2.3"));
    assert_eq!(event.contexts.len(), 6);
    assert_eq!(event.platform, "native");
    let [sentry::DebugImage::Symbolic(image)] = &event.debug_meta.images[..] else {
        panic!("{:?}", event.debug_meta)
    };
    assert_eq!(image.name, "/app/bin/app");
    assert_eq!(image.id.to_string(), DEBUG_ID);
    assert_eq!(image.code_id.as_ref().unwrap().as_str(), BUILD_ID);
    assert_eq!(image.image_addr.0, 0x55d0_c0f0_0000);
    assert_eq!(image.image_size, 0x20_0000);
    assert_eq!(image.arch.as_deref(), Some("x86_64"));

    let sentry::EnvelopeItem::Attachment(a) = items[1] else {
        panic!("{:?}", items[1])
    };
    assert_eq!(a.buffer, BINARY);
    assert_eq!(a.filename, "dump.bin");
    assert_eq!(a.content_type.as_deref(), Some("application/x-dump"));

    assert!(
        matches!(items[2], sentry::EnvelopeItem::ClientReport(_)),
        "{:?}",
        items[2]
    );
    let sentry::EnvelopeItem::SessionUpdate(session) = items[3] else {
        panic!("{:?}", items[3])
    };
    assert_eq!(
        session.session_id.simple().to_string(),
        "2d0f3c1e6a4b4f6e9a3b8c7d6e5f4a3b"
    );
    assert_eq!(session.errors, 1);
    assert_eq!(session.attributes.release, "app@1.2.3");
}

#[test]
fn sentry_types_reads_minimal_and_message_envelopes() {
    for event in [
        Event::new(),
        Event::from_message("hi", vigil_protocol::Level::Info),
    ] {
        let id = event.event_id;
        let bytes = Envelope::from_event(event).to_vec().unwrap();
        let parsed = sentry::Envelope::from_slice(&bytes).unwrap();
        assert_eq!(parsed.uuid(), Some(id.as_uuid()));
        assert_eq!(parsed.items().count(), 1);
    }
}

#[test]
fn we_read_what_sentry_types_writes() {
    let event = sentry::Event {
        message: Some("from sentry-types".into()),
        ..Default::default()
    };
    let id = event.event_id;
    let mut envelope = sentry::Envelope::new();
    envelope.add_item(event);
    envelope.add_item(sentry::Attachment {
        buffer: BINARY.to_vec(),
        filename: "dump.bin".into(),
        content_type: None,
        ty: None,
    });
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).unwrap();
    let ours = Envelope::from_slice(&bytes).unwrap();
    assert_eq!(ours.headers().event_id.map(|e| *e.as_uuid()), Some(id));
    assert_eq!(
        ours.event().unwrap().message.as_deref(),
        Some("from sentry-types")
    );
    let EnvelopeItem::Attachment(a) = &ours.items().as_slice()[1] else {
        panic!("{:?}", ours.items())
    };
    assert_eq!(a.buffer, BINARY);
}
