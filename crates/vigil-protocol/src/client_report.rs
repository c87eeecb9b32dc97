use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Why the SDK dropped an item (client-report spec 1.20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiscardReason {
    /// The transport queue was full.
    QueueOverflow,
    /// The offline cache was full.
    CacheOverflow,
    /// A rate limit from the server was in force.
    RatelimitBackoff,
    /// The network failed and the item was not retried further.
    NetworkError,
    /// Dropped by `sample_rate`.
    SampleRate,
    /// `before_send` returned `None` or panicked.
    BeforeSend,
    /// An event processor returned `None` or panicked.
    EventProcessor,
    /// The server answered with an error status other than 429.
    SendError,
    /// The SDK failed internally (serialization, oversize, I/O).
    InternalSdkError,
    /// Backpressure management dropped it.
    Backpressure,
    /// A buffer or container was full: spans past a transaction's span
    /// limit, or shed so the transaction fits 1 MiB.
    BufferOverflow,
    /// Something the item needs was missing: a session without a release.
    InsufficientData,
}

impl DiscardReason {
    /// Every reason, in declaration order.
    pub const ALL: [DiscardReason; 12] = [
        DiscardReason::QueueOverflow,
        DiscardReason::CacheOverflow,
        DiscardReason::RatelimitBackoff,
        DiscardReason::NetworkError,
        DiscardReason::SampleRate,
        DiscardReason::BeforeSend,
        DiscardReason::EventProcessor,
        DiscardReason::SendError,
        DiscardReason::InternalSdkError,
        DiscardReason::Backpressure,
        DiscardReason::BufferOverflow,
        DiscardReason::InsufficientData,
    ];

    /// The wire name, e.g. `queue_overflow`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscardReason::QueueOverflow => "queue_overflow",
            DiscardReason::CacheOverflow => "cache_overflow",
            DiscardReason::RatelimitBackoff => "ratelimit_backoff",
            DiscardReason::NetworkError => "network_error",
            DiscardReason::SampleRate => "sample_rate",
            DiscardReason::BeforeSend => "before_send",
            DiscardReason::EventProcessor => "event_processor",
            DiscardReason::SendError => "send_error",
            DiscardReason::InternalSdkError => "internal_sdk_error",
            DiscardReason::InsufficientData => "insufficient_data",
            DiscardReason::Backpressure => "backpressure",
            DiscardReason::BufferOverflow => "buffer_overflow",
        }
    }

    /// Position in [`DiscardReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DiscardReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rate-limit and client-report category of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DataCategory {
    /// Reserved: applies to every category (rate limits only).
    Default,
    /// Error events (`event` items).
    Error,
    /// Transactions.
    Transaction,
    /// Spans.
    Span,
    /// Attachments (quantity counts bytes).
    Attachment,
    /// Session updates.
    Session,
    /// Check-ins.
    Monitor,
    /// Log items (one per log record).
    LogItem,
    /// The bytes of log records (an approximate serialized size).
    LogByte,
    /// Trace metrics (one per metric).
    TraceMetric,
    /// The bytes of trace metrics (an approximate serialized size).
    TraceMetricByte,
    /// Feedback.
    Feedback,
    /// SDK-internal items such as client reports.
    Internal,
}

impl DataCategory {
    /// Every category, in declaration order.
    pub const ALL: [DataCategory; 13] = [
        DataCategory::Default,
        DataCategory::Error,
        DataCategory::Transaction,
        DataCategory::Span,
        DataCategory::Attachment,
        DataCategory::Session,
        DataCategory::Monitor,
        DataCategory::LogItem,
        DataCategory::LogByte,
        DataCategory::TraceMetric,
        DataCategory::TraceMetricByte,
        DataCategory::Feedback,
        DataCategory::Internal,
    ];

    /// The wire name, e.g. `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::Default => "default",
            DataCategory::Error => "error",
            DataCategory::Transaction => "transaction",
            DataCategory::Span => "span",
            DataCategory::Attachment => "attachment",
            DataCategory::Session => "session",
            DataCategory::Monitor => "monitor",
            DataCategory::LogItem => "log_item",
            DataCategory::LogByte => "log_byte",
            DataCategory::TraceMetric => "trace_metric",
            DataCategory::TraceMetricByte => "trace_metric_byte",
            DataCategory::Feedback => "feedback",
            DataCategory::Internal => "internal",
        }
    }

    /// Parses a wire name; unknown names give `None`.
    pub fn from_name(name: &str) -> Option<DataCategory> {
        DataCategory::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Position in [`DataCategory::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One aggregated line of a client report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiscardedEvent {
    /// Why the items were dropped.
    pub reason: DiscardReason,
    /// What kind of items.
    pub category: DataCategory,
    /// How many (bytes for attachments).
    pub quantity: u64,
}

impl DiscardedEvent {
    /// A line counting `quantity` items of `category` dropped for `reason`.
    pub fn new(reason: DiscardReason, category: DataCategory, quantity: u64) -> DiscardedEvent {
        DiscardedEvent {
            reason,
            category,
            quantity,
        }
    }
}

/// A `client_report` item: what the SDK dropped since the last report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientReport {
    /// When the report was made.
    #[serde(with = "crate::time::float", default = "SystemTime::now")]
    pub timestamp: SystemTime,
    /// The counts.
    pub discarded_events: Vec<DiscardedEvent>,
}

impl ClientReport {
    /// A report made at `timestamp` of the given counts.
    pub fn new(timestamp: SystemTime, discarded_events: Vec<DiscardedEvent>) -> ClientReport {
        ClientReport {
            timestamp,
            discarded_events,
        }
    }
}
