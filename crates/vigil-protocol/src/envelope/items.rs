//! The items an envelope carries and their data categories.

use serde_json::{Map, Value};

use super::attachment::Attachment;
use crate::check_in::CheckIn;
use crate::client_report::{ClientReport, DataCategory};
use crate::event::Event;
use crate::log::{ItemContainer, Log};
use crate::metric::Metric;
use crate::session::{SessionAggregates, SessionUpdate};
use crate::transaction::Transaction;

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
    /// A transaction with its spans.
    Transaction(Box<Transaction>),
    /// User feedback: an event whose `feedback` context holds the
    /// [`Feedback`](crate::Feedback), written with `"type": "feedback"`
    /// (at most one per envelope, never with an `event` or a
    /// `transaction`).
    Feedback(Box<Event>),
    /// An attachment.
    Attachment(Attachment),
    /// A client report.
    ClientReport(ClientReport),
    /// A session update.
    Session(Box<SessionUpdate>),
    /// Sessions counted per minute (request mode).
    SessionAggregates(Box<SessionAggregates>),
    /// Several records in one item: structured logs.
    ItemContainer(ItemContainer),
    /// A cron monitor check-in (at most one per envelope).
    CheckIn(Box<CheckIn>),
    /// Any other item, kept verbatim.
    Raw(RawItem),
}

impl EnvelopeItem {
    /// The item's wire `type`.
    pub fn ty(&self) -> &str {
        match self {
            EnvelopeItem::Event(_) => "event",
            EnvelopeItem::Transaction(_) => "transaction",
            EnvelopeItem::Feedback(_) => "feedback",
            EnvelopeItem::Attachment(_) => "attachment",
            EnvelopeItem::ClientReport(_) => "client_report",
            EnvelopeItem::Session(_) => "session",
            EnvelopeItem::SessionAggregates(_) => "sessions",
            EnvelopeItem::ItemContainer(container) => container.ty(),
            EnvelopeItem::CheckIn(_) => "check_in",
            EnvelopeItem::Raw(raw) => raw.ty(),
        }
    }

    /// The rate-limit / client-report category of the item.
    pub fn category(&self) -> DataCategory {
        category_of(self.ty())
    }

    /// How many units the item counts for in client reports (bytes for
    /// attachments, 1 otherwise), in its own [`category`](Self::category).
    pub fn quantity(&self) -> u64 {
        match self {
            EnvelopeItem::Attachment(a) => (a.buffer.len() as u64).max(1),
            EnvelopeItem::ItemContainer(container) => container.len() as u64,
            _ => 1,
        }
    }

    /// What dropping this item loses, per category: the pairs a client
    /// report counts when the item is dropped.
    ///
    /// A transaction loses one `transaction` and `spans.len() + 1` `span`
    /// (the transaction is itself a span), per the client-report rules; a
    /// `log` item one `log_item` per log and their approximate size as
    /// `log_byte`, a `trace_metric` item likewise (`trace_metric` and
    /// `trace_metric_byte`);
    /// every other item loses [`quantity`](Self::quantity) of its
    /// [`category`](Self::category). Client reports are included like any
    /// item (category `internal`); whoever counts losses skips them.
    ///
    /// ```
    /// use vigil_protocol::{DataCategory, EnvelopeItem, Span, Transaction};
    /// let transaction = Transaction { spans: vec![Span::default(); 3], ..Default::default() };
    /// let item = EnvelopeItem::from(transaction);
    /// let lost: Vec<_> = item.outcomes().collect();
    /// assert_eq!(lost, [(DataCategory::Transaction, 1), (DataCategory::Span, 4)]);
    /// ```
    pub fn outcomes(&self) -> impl Iterator<Item = (DataCategory, u64)> {
        let extra = match self {
            EnvelopeItem::Transaction(transaction) => {
                Some((DataCategory::Span, transaction.spans.len() as u64 + 1))
            }
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some((
                DataCategory::LogByte,
                logs.iter().map(Log::approximate_size).sum(),
            )),
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => Some((
                DataCategory::TraceMetricByte,
                metrics.iter().map(Metric::approximate_size).sum(),
            )),
            _ => None,
        };
        std::iter::once((self.category(), self.quantity())).chain(extra)
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
        "trace_metric" => DataCategory::TraceMetric,
        "feedback" => DataCategory::Feedback,
        "client_report" => DataCategory::Internal,
        _ => DataCategory::Default,
    }
}

impl From<ItemContainer> for EnvelopeItem {
    fn from(container: ItemContainer) -> EnvelopeItem {
        EnvelopeItem::ItemContainer(container)
    }
}

impl From<CheckIn> for EnvelopeItem {
    fn from(check_in: CheckIn) -> EnvelopeItem {
        EnvelopeItem::CheckIn(Box::new(check_in))
    }
}

impl From<Event> for EnvelopeItem {
    fn from(event: Event) -> EnvelopeItem {
        EnvelopeItem::Event(Box::new(event))
    }
}

impl From<Transaction> for EnvelopeItem {
    fn from(transaction: Transaction) -> EnvelopeItem {
        EnvelopeItem::Transaction(Box::new(transaction))
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

impl From<SessionAggregates> for EnvelopeItem {
    fn from(s: SessionAggregates) -> EnvelopeItem {
        EnvelopeItem::SessionAggregates(Box::new(s))
    }
}
