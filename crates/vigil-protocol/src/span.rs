//! [`Span`]: one entry of a transaction's `spans` list
//! (`protocol-telemetry.md` A.1).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Map;
use smol_str::SmolStr;

use crate::trace::span_id::SpanId;
use crate::trace::span_status::SpanStatus;
use crate::trace::trace_id::TraceId;

/// A timed operation inside a [`Transaction`](crate::Transaction), such as
/// a database query or an outgoing HTTP request.
///
/// Build one with a struct literal and `..Default::default()`; the default
/// has new random ids (set `trace_id` to the transaction's) and starts
/// now. Empty fields are left out of the JSON and timestamps are written
/// as RFC 3339 with microseconds (float seconds are read too).
///
/// Reading JSON requires `span_id`, `trace_id` and `start_timestamp`, as
/// Relay does, and drops a `status` that is no [`SpanStatus`]. A span
/// without `timestamp` is unfinished: Relay accepts it but rewrites it
/// (end = the transaction's end, status `deadline_exceeded`), so an SDK
/// should finish its spans before sending them.
///
/// ```
/// use vigil_protocol::{Span, SpanStatus};
/// let span = Span {
///     trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     parent_span_id: Some("aa8336c618921333".parse().unwrap()),
///     op: Some("db.query".into()),
///     description: Some("SELECT 1".into()),
///     status: Some(SpanStatus::Ok),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&span).unwrap();
/// assert_eq!(json["op"], "db.query");
/// assert_eq!(json["parent_span_id"], "aa8336c618921333");
/// assert!(json["start_timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
/// assert!(json.get("timestamp").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// The span's own id.
    pub span_id: SpanId,
    /// The trace the span belongs to (the transaction's).
    pub trace_id: TraceId,
    /// The enclosing span: the transaction's span (its
    /// [`TraceContext::span_id`](crate::TraceContext::span_id)) or another
    /// span of the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The kind of operation, e.g. `db.query` or `http.client`
    /// (lowercase, dotted, low cardinality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<SmolStr>,
    /// What the operation did, e.g. the query or `GET https://...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the operation started (written as RFC 3339, which every
    /// reader of transactions accepts).
    #[serde(with = "crate::time::rfc3339")]
    pub start_timestamp: SystemTime,
    /// When the operation ended; `None` while it runs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub timestamp: Option<SystemTime>,
    /// How the operation ended.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::trace::span_status::deserialize_lenient"
    )]
    pub status: Option<SpanStatus>,
    /// Searchable string tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Further data, by the span data conventions (e.g. `db.system`,
    /// `http.response.status_code`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// What created the span, e.g. `manual` or `auto.db.sqlx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SmolStr>,
}

impl Default for Span {
    /// A span with new random ids, started now and not finished.
    fn default() -> Span {
        Span {
            span_id: SpanId::new(),
            trace_id: TraceId::new(),
            parent_span_id: None,
            op: None,
            description: None,
            start_timestamp: SystemTime::now(),
            timestamp: None,
            status: None,
            tags: BTreeMap::new(),
            data: Map::new(),
            origin: None,
        }
    }
}
