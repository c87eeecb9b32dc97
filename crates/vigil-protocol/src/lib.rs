//! Sentry wire-protocol types for Vigil.
//!
//! This crate holds data only: the event model ([`Event`] and its
//! interfaces), the [`Envelope`] format with a writer and a reader, the
//! [`Dsn`] parser and the `X-Sentry-Auth` header, client reports, and the
//! size limits Relay applies ([`limits`]). It has no globals, threads or
//! I/O; every type serializes to exactly the JSON Sentry expects.
//!
//! Most users reach these types through `vigil::protocol`.

mod breadcrumb;
mod breadcrumbs;
mod client_report;
mod context;
mod dsn;
mod envelope;
mod event;
mod exception;
mod level;
pub mod limits;
mod request;
mod sdk;
mod session;
mod time;
mod user;

pub use crate::breadcrumb::Breadcrumb;
pub use crate::breadcrumbs::{Breadcrumbs, Iter as BreadcrumbsIter};
pub use crate::client_report::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};
pub use crate::context::{
    AppContext, Context, DeviceContext, OsContext, RuntimeContext, TraceContext,
};
pub use crate::dsn::{Dsn, DsnError, Scheme};
pub use crate::envelope::{
    Attachment, Envelope, EnvelopeError, EnvelopeHeaders, EnvelopeItem, RawItem, category_of,
};
pub use crate::event::{Event, EventId, LogEntry, ParseEventIdError, Values};
pub use crate::exception::{Exception, Frame, Mechanism, Stacktrace, Thread};
pub use crate::level::{Level, ParseLevelError};
pub use crate::request::Request;
pub use crate::sdk::{ClientSdkInfo, ClientSdkPackage};
pub use crate::session::{SessionAttributes, SessionStatus, SessionUpdate};
pub use crate::time::{format_rfc3339, parse_rfc3339};
pub use crate::user::{Geo, User};

/// Re-exported so users can build `extra` and context values.
pub use serde_json::{Map, Value};
/// The string type of tags: short ones are stored inline, longer ones
/// shared, so copying tags allocates nothing per tag.
pub use smol_str::SmolStr;
