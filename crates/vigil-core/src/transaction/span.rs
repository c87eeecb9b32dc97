//! A span: one timed part of a transaction's work.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{Map, Value};
use vigil_protocol::{Request, Span as ProtocolSpan, SpanId, SpanStatus, TraceContext, TraceId};

use crate::propagation::TraceHeaders;
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
    op: String,
    description: Option<String>,
    status: Option<SpanStatus>,
    tags: BTreeMap<String, String>,
    data: Map<String, Value>,
    finished: bool,
}

impl Span {
    /// Starts a child of `parent` (a span id of `transaction`).
    pub(crate) fn start(
        transaction: &Arc<TransactionInner>,
        parent: SpanId,
        op: &str,
        description: &str,
    ) -> Span {
        transaction.children.fetch_add(1, Ordering::Relaxed);
        // A span of an unsampled transaction is never sent: it keeps its
        // ids (for the headers and events it carries) but not its texts.
        let recording = transaction.decision.sampled;
        let (op, description) = if recording {
            (
                op.to_owned(),
                (!description.is_empty()).then(|| description.to_owned()),
            )
        } else {
            (String::new(), None)
        };
        Span {
            inner: Arc::new(SpanInner {
                transaction: Arc::clone(transaction),
                span_id: SpanId::new(),
                parent_span_id: parent,
                started: Instant::now(),
                state: Mutex::new(SpanState {
                    op,
                    description,
                    status: None,
                    tags: BTreeMap::new(),
                    data: Map::new(),
                    finished: false,
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
        self.lock().data.insert(key.to_owned(), value);
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: &str, value: impl fmt::Display) {
        self.lock().tags.insert(key.to_owned(), value.to_string());
    }

    /// Sets the operation.
    pub fn set_op(&self, op: &str) {
        self.lock().op = op.to_owned();
    }

    /// Sets the description.
    pub fn set_description(&self, description: &str) {
        self.lock().description = Some(description.to_owned());
    }

    /// Records the request a client span makes as span data (method and
    /// URL, as Sentry's span conventions name them).
    pub fn set_request(&self, request: Request) {
        let mut state = self.lock();
        if let Some(method) = request.method {
            state
                .data
                .insert("http.request.method".into(), method.into());
        }
        if let Some(url) = request.url {
            state.data.insert("url".into(), url.into());
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
        TraceContext {
            trace_id: self.trace_id(),
            span_id: self.inner.span_id,
            parent_span_id: Some(self.inner.parent_span_id),
            op: (!state.op.is_empty()).then(|| state.op.clone()),
            description: state.description.clone(),
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
        let end = Instant::now();
        let span = {
            let mut state = self.lock();
            if state.finished {
                return;
            }
            state.finished = true;
            if !self.is_sampled() {
                return;
            }
            let transaction = &self.inner.transaction;
            let start = transaction.time_of(self.inner.started);
            ProtocolSpan {
                span_id: self.inner.span_id,
                trace_id: transaction.trace_id,
                parent_span_id: Some(self.inner.parent_span_id),
                op: Some(std::mem::take(&mut state.op)),
                description: state.description.take(),
                start_timestamp: start,
                timestamp: Some(transaction.time_of(end).max(start)),
                status: Some(state.status.unwrap_or(SpanStatus::Ok)),
                tags: std::mem::take(&mut state.tags),
                data: std::mem::take(&mut state.data),
                origin: Some("manual".to_owned()),
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
