//! User feedback on the wire: the `feedback` item (an event with
//! `"type": "feedback"` and a `feedback` context), checked against the
//! example payload of Sentry's feedback spec, its category, and the round
//! trip through the writer and reader.

use serde_json::{Value, json};
use vigil_protocol::{
    Context, DataCategory, Envelope, EnvelopeItem, Event, EventId, Feedback, Level, limits,
};

use crate::fixtures::{EVENT_ID, fixed_time};

const ASSOCIATED: &str = "32fd1995636d446385016e2747623e11";

/// The feedback of the spec's example payload (without its `replay_id`).
fn docs_feedback() -> Feedback {
    let mut feedback = Feedback::new("I love session replay!");
    feedback.contact_email = Some("john@example.com".into());
    feedback.name = Some("John Smith".into());
    feedback.url = Some("https://sentry.io/replays/".into());
    feedback.associated_event_id = Some(ASSOCIATED.parse().unwrap());
    feedback
}

fn docs_event() -> Event {
    let mut event = docs_feedback().into_event();
    event.event_id = EVENT_ID.parse().unwrap();
    event.timestamp = fixed_time();
    event
}

/// The payload of the single item of `envelope`, parsed, and its header.
fn single_item(envelope: &Envelope) -> (Value, Value) {
    let bytes = envelope.to_vec().unwrap();
    let mut lines = bytes.split(|&b| b == b'\n');
    let headers: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    assert_eq!(headers["event_id"], EVENT_ID);
    let item_header: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    let payload: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    assert_eq!(lines.next(), Some(&b""[..]), "one item, then the end");
    (item_header, payload)
}

#[test]
fn the_item_is_the_docs_example_payload_with_type_feedback() {
    let envelope = Envelope::from_feedback(docs_event());
    let (header, payload) = single_item(&envelope);
    assert_eq!(header["type"], "feedback");
    assert_eq!(header.as_object().unwrap().len(), 2, "type and length only");
    // The spec's example, with our required event fields: `timestamp` as
    // a number, platform `native`, and `type` and `level` as the
    // JavaScript SDK sends them. Contexts carry their `type` key.
    assert_eq!(
        payload,
        json!({
            "type": "feedback",
            "event_id": EVENT_ID,
            "level": "info",
            "platform": "native",
            "timestamp": 1_714_564_800.0,
            "contexts": {
                "feedback": {
                    "type": "feedback",
                    "contact_email": "john@example.com",
                    "name": "John Smith",
                    "message": "I love session replay!",
                    "url": "https://sentry.io/replays/",
                    "associated_event_id": ASSOCIATED
                }
            }
        })
    );
}

#[test]
fn the_payload_is_written_as_serde_writes_the_event_plus_its_type() {
    let mut event = docs_event();
    event.release = Some("app@1.0".into());
    event.tags.insert("region".into(), "eu".into());
    let (_, payload) = single_item(&Envelope::from_feedback(event.clone()));
    let mut expected = serde_json::to_value(&event).unwrap();
    expected
        .as_object_mut()
        .unwrap()
        .insert("type".into(), "feedback".into());
    assert_eq!(payload, expected);
    let bytes = Envelope::from_feedback(event).to_vec().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("\n{\"type\":\"feedback\",\"event_id\":"),
        "`type` comes first: {text}"
    );
}

#[test]
fn round_trip_keeps_the_feedback_and_its_unknown_fields() {
    let mut event = docs_event();
    event.feedback_mut().unwrap().other.insert(
        "replay_id".into(),
        "82840977e85b4ed3bc27f7b5b25cec15".into(),
    );
    let envelope = Envelope::from_feedback(event.clone());
    let back = Envelope::from_slice(&envelope.to_vec().unwrap()).unwrap();
    assert_eq!(back, envelope);
    assert_eq!(back.headers().event_id, Some(event.event_id));
    let item = back.items().next().unwrap();
    assert!(matches!(item, EnvelopeItem::Feedback(_)));
    assert_eq!(item.ty(), "feedback");
    let feedback = back.feedback().unwrap().feedback().unwrap();
    assert_eq!(feedback.message, "I love session replay!");
    assert_eq!(
        feedback.associated_event_id,
        Some(ASSOCIATED.parse::<EventId>().unwrap())
    );
    assert_eq!(
        feedback.other["replay_id"],
        "82840977e85b4ed3bc27f7b5b25cec15"
    );
    assert!(back.event().is_none(), "a feedback is not an `event` item");
}

