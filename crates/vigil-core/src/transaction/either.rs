//! A transaction or a span: what a scope holds as its current span.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use vigil_protocol::{Request, SpanId, SpanStatus, TraceContext, TraceId};

use crate::propagation::TraceHeaders;
use crate::transaction::running::{Transaction, TransactionInner};
use crate::transaction::span::Span;

/// A running transaction or span, as held by a scope
/// ([`Scope::set_span`](crate::Scope::set_span) /
/// [`get_span`](crate::Scope::get_span)): the methods both have.
#[derive(Clone, Debug)]
pub enum TransactionOrSpan {
    /// A transaction.
    Transaction(Transaction),
    /// A span.
    Span(Span),
}

impl From<Transaction> for TransactionOrSpan {
    fn from(transaction: Transaction) -> TransactionOrSpan {
        TransactionOrSpan::Transaction(transaction)
    }
}

impl From<Span> for TransactionOrSpan {
    fn from(span: Span) -> TransactionOrSpan {
        TransactionOrSpan::Span(span)
    }
}

impl TransactionOrSpan {
    /// Whether it is sampled.
    pub fn is_sampled(&self) -> bool {
        match self {
            TransactionOrSpan::Transaction(t) => t.is_sampled(),
            TransactionOrSpan::Span(s) => s.is_sampled(),
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        match self {
            TransactionOrSpan::Transaction(t) => t.trace_id(),
            TransactionOrSpan::Span(s) => s.trace_id(),
        }
    }

    /// Its span id.
    pub fn span_id(&self) -> SpanId {
        match self {
            TransactionOrSpan::Transaction(t) => t.span_id(),
            TransactionOrSpan::Span(s) => s.span_id(),
        }
    }

    /// Sets the status.
    pub fn set_status(&self, status: SpanStatus) {
        match self {
            TransactionOrSpan::Transaction(t) => t.set_status(status),
            TransactionOrSpan::Span(s) => s.set_status(status),
        }
    }

    /// The status, if set.
    pub fn get_status(&self) -> Option<SpanStatus> {
        match self {
            TransactionOrSpan::Transaction(t) => t.get_status(),
            TransactionOrSpan::Span(s) => s.get_status(),
        }
    }

    /// Sets a data entry.
    pub fn set_data(&self, key: &str, value: Value) {
        match self {
            TransactionOrSpan::Transaction(t) => t.set_data(key, value),
            TransactionOrSpan::Span(s) => s.set_data(key, value),
        }
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: &str, value: impl fmt::Display) {
        match self {
            TransactionOrSpan::Transaction(t) => t.set_tag(key, value),
            TransactionOrSpan::Span(s) => s.set_tag(key, value),
        }
    }

    /// Sets the request (see [`Transaction::set_request`] and
    /// [`Span::set_request`]).
    pub fn set_request(&self, request: Request) {
        match self {
            TransactionOrSpan::Transaction(t) => t.set_request(request),
            TransactionOrSpan::Span(s) => s.set_request(request),
        }
    }

    /// Starts a child span.
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        match self {
            TransactionOrSpan::Transaction(t) => t.start_child(op, description),
            TransactionOrSpan::Span(s) => s.start_child(op, description),
        }
    }

    /// The `trace` context of events captured under it.
    pub fn get_trace_context(&self) -> TraceContext {
        match self {
            TransactionOrSpan::Transaction(t) => t.get_trace_context(),
            TransactionOrSpan::Span(s) => s.get_trace_context(),
        }
    }

    /// The headers that carry the trace on, with this as the parent.
    pub fn iter_headers(&self) -> TraceHeaders {
        match self {
            TransactionOrSpan::Transaction(t) => t.iter_headers(),
            TransactionOrSpan::Span(s) => s.iter_headers(),
        }
    }

    /// Finishes it.
    pub fn finish(self) {
        match self {
            TransactionOrSpan::Transaction(t) => t.finish(),
            TransactionOrSpan::Span(s) => s.finish(),
        }
    }

    /// Whether `self` and `other` are handles of the same span.
    pub(crate) fn same_as(&self, other: &TransactionOrSpan) -> bool {
        self.trace_id() == other.trace_id() && self.span_id() == other.span_id()
    }

    pub(crate) fn transaction_inner(&self) -> &Arc<TransactionInner> {
        match self {
            TransactionOrSpan::Transaction(t) => &t.inner,
            TransactionOrSpan::Span(s) => s.transaction_inner(),
        }
    }
}
