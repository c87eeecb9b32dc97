//! A running transaction: the root span of one unit of work in a trace,
//! the spans finished under it, and what is sent when it finishes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use serde_json::Value;
use smol_str::ToSmolStr;
use vigil_protocol::Map;
use vigil_protocol::{
    Context, DynamicSamplingContext, Request, SmolStr, Span as ProtocolSpan, SpanId, SpanStatus,
    TraceContext, TraceId, Transaction as ProtocolTransaction, TransactionInfo, TransactionSource,
};

use crate::client::Client;
use crate::options::ClientOptions;
use crate::propagation::{FrozenDsc, HeadTrace, TraceHeaders, head_dsc};
use crate::transaction::context::TransactionContext;
use crate::transaction::manual_origin;
use crate::transaction::sampling::Decision;
use crate::transaction::span::Span;

/// How many finished spans a transaction makes room for with its first.
const FIRST_SPANS_CAPACITY: usize = 32;

/// A transaction: the root of the spans that time one unit of work (a
/// request, a job), sent to Sentry when it is finished, if it is sampled.
///
/// Start one with [`start_transaction`](crate::start_transaction), make it
/// the scope's span ([`Scope::set_span`](crate::Scope::set_span)) so that
/// events and outgoing headers carry it, time its parts with
/// [`start_child`](Transaction::start_child), and
/// [`finish`](Transaction::finish) it. Handles are cheap clones of one
/// transaction. A transaction never finished is not sent; its memory goes
/// with its last handle.
///
/// An unsampled transaction records nothing: its children are not kept,
/// and finishing it only counts it (and its spans) as sampled out. It
/// still carries the trace, so the services it calls see the decision.
///
/// ```
/// use vigil_core::{TransactionContext, start_transaction};
/// let envelopes = vigil_core::test::with_captured_envelopes_options(
///     || {
///         let transaction = start_transaction(TransactionContext::new("checkout", "task"));
///         let span = transaction.start_child("db.query", "SELECT 1");
///         span.finish();
///         transaction.finish();
///     },
///     vigil_core::ClientOptions::new().traces_sample_rate(1.0),
/// );
/// let sent = envelopes[0].transaction().expect("a transaction");
/// assert_eq!(sent.name.as_deref(), Some("checkout"));
/// assert_eq!(sent.spans.len(), 1);
/// ```
#[derive(Clone)]
pub struct Transaction {
    pub(crate) inner: Arc<TransactionInner>,
}

/// What every handle of one transaction shares.
pub(crate) struct TransactionInner {
    pub(crate) client: Option<Arc<Client>>,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    parent_span_id: Option<SpanId>,
    pub(crate) decision: Decision,
    pub(crate) sample_rand: f64,
    op: SmolStr,
    origin: Option<SmolStr>,
    /// When it started; `None` for an unsampled transaction, which records
    /// no time (and so reads no clock).
    clock: Option<StartClock>,
    incoming_dsc: Option<FrozenDsc>,
    dsc: OnceLock<FrozenDsc>,
    /// Children started while unsampled (to count them as sampled out;
    /// spans of a sampled transaction are not counted here).
    pub(crate) children: AtomicU64,
    state: Mutex<TransactionState>,
}

/// The start of a recorded transaction: its wall-clock time, and the
/// monotonic instant that ends are measured from.
#[derive(Clone, Copy)]
struct StartClock {
    wall: SystemTime,
    instant: Instant,
}

struct TransactionState {
    name: String,
    source: TransactionSource,
    status: Option<SpanStatus>,
    tags: BTreeMap<SmolStr, SmolStr>,
    data: Map<String, Value>,
    request: Option<Request>,
    spans: Vec<ProtocolSpan>,
    /// Spans finished after `max_spans` were recorded.
    spans_over_limit: u64,
    finished: bool,
}

impl Transaction {
    /// A transaction for `ctx` with `client` (none: it records nothing),
    /// sampled as `decision` says.
    pub(crate) fn new(
        ctx: TransactionContext,
        client: Option<Arc<Client>>,
        decision: Decision,
    ) -> Transaction {
        Transaction {
            inner: Arc::new(TransactionInner {
                client,
                trace_id: ctx.trace_id,
                span_id: ctx.span_id,
                parent_span_id: ctx.parent_span_id,
                decision,
                sample_rand: ctx.sample_rand,
                op: ctx.op,
                origin: ctx.origin,
                clock: decision.sampled.then(|| StartClock {
                    wall: SystemTime::now(),
                    instant: Instant::now(),
                }),
                incoming_dsc: ctx.incoming_dsc.map(FrozenDsc::new),
                dsc: OnceLock::new(),
                children: AtomicU64::new(0),
                state: Mutex::new(TransactionState {
                    name: ctx.name,
                    source: ctx.source,
                    status: None,
                    tags: BTreeMap::new(),
                    data: Map::new(),
                    request: None,
                    spans: Vec::new(),
                    spans_over_limit: 0,
                    finished: false,
                }),
            }),
        }
    }

