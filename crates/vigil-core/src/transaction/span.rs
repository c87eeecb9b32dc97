//! A span: one timed part of a transaction's work.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::Value;
use vigil_protocol::Map;
use vigil_protocol::{
    Request, SmolStr, Span as ProtocolSpan, SpanId, SpanStatus, TraceContext, TraceId,
};

use crate::propagation::TraceHeaders;
use crate::transaction::manual_origin;
use crate::transaction::running::TransactionInner;

/// A timed part of a transaction's work (a query, a call to another
/// service), child of the transaction or of another span. Handles are
/// cheap clones of one span.
///
/// [`finish`](Span::finish) records it in its transaction, which sends it
/// when the transaction finishes; a span finished after its transaction,
/// or never, is not sent.
///
/// A span of an unsampled transaction records nothing: it keeps only its
/// ids (which the headers and events it carries need), so its data, tags,
/// op, description and status are dropped as they are set, and
/// [`get_status`](Span::get_status) answers `None`. It costs no
/// allocation of its own.
#[derive(Clone)]
pub struct Span {
    inner: SpanHandle,
}

/// A recorded span, shared by its handles, or the ids of an unsampled one.
#[derive(Clone)]
enum SpanHandle {
    Recorded(Arc<SpanInner>),
    Unsampled(SpanIds),
}

/// Where a span sits in its trace.
#[derive(Clone)]
struct SpanIds {
    transaction: Arc<TransactionInner>,
    span_id: SpanId,
    parent_span_id: SpanId,
}

struct SpanInner {
    ids: SpanIds,
    started: Instant,
    state: Mutex<SpanState>,
}

struct SpanState {
    status: Option<SpanStatus>,
    /// What is sent, taken when the span finishes (so `None` once
    /// finished).
    record: Option<SpanRecord>,
}

/// The texts and data of a recorded span.
struct SpanRecord {
    op: SmolStr,
    description: Option<String>,
    tags: BTreeMap<String, String>,
    data: Map<String, Value>,
    /// `None`: `manual`.
    origin: Option<SmolStr>,
}

impl Span {
    /// Starts a child of `parent` (a span id of `transaction`).
    pub(crate) fn start(
        transaction: &Arc<TransactionInner>,
        parent: SpanId,
        op: &str,
        description: &str,
    ) -> Span {
        let ids = SpanIds {
            transaction: Arc::clone(transaction),
            span_id: SpanId::new(),
            parent_span_id: parent,
        };
        // A span of an unsampled transaction is never sent: it keeps its
        // ids and is only counted.
        if !transaction.decision.sampled {
            transaction.children.fetch_add(1, Ordering::Relaxed);
            return Span {
                inner: SpanHandle::Unsampled(ids),
            };
        }
        let record = SpanRecord {
            op: SmolStr::new(op),
            description: (!description.is_empty()).then(|| description.to_owned()),
            tags: BTreeMap::new(),
            data: Map::new(),
            origin: None,
        };
        Span {
            inner: SpanHandle::Recorded(Arc::new(SpanInner {
                ids,
                started: Instant::now(),
                state: Mutex::new(SpanState {
                    status: None,
                    record: Some(record),
                }),
            })),
        }
    }

    fn ids(&self) -> &SpanIds {
        match &self.inner {
            SpanHandle::Recorded(inner) => &inner.ids,
            SpanHandle::Unsampled(ids) => ids,
        }
    }

