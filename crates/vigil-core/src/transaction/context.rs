//! What a transaction starts from: its name and operation, the trace it
//! belongs to, and the sampling decision it may inherit.

use serde_json::Value;
use vigil_protocol::Map;
use vigil_protocol::{DynamicSamplingContext, SmolStr, SpanId, TraceId, TransactionSource};

use crate::options::ClientOptions;
use crate::propagation::PropagationContext;
use crate::transaction::either::TransactionOrSpan;

/// The start of a transaction: name, operation, the trace it joins (a new
/// one, one continued from incoming headers, or the one of a running
/// span) and, when there is one, the decision it inherits. Passed to
/// [`start_transaction`](crate::start_transaction) and to the
/// `traces_sampler`.
///
/// ```
/// use vigil_core::TransactionContext;
/// let ctx = TransactionContext::new("GET /users/{id}", "http.server");
/// assert_eq!(ctx.name(), "GET /users/{id}");
/// assert_eq!(ctx.operation(), "http.server");
/// assert_eq!(ctx.parent_sampled(), None);
/// ```
#[derive(Clone, Debug)]
pub struct TransactionContext {
    pub(crate) name: String,
    pub(crate) op: SmolStr,
    pub(crate) source: TransactionSource,
    pub(crate) origin: Option<SmolStr>,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    /// Decided by the caller ([`TransactionContext::set_sampled`]).
    pub(crate) sampled: Option<bool>,
    /// Decided upstream (an incoming header or the parent span).
    pub(crate) parent_sampled: Option<bool>,
    pub(crate) sample_rand: f64,
    /// The upstream's DSC, frozen as received; `None` when the trace starts
    /// here (or an upstream sent none).
    pub(crate) incoming_dsc: Option<DynamicSamplingContext>,
    pub(crate) custom: Map<String, Value>,
}

impl TransactionContext {
    /// A transaction starting a new trace. The name's source is `custom`
    /// (a name chosen in code).
    pub fn new(name: &str, op: &str) -> TransactionContext {
        TransactionContext::from_propagation(name, op, &PropagationContext::new())
    }

    /// A transaction continuing the trace that incoming `headers`
    /// describe (`sentry-trace` and `baggage`, or `traceparent`), as a
    /// child of the upstream span; a new trace when they describe none or
    /// a malformed one (see
    /// [`PropagationContext::continue_from_headers`]). The organisation
    /// check uses the current hub's client options.
    ///
    /// ```
    /// use vigil_core::TransactionContext;
    /// let headers = [("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1")];
    /// let ctx = TransactionContext::continue_from_headers("GET /", "http.server", headers);
    /// assert_eq!(ctx.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
    /// assert_eq!(ctx.parent_sampled(), Some(true));
    /// ```
    pub fn continue_from_headers<'a, I>(name: &str, op: &str, headers: I) -> TransactionContext
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let client = crate::hub::Hub::current().client();
        let default_options;
        let options = match &client {
            Some(client) => client.options(),
            None => {
                default_options = ClientOptions::default();
                &default_options
            }
        };
        let propagation = PropagationContext::continue_from_headers(headers, options);
        TransactionContext::from_propagation(name, op, &propagation)
    }

    /// A transaction in the trace of `propagation` (continued or started
    /// here): it takes the trace id, the upstream span as its parent, the
    /// upstream decision and DSC.
    pub fn continue_from_propagation_context(
        name: &str,
        op: &str,
        propagation: &PropagationContext,
    ) -> TransactionContext {
        TransactionContext::from_propagation(name, op, propagation)
    }

    /// A transaction as a child of a running transaction or span (in its
    /// trace, inheriting its decision), or a new trace for `None`.
    pub fn continue_from_span(
        name: &str,
        op: &str,
        span: Option<TransactionOrSpan>,
    ) -> TransactionContext {
        let Some(span) = span else {
            return TransactionContext::new(name, op);
        };
        let transaction = span.transaction_inner();
        TransactionContext {
            name: name.to_owned(),
            op: SmolStr::new(op),
            source: TransactionSource::Custom,
            origin: None,
            trace_id: transaction.trace_id,
            span_id: SpanId::new(),
            parent_span_id: Some(span.span_id()),
            sampled: None,
            parent_sampled: Some(span.is_sampled()),
            sample_rand: transaction.sample_rand,
            incoming_dsc: transaction.frozen_dsc().cloned(),
            custom: Map::new(),
        }
    }

    fn from_propagation(
        name: &str,
        op: &str,
        propagation: &PropagationContext,
    ) -> TransactionContext {
        TransactionContext {
            name: name.to_owned(),
            op: SmolStr::new(op),
            source: TransactionSource::Custom,
            origin: None,
            trace_id: propagation.trace_id(),
            span_id: SpanId::new(),
            parent_span_id: propagation.parent_span_id(),
            sampled: None,
            parent_sampled: propagation.sampled(),
            sample_rand: propagation.sample_rand(),
            incoming_dsc: propagation.incoming_dsc().cloned(),
            custom: Map::new(),
        }
    }

    /// The transaction's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operation, e.g. `http.server`.
    pub fn operation(&self) -> &str {
        &self.op
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id the transaction will have.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The upstream span, when the trace was continued.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The decision made upstream, if any (what `traces_sampler` may
    /// follow; without a sampler it is followed).
    pub fn parent_sampled(&self) -> Option<bool> {
        self.parent_sampled
    }

    /// The decision set in code, if any.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// Decides sampling in code: it wins over `traces_sampler`, the
    /// upstream decision and `traces_sample_rate`.
    pub fn set_sampled(&mut self, sampled: impl Into<Option<bool>>) {
        self.sampled = sampled.into();
    }

    /// Where the name comes from (`custom` unless an integration says
    /// otherwise: `route` for a parametrised route, `url` for a raw path).
    pub fn source(&self) -> TransactionSource {
        self.source
    }

    /// Sets [`source`](TransactionContext::source).
    pub fn set_source(&mut self, source: TransactionSource) {
        self.source = source;
    }

    /// Sets the origin (`auto.http.axum`, ...; `manual` when unset).
    pub fn set_origin(&mut self, origin: &str) {
        self.origin = Some(SmolStr::new(origin));
    }

    /// Data for the `traces_sampler` (not sent).
    pub fn custom(&self) -> &Map<String, Value> {
        &self.custom
    }

    /// Sets [`custom`](TransactionContext::custom) data.
    pub fn set_custom(&mut self, key: &str, value: Value) {
        self.custom.insert(key.to_owned(), value);
    }
}
