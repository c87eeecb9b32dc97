//! A span: one timed part of a transaction's work.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{Map, Value};
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
/// or never, is not sent. Spans of an unsampled transaction record
/// nothing.
#[derive(Clone)]
pub struct Span {
    inner: Arc<SpanInner>,
}

struct SpanInner {
    transaction: Arc<TransactionInner>,
    span_id: SpanId,
    parent_span_id: SpanId,
    started: Instant,
    state: Mutex<SpanState>,
}

struct SpanState {
    status: Option<SpanStatus>,
    finished: bool,
    /// What is sent; `None` for a span of an unsampled transaction, which
    /// records nothing.
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
        // A span of an unsampled transaction is never sent: it keeps its
        // ids (for the headers and events it carries) but neither its
        // texts nor the time it started; it is only counted.
        let (record, started) = if transaction.decision.sampled {
            let record = SpanRecord {
                op: SmolStr::new(op),
                description: (!description.is_empty()).then(|| description.to_owned()),
                tags: BTreeMap::new(),
                data: Map::new(),
                origin: None,
            };
            (Some(record), Instant::now())
        } else {
            transaction.children.fetch_add(1, Ordering::Relaxed);
            (None, transaction.started)
        };
        Span {
            inner: Arc::new(SpanInner {
                transaction: Arc::clone(transaction),
                span_id: SpanId::new(),
                parent_span_id: parent,
                started,
                state: Mutex::new(SpanState {
                    status: None,
                    finished: false,
                    record,
                }),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SpanState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn transaction_inner(&self) -> &Arc<TransactionInner> {
        &self.inner.transaction
    }

    /// Whether the span's transaction is sampled.
    pub fn is_sampled(&self) -> bool {
        self.inner.transaction.decision.sampled
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.inner.transaction.trace_id
    }

    /// The span's id.
    pub fn span_id(&self) -> SpanId {
        self.inner.span_id
    }

    /// The parent span's id (the transaction's or another span's).
    pub fn parent_span_id(&self) -> SpanId {
        self.inner.parent_span_id
    }

    /// Sets the status.
    pub fn set_status(&self, status: SpanStatus) {
        self.lock().status = Some(status);
    }

    /// The status, if set.
    pub fn get_status(&self) -> Option<SpanStatus> {
        self.lock().status
    }

    /// Sets a data entry (see Sentry's span data conventions, e.g.
    /// `db.system`, `http.response.status_code`).
    pub fn set_data(&self, key: &str, value: Value) {
        if let Some(record) = &mut self.lock().record {
            record.data.insert(key.to_owned(), value);
        }
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: &str, value: impl fmt::Display) {
        if let Some(record) = &mut self.lock().record {
            record.tags.insert(key.to_owned(), value.to_string());
        }
    }

    /// Sets the operation.
    pub fn set_op(&self, op: &str) {
        if let Some(record) = &mut self.lock().record {
            record.op = SmolStr::new(op);
        }
    }

    /// Sets the origin: what made the span (`manual`, the default, for
    /// code that calls the API; `auto.<category>.<integration>` for an
    /// integration, such as `auto.http.reqwest`).
    pub fn set_origin(&self, origin: &str) {
        if let Some(record) = &mut self.lock().record {
            record.origin = Some(SmolStr::new(origin));
        }
    }

    /// Sets the description.
    pub fn set_description(&self, description: &str) {
        if let Some(record) = &mut self.lock().record {
            record.description = Some(description.to_owned());
        }
    }

    /// Records the request a client span makes as span data (method and
    /// URL, as Sentry's span conventions name them).
    pub fn set_request(&self, request: Request) {
        let mut state = self.lock();
        let Some(record) = &mut state.record else {
            return;
        };
        if let Some(method) = request.method {
            record
                .data
                .insert("http.request.method".into(), method.into());
        }
        if let Some(url) = request.url {
            record.data.insert("url".into(), url.into());
        }
    }

    /// Starts a span timing a part of this span's work.
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        Span::start(&self.inner.transaction, self.inner.span_id, op, description)
    }

    /// The `trace` context of events captured while this span is the
    /// scope's span.
    pub fn get_trace_context(&self) -> TraceContext {
        let state = self.lock();
        let record = state.record.as_ref();
        TraceContext {
            trace_id: self.trace_id(),
            span_id: self.inner.span_id,
            parent_span_id: Some(self.inner.parent_span_id),
            op: record.map(|r| r.op.clone()).filter(|op| !op.is_empty()),
            description: record.and_then(|r| r.description.clone()),
            status: state.status,
            origin: None,
            data: Map::new(),
        }
    }

    /// The headers that carry the trace to another service, with this
    /// span as the parent of what is called.
    pub fn iter_headers(&self) -> TraceHeaders {
        self.inner.transaction.headers(self.inner.span_id)
    }

    /// Ends the span and records it in its transaction (when sampled and
    /// still running). Finishing again does nothing.
    pub fn finish(self) {
        // A span of an unsampled transaction is not sent: no clock read.
        let Some(end) = self.is_sampled().then(Instant::now) else {
            self.lock().finished = true;
            return;
        };
        let span = {
            let mut state = self.lock();
            if state.finished {
                return;
            }
            state.finished = true;
            let Some(record) = state.record.take() else {
                return;
            };
            let transaction = &self.inner.transaction;
            let start = transaction.time_of(self.inner.started);
            ProtocolSpan {
                span_id: self.inner.span_id,
                trace_id: transaction.trace_id,
                parent_span_id: Some(self.inner.parent_span_id),
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
        self.inner.transaction.record_span(span);
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Span")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.inner.span_id)
            .field("parent_span_id", &self.inner.parent_span_id)
            .field("sampled", &self.is_sampled())
            .finish_non_exhaustive()
    }
}
