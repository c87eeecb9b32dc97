//! The items an envelope carries and their data categories.

use serde_json::{Map, Value};

use super::attachment::Attachment;
use crate::client_report::{ClientReport, DataCategory};
use crate::event::Event;
use crate::session::SessionUpdate;

/// An item of a type this version does not model, kept as raw bytes.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RawItem {
    /// The item header (including `type`).
    pub headers: Map<String, Value>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl RawItem {
    /// The item's `type`.
    pub fn ty(&self) -> &str {
        self.headers
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// One item of an envelope.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnvelopeItem {
    /// An error or message event.
    Event(Box<Event>),
    /// An attachment.
    Attachment(Attachment),
    /// A client report.
    ClientReport(ClientReport),
    /// A session update.
    Session(Box<SessionUpdate>),
    /// Any other item, kept verbatim.
    Raw(RawItem),
}

impl EnvelopeItem {
    /// The item's wire `type`.
    pub fn ty(&self) -> &str {
        match self {
            EnvelopeItem::Event(_) => "event",
            EnvelopeItem::Attachment(_) => "attachment",
            EnvelopeItem::ClientReport(_) => "client_report",
            EnvelopeItem::Session(_) => "session",
            EnvelopeItem::Raw(raw) => raw.ty(),
        }
    }

    /// The rate-limit / client-report category of the item.
    pub fn category(&self) -> DataCategory {
        category_of(self.ty())
    }

    /// How many units the item counts for in client reports (bytes for
    /// attachments, 1 otherwise).
    pub fn quantity(&self) -> u64 {
        match self {
            EnvelopeItem::Attachment(a) => (a.bytes.len() as u64).max(1),
            _ => 1,
        }
    }
}

/// Maps an item type to its data category (`protocol.md` §2.5).
fn category_of(item_type: &str) -> DataCategory {
    match item_type {
        "event" => DataCategory::Error,
        "transaction" => DataCategory::Transaction,
        "span" => DataCategory::Span,
        "attachment" => DataCategory::Attachment,
        "session" | "sessions" => DataCategory::Session,
        "check_in" => DataCategory::Monitor,
        "log" => DataCategory::LogItem,
        "feedback" => DataCategory::Feedback,
        "client_report" => DataCategory::Internal,
        _ => DataCategory::Default,
    }
}

impl From<Event> for EnvelopeItem {
    fn from(event: Event) -> EnvelopeItem {
        EnvelopeItem::Event(Box::new(event))
    }
}

impl From<Attachment> for EnvelopeItem {
    fn from(a: Attachment) -> EnvelopeItem {
        EnvelopeItem::Attachment(a)
    }
}

impl From<ClientReport> for EnvelopeItem {
    fn from(r: ClientReport) -> EnvelopeItem {
        EnvelopeItem::ClientReport(r)
    }
}

impl From<SessionUpdate> for EnvelopeItem {
    fn from(s: SessionUpdate) -> EnvelopeItem {
        EnvelopeItem::Session(Box::new(s))
    }
}