/// The spec's example payload; its contexts have no `type` key, so
/// `typed` adds one to `feedback` (as Relay's normalizer does).
fn docs_payload(typed: bool) -> String {
    let mut payload = json!({
        "event_id": EVENT_ID,
        "timestamp": "2011-05-02T17:41:36Z",
        "platform": "javascript",
        "contexts": {
            "organization": {"id": "0", "slug": "sentry"},
            "feedback": {
                "contact_email": "john@example.com",
                "name": "John Smith",
                "message": "I love session replay!",
                "url": "https://sentry.io/replays/",
                "associated_event_id": ASSOCIATED,
                "replay_id": "82840977e85b4ed3bc27f7b5b25cec15"
            }
        },
        "level": "error"
    });
    if typed {
        payload["contexts"]["feedback"]["type"] = "feedback".into();
    }
    payload.to_string()
}

#[test]
fn the_docs_example_payload_is_read() {
    let payload = docs_payload(true);
    let bytes = format!("{{\"event_id\":\"{EVENT_ID}\"}}\n{{\"type\":\"feedback\"}}\n{payload}\n");
    let envelope = Envelope::from_slice(bytes.as_bytes()).unwrap();
    let event = envelope.feedback().unwrap();
    let mut expected = docs_feedback();
    expected.other.insert(
        "replay_id".into(),
        "82840977e85b4ed3bc27f7b5b25cec15".into(),
    );
    assert_eq!(event.feedback(), Some(&expected));
    assert_eq!(event.level, Level::Error);
    assert!(matches!(event.contexts["organization"], Context::Other(_)));

    // As for every context, one without its `type` key is read as a free
    // object, nothing lost.
    let payload = docs_payload(false);
    let bytes = format!("{{\"event_id\":\"{EVENT_ID}\"}}\n{{\"type\":\"feedback\"}}\n{payload}\n");
    let envelope = Envelope::from_slice(bytes.as_bytes()).unwrap();
    let event = envelope.feedback().unwrap();
    assert_eq!(event.feedback(), None);
    let Context::Other(map) = &event.contexts["feedback"] else {
        panic!("an untyped context is a free object");
    };
    assert_eq!(map["message"], "I love session replay!");
}

#[test]
fn a_feedback_context_without_a_message_is_kept_as_a_free_object() {
    let context: Context =
        serde_json::from_value(json!({"type": "feedback", "name": "Jane"})).unwrap();
    let Context::Other(map) = context else {
        panic!("a feedback without a message is no `Feedback`");
    };
    assert_eq!(map["name"], "Jane");
}

#[test]
fn the_category_is_feedback_and_the_header_id_is_the_feedback_event_id() {
    let event = docs_event();
    let item = EnvelopeItem::Feedback(Box::new(event.clone()));
    assert_eq!(item.category(), DataCategory::Feedback);
    assert_eq!(item.quantity(), 1);
    assert_eq!(
        item.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Feedback, 1)]
    );
    let mut envelope = Envelope::new();
    envelope.add_item(item);
    assert_eq!(envelope.headers().event_id, Some(event.event_id));
    assert_ne!(
        envelope.headers().event_id,
        event.feedback().unwrap().associated_event_id,
        "the header is the feedback's own id"
    );
}

#[test]
fn the_message_is_cut_to_4096_characters() {
    let mut event = Feedback::new("x".repeat(5000)).into_event();
    limits::trim_event(&mut event);
    let message = &event.feedback().unwrap().message;
    assert_eq!(message.chars().count(), 4096);
    assert_eq!(*message, format!("{}...", "x".repeat(4093)));

    // 4096 two-byte characters are more than the 8 KiB every context is
    // limited to (by Relay too): the message is cut further to fit.
    let mut event = Feedback::new("é".repeat(5000)).into_event();
    limits::trim_event(&mut event);
    let message = &event.feedback().unwrap().message;
    assert!(message.chars().count() < 4096);
    assert!(message.starts_with("éé") && message.ends_with("..."));
    let context = serde_json::to_vec(&event.contexts["feedback"]).unwrap();
    assert!(context.len() <= 8192, "{} bytes", context.len());

    let mut event = Feedback::new("x".repeat(4096)).into_event();
    limits::trim_event(&mut event);
    assert_eq!(event.feedback().unwrap().message, "x".repeat(4096));
}

#[test]
fn an_oversized_feedback_is_shed_to_fit_and_stays_a_feedback() {
    let mut event = docs_event();
    for i in 0..200 {
        event
            .extra
            .insert(format!("blob{i}"), Value::from("y".repeat(10_000)));
    }
    let bytes = Envelope::from_feedback(event).to_vec().unwrap();
    let back = Envelope::from_slice(&bytes).unwrap();
    let item_header: Value =
        serde_json::from_slice(bytes.split(|&b| b == b'\n').nth(1).unwrap()).unwrap();
    let length = item_header["length"].as_u64().unwrap() as usize;
    assert!(length <= limits::MAX_EVENT_SIZE, "{length} bytes");
    let payload: Value =
        serde_json::from_slice(bytes.split(|&b| b == b'\n').nth(2).unwrap()).unwrap();
    assert_eq!(payload["type"], "feedback");
    assert_eq!(
        back.feedback().unwrap().feedback().unwrap().message,
        "I love session replay!"
    );
}
