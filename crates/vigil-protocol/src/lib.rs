//! Sentry wire-protocol types for Vigil.
//!
//! This crate holds data only: the event model ([`Event`] and its
//! interfaces), transactions ([`Transaction`] and its [`Span`]s), the
//! [`Envelope`] format with a writer and a reader, the
//! [`Dsn`] parser and the `X-Sentry-Auth` header, client reports, the
//! size limits Relay applies ([`limits`]), and the distributed-tracing
//! primitives: [`TraceId`], [`SpanId`], [`SpanStatus`], the `sentry-trace`
//! / `traceparent` header ([`SentryTrace`]) and the `baggage` header's
//! [`DynamicSamplingContext`]. It has no globals, threads or I/O; every
//! type serializes to exactly the JSON Sentry expects.
//!
//! Most users reach these types through `vigil::protocol`.
//!
//! # Public API
//!
//! The plain data interfaces are built with struct literals, ending in
//! `..Default::default()` so that the code keeps compiling as fields are
//! added: [`Event`], [`User`], [`Geo`], [`Breadcrumb`], [`Exception`],
//! [`Mechanism`], [`Stacktrace`], [`Frame`], [`Thread`], [`Request`],
//! [`LogEntry`], [`Values`], [`DebugMeta`] and [`NativeDebugImage`], the
//! contexts [`AppContext`], [`DeviceContext`], [`OsContext`],
//! [`RuntimeContext`] and [`TraceContext`], [`ClientSdkInfo`] and
//! [`ClientSdkPackage`], [`Transaction`], [`TransactionInfo`] and
//! [`Span`]; also
//! [`Attachment`], which has no `Default` (use [`Attachment::new`] or name
//! every field). [`Level`] is a fixed set and may be matched exhaustively.
//!
//! Every other public type either keeps its fields private ([`Envelope`],
//! [`Dsn`], [`EventId`], [`Breadcrumbs`], [`TraceId`], [`SpanId`],
//! [`DynamicSamplingContext`]) or is `#[non_exhaustive]`: build it with its
//! constructor or `Default` and set its public fields, and give every
//! `match` on an enum (such as [`DebugImage`]) a wildcard arm
//! ([`ClientReport`], [`DiscardedEvent`] and [`SentryTrace`] have `new`
//! constructors; [`Feedback`] has [`Feedback::new`]).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod breadcrumb;
mod breadcrumb_list;
mod check_in;
mod client_report;
mod context;
mod debug_meta;
mod dsn;
mod envelope;
mod event;
mod exception;
mod feedback;
mod json_writer;
mod level;
pub mod limits;
mod log;
mod metric;
mod request;
mod sdk;
mod session;
mod span;
mod time;
mod trace;
mod transaction;
mod user;

pub use crate::breadcrumb::Breadcrumb;
pub use crate::breadcrumb_list::{Breadcrumbs, Iter as BreadcrumbsIter};
pub use crate::check_in::{
    CheckIn, CheckInId, CheckInStatus, IntervalUnit, InvalidSchedule, MonitorConfig,
    MonitorSchedule,
};
pub use crate::client_report::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};
pub use crate::context::{
    AppContext, Context, DeviceContext, OsContext, RuntimeContext, TraceContext,
};
pub use crate::debug_meta::{DebugImage, DebugMeta, NativeDebugImage};
pub use crate::dsn::{Dsn, DsnError, ProjectId, Scheme};
pub use crate::envelope::{
    Attachment, Envelope, EnvelopeError, EnvelopeHeaders, EnvelopeItem, RawItem,
};
pub use crate::event::{Event, EventId, LogEntry, ParseEventIdError, Values};
pub use crate::exception::{Exception, Frame, Mechanism, Stacktrace, Thread};
pub use crate::feedback::Feedback;
pub use crate::level::{Level, ParseLevelError};
pub use crate::log::{
    ItemContainer, Log, LogAttribute, LogLevel, LogSeverityNumber, PARENT_SPAN_ID,
};
pub use crate::metric::{Metric, MetricType, Unit};
pub use crate::request::Request;
pub use crate::sdk::{ClientSdkInfo, ClientSdkPackage};
pub use crate::session::{
    SessionAggregateItem, SessionAggregates, SessionAttributes, SessionStatus, SessionUpdate,
};
pub use crate::span::Span;
pub use crate::trace::dynamic_sampling_context::DynamicSamplingContext;
pub use crate::trace::error::TraceHeaderError;
pub use crate::trace::sentry_trace::SentryTrace;
pub use crate::trace::span_id::SpanId;
pub use crate::trace::span_status::{ParseSpanStatusError, SpanStatus};
pub use crate::trace::trace_id::TraceId;
pub use crate::transaction::Transaction;
pub use crate::transaction::source::{
    ParseTransactionSourceError, TransactionInfo, TransactionSource,
};
pub use crate::user::{Geo, User};
/// The UUID type of [`EventId`] (from the `uuid` crate).
pub use uuid::Uuid;

/// The JSON value of `extra`, context fields and data (re-exported).
pub use serde_json::Value;

/// The sorted map of `extra`, context fields, span and breadcrumb data and
/// log attributes (`Map<String, Value>` as in the reference SDK's
/// protocol).
pub type Map<K, V> = std::collections::BTreeMap<K, V>;
/// Re-exported because it is the type of the keys and values of
/// [`Event::tags`]: short strings are stored inline and longer ones shared,
/// so copying an event's tags allocates nothing per tag.
pub use smol_str::SmolStr;
