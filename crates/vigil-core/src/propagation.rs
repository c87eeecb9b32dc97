//! The propagation context: the distributed trace a scope's work belongs
//! to, continued from incoming headers or started here, and the headers
//! that carry it on to the next service.
//!
//! Every scope holds one. A scope pushed or forked with
//! [`Hub::new_from_top`](crate::Hub::new_from_top) shares its parent's (the
//! work belongs to the same trace); the implicit hub of a new thread and
//! every request of the tower layer start their own.

mod incoming;
mod outgoing;
mod targets;

use std::fmt;
use std::sync::{Arc, OnceLock};

use vigil_protocol::{DynamicSamplingContext, SentryTrace, SpanId, TraceContext, TraceId};

use crate::options::ClientOptions;

pub use self::outgoing::TraceHeaders;
pub(crate) use self::outgoing::{HeadTrace, head_dsc};
pub use self::targets::{InvalidTargetPattern, TracePropagationTarget};

/// Which distributed trace the events of a scope belong to: the trace id,
/// this unit of work's span id, the upstream span and sampling decision
/// when the trace was continued, and the dynamic sampling context (DSC)
/// sent with every envelope and in the `baggage` header.
///
/// Without transactions ("tracing without performance") this is all the
/// SDK needs to tie the errors of every service a request passed through
/// into one trace: every event carries `contexts.trace` from it, every
/// envelope the DSC.
///
/// ```
/// use vigil_core::{ClientOptions, PropagationContext};
/// let incoming = [
///     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"),
///     ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rand=0.123456"),
/// ];
/// let ctx = PropagationContext::continue_from_headers(incoming, &ClientOptions::default());
/// assert_eq!(ctx.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
/// assert_eq!(ctx.parent_span_id().unwrap().to_string(), "b0e6f15b45c36b12");
/// assert_eq!(ctx.sampled(), Some(true));
/// assert_eq!(ctx.sample_rand(), 0.123456);
/// ```
pub struct PropagationContext {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    sampled: Option<bool>,
    sample_rand: f64,
    /// Set at once for a trace continued with Sentry baggage (frozen as
    /// received); for a trace that starts here, filled from the client's
    /// options the first time the trace leaves the process, and frozen
    /// from then on.
    dsc: OnceLock<FrozenDsc>,
    /// `dsc` came from upstream.
    dsc_from_upstream: bool,
}

impl PropagationContext {
    /// A new trace, started here: random ids, no parent, the sampling
    /// decision deferred.
    pub fn new() -> PropagationContext {
        let trace_id = TraceId::new();
        PropagationContext {
            trace_id,
            span_id: SpanId::new(),
            parent_span_id: None,
            sampled: None,
            sample_rand: sample_rand_of(trace_id),
            dsc: OnceLock::new(),
            dsc_from_upstream: false,
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id of this unit of work (the parent of what it calls).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The upstream span, when the trace was continued.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The sampling decision received with the trace; `None` while it is
    /// deferred.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// The trace's random value in `[0, 1)` that sampling decisions are
    /// compared against (six decimals).
    pub fn sample_rand(&self) -> f64 {
        self.sample_rand
    }

    /// The `sentry-trace` header value of this context.
    pub fn sentry_trace(&self) -> SentryTrace {
        SentryTrace::new(self.trace_id, self.span_id, self.sampled)
    }

    /// The `trace` context of events captured under this context.
    pub(crate) fn trace_context(&self) -> TraceContext {
        // Every field named: `TraceContext::default()` draws random ids.
        TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            op: None,
            description: None,
            status: None,
            origin: None,
            data: Default::default(),
        }
    }

    /// The DSC the upstream sent, if the trace was continued with one.
    pub(crate) fn incoming_dsc(&self) -> Option<&DynamicSamplingContext> {
        self.dsc
            .get()
            .filter(|_| self.dsc_from_upstream)
            .map(|frozen| &*frozen.dsc)
    }

    /// The DSC, frozen by this call if it was not yet: a trace that starts
    /// here takes the values of `options`.
    pub(crate) fn dsc(&self, options: &ClientOptions) -> &FrozenDsc {
        self.dsc
            .get_or_init(|| FrozenDsc::new(outgoing::context_dsc(self, Some(options))))
    }
}

impl Default for PropagationContext {
    /// [`PropagationContext::new`].
    fn default() -> PropagationContext {
        PropagationContext::new()
    }
}

impl Clone for PropagationContext {
    fn clone(&self) -> PropagationContext {
        PropagationContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            sampled: self.sampled,
            sample_rand: self.sample_rand,
            dsc: self.dsc.clone(),
            dsc_from_upstream: self.dsc_from_upstream,
        }
    }
}

impl fmt::Debug for PropagationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropagationContext")
            .field("trace_id", &self.trace_id)
            .field("span_id", &self.span_id)
            .field("parent_span_id", &self.parent_span_id)
            .field("sampled", &self.sampled)
            .field("sample_rand", &self.sample_rand)
            .field("dsc_frozen", &self.dsc.get().is_some())
            .finish()
    }
}

/// A DSC that no longer changes: shared by reference count with every
/// envelope of the trace (their `trace` header), with its `baggage` text
/// made when first asked for.
#[derive(Clone, Debug)]
pub(crate) struct FrozenDsc {
    pub(crate) dsc: Arc<DynamicSamplingContext>,
    pub(crate) trace_id: Option<TraceId>,
    baggage: OnceLock<String>,
}

impl FrozenDsc {
    pub(crate) fn new(dsc: DynamicSamplingContext) -> FrozenDsc {
        FrozenDsc {
            trace_id: dsc.trace_id(),
            dsc: Arc::new(dsc),
            baggage: OnceLock::new(),
        }
    }

    /// The envelope header `trace`.
    pub(crate) fn header(&self) -> &Arc<DynamicSamplingContext> {
        &self.dsc
    }

    /// The `sentry-` entries of the `baggage` header.
    pub(crate) fn baggage(&self) -> &str {
        self.baggage.get_or_init(|| self.dsc.to_baggage())
    }
}

/// A trace's random value, derived from its id (the spec recommends a
/// value deterministic in the trace id): uniform in `[0, 1)`, six
/// decimals.
fn sample_rand_of(trace_id: TraceId) -> f64 {
    unit_of(trace_id) as f64 / 1_000_000.0
}

/// A number in `0..1_000_000` taken from the random half of the id.
fn unit_of(trace_id: TraceId) -> u64 {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..]);
    u64::from_be_bytes(low) % 1_000_000
}
