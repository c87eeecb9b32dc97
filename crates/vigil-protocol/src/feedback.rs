//! User feedback: the [`Feedback`] a user writes, sent as the `feedback`
//! context of a feedback event in a `feedback` envelope item.
//!
//! On the wire the item's payload is an event with `"type": "feedback"`
//! and the user's input in `contexts.feedback`:
//! `{"type": "feedback", "event_id": "…", "level": "info", "platform": "native",
//! "timestamp": 1714564800.5, "contexts": {"feedback": {"type": "feedback",
//! "message": "…", "contact_email": "…", "name": "…", "url": "…",
//! "associated_event_id": "…"}, "trace": {…}}, …}`.
//! The envelope's `event_id` header is the feedback event's own id, never
//! `associated_event_id` (the error the feedback is about).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Map;
use crate::context::Context;
use crate::event::{Event, EventId};
use crate::level::Level;

/// What a user reports: a message and, optionally, how to reach them, the
/// page they were on and the error event it is about.
///
/// Build one with [`Feedback::new`] and set the other fields:
///
/// ```
/// use vigil_protocol::{EventId, Feedback};
/// let mut feedback = Feedback::new("The export button does nothing.");
/// feedback.contact_email = Some("jane@example.com".into());
/// feedback.associated_event_id = Some(EventId::new());
/// let event = feedback.into_event();
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["contexts"]["feedback"]["message"], "The export button does nothing.");
/// assert_eq!(json["level"], "info");
/// ```
///
/// The message is limited to 4096 characters: a longer one is cut (ending
/// in `...`) by [`limits::trim_event`](crate::limits::trim_event).
/// Sentry fills a missing `contact_email` and `name` from the event's
/// `user`, so leave them out rather than copying the user in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feedback {
    /// What the user wrote (required by Sentry; at most 4096 characters).
    pub message: String,
    /// The user's e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The URL the user was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The error event the feedback is about (e.g. from `last_event_id()`),
    /// in the same project. Not the feedback's own id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_event_id: Option<EventId>,
    /// Further fields (e.g. `replay_id`, `source`), kept when reading.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Feedback {
    /// The most characters of [`message`](Feedback::message) Sentry
    /// accepts.
    pub const MAX_MESSAGE_CHARS: usize = 4096;

    /// A feedback with `message` and nothing else.
    pub fn new(message: impl Into<String>) -> Feedback {
        Feedback {
            message: message.into(),
            ..Feedback::default()
        }
    }

    /// The feedback event carrying this feedback as its `feedback`
    /// context: a new event (fresh id, now) at level `info`. Send it as an
    /// [`EnvelopeItem::Feedback`](crate::EnvelopeItem::Feedback), e.g.
    /// with [`Envelope::from_feedback`](crate::Envelope::from_feedback).
    pub fn into_event(self) -> Event {
        let mut event = Event {
            level: Level::Info,
            ..Event::default()
        };
        event
            .contexts
            .insert("feedback".to_owned(), Context::from(self));
        event
    }
}

impl Event {
    /// The [`Feedback`] in the event's `feedback` context, if it has one.
    pub fn feedback(&self) -> Option<&Feedback> {
        match self.contexts.get("feedback") {
            Some(Context::Feedback(feedback)) => Some(feedback),
            _ => None,
        }
    }

    /// The [`Feedback`] in the event's `feedback` context, mutably.
    pub fn feedback_mut(&mut self) -> Option<&mut Feedback> {
        match self.contexts.get_mut("feedback") {
            Some(Context::Feedback(feedback)) => Some(feedback),
            _ => None,
        }
    }
}