    /// Whether the transaction is sampled (recorded and sent).
    pub fn is_sampled(&self) -> bool {
        self.inner.decision.sampled
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.inner.trace_id
    }

    /// The transaction's own span id.
    pub fn span_id(&self) -> SpanId {
        self.inner.span_id
    }

    /// The transaction's name.
    pub fn name(&self) -> String {
        self.inner.lock().name.clone()
    }

    /// Renames the transaction; the name's source becomes `custom` (a
    /// name equal to the current one changes nothing, so the source of a
    /// route name stays `route`). Without effect on the trace's sampling
    /// context once it left the process.
    pub fn set_name(&self, name: &str) {
        let mut state = self.inner.lock();
        if state.name != name {
            state.name = name.to_owned();
            state.source = TransactionSource::Custom;
        }
    }

    /// Renames the transaction with where the name comes from (`route`
    /// for a parametrised route, `url` for a raw path).
    pub fn set_name_with_source(&self, name: &str, source: TransactionSource) {
        let mut state = self.inner.lock();
        state.name = name.to_owned();
        state.source = source;
    }

    /// Sets the status (`ok`, `not_found`, ...; see
    /// [`SpanStatus::from_http_status`]).
    pub fn set_status(&self, status: SpanStatus) {
        self.inner.lock().status = Some(status);
    }

    /// The status, if set.
    pub fn get_status(&self) -> Option<SpanStatus> {
        self.inner.lock().status
    }

    /// Sets a data entry of the transaction's trace context.
    pub fn set_data(&self, key: &str, value: Value) {
        self.inner.lock().data.insert(key.to_owned(), value);
    }

    /// Sets a tag of the transaction.
    pub fn set_tag(&self, key: &str, value: impl fmt::Display) {
        self.inner
            .lock()
            .tags
            .insert(key.into(), value.to_smolstr());
    }

    /// Sets the request the transaction handles.
    pub fn set_request(&self, request: Request) {
        self.inner.lock().request = Some(request);
    }

    /// Starts a span timing a part of this transaction's work, as its
    /// direct child.
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        Span::start(&self.inner, self.inner.span_id, op, description)
    }

    /// The `trace` context of events captured while this transaction is
    /// the scope's span.
    pub fn get_trace_context(&self) -> TraceContext {
        let state = self.inner.lock();
        self.inner.trace_context(&state)
    }

    /// The headers that carry this transaction's trace to another
    /// service: `sentry-trace` (with the decision), `baggage` (the trace's
    /// sampling context, frozen from now on) and, with
    /// `propagate_traceparent`, `traceparent`.
    pub fn iter_headers(&self) -> TraceHeaders {
        self.inner.headers(self.inner.span_id)
    }

    /// Ends the transaction and, when it is sampled, sends it with the
    /// spans finished under it and the current scope's data (user, tags,
    /// contexts). Spans still running are not sent. Finishing again does
    /// nothing.
    pub fn finish(self) {
        self.inner.finish();
    }
}

