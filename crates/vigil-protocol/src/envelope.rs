//! The envelope: Sentry's newline-delimited container for events and other
//! items (`protocol.md` §2).
//!
//! The [`Envelope`] itself is defined here; its headers, items, writer,
//! reader and error live in the child modules.

mod attachment;
mod error;
mod headers;
mod items;
mod reader;
mod writer;

pub use self::attachment::Attachment;
pub use self::error::EnvelopeError;
pub use self::headers::EnvelopeHeaders;
pub use self::items::{EnvelopeItem, RawItem};
use crate::event::Event;
use crate::transaction::Transaction;

/// An envelope: headers and a list of items.
///
/// ```
/// use vigil_protocol::{Envelope, Event};
/// let event = Event { message: Some("hello".into()), ..Default::default() };
/// let id = event.event_id;
/// let envelope = Envelope::from_event(event);
/// let bytes = envelope.to_vec().unwrap();
/// let back = Envelope::from_slice(&bytes).unwrap();
/// assert_eq!(back.headers().event_id, Some(id));
/// assert_eq!(back.event().unwrap().message.as_deref(), Some("hello"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    headers: EnvelopeHeaders,
    items: Vec<EnvelopeItem>,
}

impl Envelope {
    /// An empty envelope with empty headers.
    pub fn new() -> Envelope {
        Envelope::default()
    }

    /// An envelope carrying one event, its id copied into the headers.
    pub fn from_event(event: impl Into<Box<Event>>) -> Envelope {
        let event = event.into();
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope.items.push(EnvelopeItem::Event(event));
        envelope
    }

    /// An envelope carrying one transaction, its id copied into the
    /// headers.
    ///
    /// ```
    /// use vigil_protocol::{Envelope, Transaction};
    /// let transaction = Transaction { name: Some("GET /".into()), ..Default::default() };
    /// let id = transaction.event_id;
    /// let envelope = Envelope::from_transaction(transaction);
    /// assert_eq!(envelope.headers().event_id, Some(id));
    /// let back = Envelope::from_slice(&envelope.to_vec().unwrap()).unwrap();
    /// assert_eq!(back.transaction().unwrap().name.as_deref(), Some("GET /"));
    /// ```
    pub fn from_transaction(transaction: impl Into<Box<Transaction>>) -> Envelope {
        let transaction = transaction.into();
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(transaction.event_id);
        envelope.items.push(EnvelopeItem::Transaction(transaction));
        envelope
    }

    /// An envelope carrying one feedback event (see
    /// [`Feedback::into_event`](crate::Feedback::into_event)), the event's
    /// own id copied into the headers.
    ///
    /// ```
    /// use vigil_protocol::{Envelope, Feedback};
    /// let event = Feedback::new("Love it").into_event();
    /// let id = event.event_id;
    /// let envelope = Envelope::from_feedback(event);
    /// assert_eq!(envelope.headers().event_id, Some(id));
    /// let back = Envelope::from_slice(&envelope.to_vec().unwrap()).unwrap();
    /// assert_eq!(back.feedback().unwrap().feedback().unwrap().message, "Love it");
    /// ```
    pub fn from_feedback(event: impl Into<Box<Event>>) -> Envelope {
        let event = event.into();
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope.items.push(EnvelopeItem::Feedback(event));
        envelope
    }

    /// The headers.
    pub fn headers(&self) -> &EnvelopeHeaders {
        &self.headers
    }

    /// The headers, mutably.
    pub fn headers_mut(&mut self) -> &mut EnvelopeHeaders {
        &mut self.headers
    }

    /// Adds an item. An event's, feedback event's or transaction's id is
    /// copied into the headers when they have none.
    pub fn add_item(&mut self, item: impl Into<EnvelopeItem>) {
        let item = item.into();
        let event_id = match &item {
            EnvelopeItem::Event(event) | EnvelopeItem::Feedback(event) => Some(event.event_id),
            EnvelopeItem::Transaction(transaction) => Some(transaction.event_id),
            _ => None,
        };
        if let Some(event_id) = event_id {
            self.headers.event_id.get_or_insert(event_id);
        }
        self.items.push(item);
    }

    /// The items, in order.
    pub fn items(&self) -> std::slice::Iter<'_, EnvelopeItem> {
        self.items.iter()
    }

    /// The id of the event the envelope carries (its `event_id` header), as
    /// a UUID.
    pub fn uuid(&self) -> Option<&uuid::Uuid> {
        self.headers.event_id.as_ref().map(crate::EventId::as_uuid)
    }

    /// Keeps only the items for which `keep` returns true.
    pub fn retain_items(&mut self, keep: impl FnMut(&EnvelopeItem) -> bool) {
        self.items.retain(keep);
    }

    /// Takes the items out, leaving the envelope empty.
    pub fn into_items(self) -> Vec<EnvelopeItem> {
        self.items
    }

    /// The first event item, if any.
    pub fn event(&self) -> Option<&Event> {
        self.items.iter().find_map(|i| match i {
            EnvelopeItem::Event(e) => Some(&**e),
            _ => None,
        })
    }

    /// The event of the first feedback item, if any (its
    /// [`Event::feedback`] is the user's [`Feedback`](crate::Feedback)).
    pub fn feedback(&self) -> Option<&Event> {
        self.items.iter().find_map(|i| match i {
            EnvelopeItem::Feedback(e) => Some(&**e),
            _ => None,
        })
    }

    /// The first transaction item, if any.
    pub fn transaction(&self) -> Option<&Transaction> {
        self.items.iter().find_map(|i| match i {
            EnvelopeItem::Transaction(t) => Some(&**t),
            _ => None,
        })
    }

    /// Whether the envelope has no items (such an envelope is not sent).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