    /// The state of a recorded span, locked; `None` for an unsampled one.
    fn lock(&self) -> Option<MutexGuard<'_, SpanState>> {
        match &self.inner {
            SpanHandle::Recorded(inner) => {
                Some(inner.state.lock().unwrap_or_else(PoisonError::into_inner))
            }
            SpanHandle::Unsampled(_) => None,
        }
    }

    /// The record of a recorded, unfinished span, for `edit`.
    fn edit_record(&self, edit: impl FnOnce(&mut SpanRecord)) {
        if let Some(mut state) = self.lock()
            && let Some(record) = &mut state.record
        {
            edit(record);
        }
    }

    pub(crate) fn transaction_inner(&self) -> &Arc<TransactionInner> {
        &self.ids().transaction
    }

    /// Whether the span's transaction is sampled.
    pub fn is_sampled(&self) -> bool {
        matches!(self.inner, SpanHandle::Recorded(_))
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.ids().transaction.trace_id
    }

    /// The span's id.
    pub fn span_id(&self) -> SpanId {
        self.ids().span_id
    }

    /// The parent span's id (the transaction's or another span's).
    pub fn parent_span_id(&self) -> SpanId {
        self.ids().parent_span_id
    }

    /// Sets the status (not kept on a span of an unsampled transaction).
    pub fn set_status(&self, status: SpanStatus) {
        if let Some(mut state) = self.lock() {
            state.status = Some(status);
        }
    }

    /// The status, if set (always `None` on a span of an unsampled
    /// transaction).
    pub fn get_status(&self) -> Option<SpanStatus> {
        self.lock().and_then(|state| state.status)
    }

    /// Sets a data entry (see Sentry's span data conventions, e.g.
    /// `db.system`, `http.response.status_code`).
    pub fn set_data(&self, key: &str, value: Value) {
        self.edit_record(|record| {
            record.data.insert(key.to_owned(), value);
        });
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: &str, value: impl fmt::Display) {
        self.edit_record(|record| {
            record.tags.insert(key.to_owned(), value.to_string());
        });
    }

    /// Sets the operation.
    pub fn set_op(&self, op: &str) {
        self.edit_record(|record| record.op = SmolStr::new(op));
    }

    /// Sets the origin: what made the span (`manual`, the default, for
    /// code that calls the API; `auto.<category>.<integration>` for an
    /// integration, such as `auto.http.reqwest`).
    pub fn set_origin(&self, origin: &str) {
        self.edit_record(|record| record.origin = Some(SmolStr::new(origin)));
    }

    /// Sets the description.
    pub fn set_description(&self, description: &str) {
        self.edit_record(|record| record.description = Some(description.to_owned()));
    }

    /// Records the request a client span makes as span data (method and
    /// URL, as Sentry's span conventions name them).
    pub fn set_request(&self, request: Request) {
        self.edit_record(|record| {
            if let Some(method) = request.method {
                record
                    .data
                    .insert("http.request.method".into(), method.into());
            }
            if let Some(url) = request.url {
                record.data.insert("url".into(), url.into());
            }
        });
    }

    /// Starts a span timing a part of this span's work.
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        let ids = self.ids();
        Span::start(&ids.transaction, ids.span_id, op, description)
    }

    /// The `trace` context of events captured while this span is the
    /// scope's span.
    pub fn get_trace_context(&self) -> TraceContext {
        let ids = self.ids();
        let mut context = TraceContext {
            trace_id: ids.transaction.trace_id,
            span_id: ids.span_id,
            parent_span_id: Some(ids.parent_span_id),
            op: None,
            description: None,
            status: None,
            origin: None,
            data: Map::new(),
        };
        if let Some(state) = self.lock() {
            context.status = state.status;
            if let Some(record) = &state.record {
                context.op = Some(record.op.clone()).filter(|op| !op.is_empty());
                context.description.clone_from(&record.description);
            }
        }
        context
    }

    /// The headers that carry the trace to another service, with this
    /// span as the parent of what is called.
    pub fn iter_headers(&self) -> TraceHeaders {
        let ids = self.ids();
        ids.transaction.headers(ids.span_id)
    }

    /// Ends the span and records it in its transaction (when sampled and
    /// still running). Finishing again does nothing.
    pub fn finish(self) {
        // A span of an unsampled transaction is not sent.
        let SpanHandle::Recorded(inner) = &self.inner else {
            return;
        };
        let end = Instant::now();
        let transaction = &inner.ids.transaction;
        let span = {
            let mut state = inner.state.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(record) = state.record.take() else {
                return;
            };
            let start = transaction.time_of(inner.started);
            ProtocolSpan {
                span_id: inner.ids.span_id,
                trace_id: transaction.trace_id,
                parent_span_id: Some(inner.ids.parent_span_id),
                op: Some(record.op),
                description: record.description,
                start_timestamp: start,
                timestamp: Some(transaction.time_of(end).max(start)),
                status: Some(state.status.unwrap_or(SpanStatus::Ok)),
                tags: record.tags,
                data: record.data,
                origin: Some(record.origin.unwrap_or_else(manual_origin)),
            }
        };
        transaction.record_span(span);
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Span")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .field("parent_span_id", &self.parent_span_id())
            .field("sampled", &self.is_sampled())
            .finish_non_exhaustive()
    }
}