impl TransactionInner {
    fn lock(&self) -> MutexGuard<'_, TransactionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The wall-clock time of `instant`, on the transaction's clock (the
    /// epoch for an unsampled transaction, which records no time).
    pub(crate) fn time_of(&self, instant: Instant) -> SystemTime {
        let Some(clock) = self.clock else {
            return SystemTime::UNIX_EPOCH;
        };
        let since = instant.saturating_duration_since(clock.instant);
        clock.wall.checked_add(since).unwrap_or(clock.wall)
    }

    /// The wall-clock start (the epoch for an unsampled transaction).
    fn time_of_start(&self) -> SystemTime {
        self.clock
            .map_or(SystemTime::UNIX_EPOCH, |clock| clock.wall)
    }

    fn options(&self) -> Option<&ClientOptions> {
        self.client.as_deref().map(Client::options)
    }

    /// The DSC the upstream sent, or the one frozen here.
    pub(crate) fn frozen_dsc(&self) -> Option<&DynamicSamplingContext> {
        self.incoming_dsc
            .as_ref()
            .or_else(|| self.dsc.get())
            .map(|frozen| &*frozen.dsc)
    }

    /// The trace's DSC, frozen by this call: the upstream's as received,
    /// else this transaction's (trace id, public key, the rate and decision
    /// made here, release, environment, the name when its source is not a
    /// raw URL, organisation).
    pub(crate) fn dsc(&self) -> &FrozenDsc {
        if let Some(incoming) = &self.incoming_dsc {
            return incoming;
        }
        self.dsc.get_or_init(|| {
            let head = HeadTrace {
                trace_id: self.trace_id,
                sample_rand: self.sample_rand,
                decision: self
                    .decision
                    .considered
                    .then_some((self.decision.sampled, Some(self.decision.sample_rate))),
            };
            let mut dsc = head_dsc(&head, self.options());
            let state = self.lock();
            if state.source != TransactionSource::Url && !state.name.is_empty() {
                dsc.set("transaction", state.name.clone());
            }
            FrozenDsc::new(dsc)
        })
    }

    /// The propagation headers for the span `span_id` of this transaction.
    pub(crate) fn headers(&self, span_id: SpanId) -> TraceHeaders {
        let sampled = self.decision.considered.then_some(self.decision.sampled);
        TraceHeaders::for_span(
            self.trace_id,
            span_id,
            sampled,
            self.dsc().baggage(),
            self.options(),
        )
    }

    fn trace_context(&self, state: &TransactionState) -> TraceContext {
        TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            op: Some(self.op.clone()),
            description: None,
            status: Some(state.status.unwrap_or(SpanStatus::Ok)),
            origin: Some(self.origin.clone().unwrap_or_else(manual_origin)),
            data: state.data.clone(),
        }
    }

    /// Records a finished child span (or counts it past `max_spans`).
    pub(crate) fn record_span(&self, span: ProtocolSpan) {
        let max = self.options().map_or(0, |o| o.max_spans);
        let mut state = self.lock();
        if state.finished {
            return;
        }
        if state.spans.len() < max {
            if state.spans.capacity() == 0 {
                // Room for a typical transaction's spans at once, rather
                // than growing (and copying) them from 4.
                state.spans.reserve_exact(FIRST_SPANS_CAPACITY.min(max));
            }
            state.spans.push(span);
        } else {
            state.spans_over_limit += 1;
        }
    }

    fn finish(&self) {
        if self.decision.sampled {
            // Frozen now, while the name is still there (the DSC reads it).
            self.dsc();
        }
        let (transaction, over_limit) = {
            let mut state = self.lock();
            if state.finished {
                return;
            }
            state.finished = true;
            if !self.decision.sampled {
                drop(state);
                self.count_sampled_out();
                return;
            }
            let end = self.time_of(Instant::now());
            let start = self.time_of_start();
            let trace = self.trace_context(&state);
            let transaction = ProtocolTransaction {
                name: Some(std::mem::take(&mut state.name)),
                transaction_info: Some(TransactionInfo {
                    source: state.source,
                }),
                request: state.request.take(),
                tags: std::mem::take(&mut state.tags),
                contexts: BTreeMap::from([("trace".to_owned(), Context::from(trace))]),
                start_timestamp: start,
                timestamp: end.max(start),
                spans: std::mem::take(&mut state.spans),
                ..Default::default()
            };
            (transaction, std::mem::take(&mut state.spans_over_limit))
        };
        let Some(client) = &self.client else {
            return;
        };
        if over_limit > 0 {
            client.record_loss(
                vigil_protocol::DiscardReason::BufferOverflow,
                vigil_protocol::DataCategory::Span,
                over_limit,
            );
        }
        let scope = crate::hub::Hub::current().top_scope();
        client.capture_transaction(Box::new(transaction), Some(&scope), self.dsc());
    }

    /// An unsampled transaction ends: it and its spans are counted as
    /// sampled out (when a sampling rule applied).
    fn count_sampled_out(&self) {
        let (Some(client), true) = (&self.client, self.decision.considered) else {
            return;
        };
        let spans = self.children.load(Ordering::Relaxed) + 1;
        client.record_loss(
            vigil_protocol::DiscardReason::SampleRate,
            vigil_protocol::DataCategory::Transaction,
            1,
        );
        client.record_loss(
            vigil_protocol::DiscardReason::SampleRate,
            vigil_protocol::DataCategory::Span,
            spans,
        );
    }
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("trace_id", &self.inner.trace_id)
            .field("span_id", &self.inner.span_id)
            .field("sampled", &self.inner.decision.sampled)
            .field("op", &self.inner.op)
            .finish_non_exhaustive()
    }
}
