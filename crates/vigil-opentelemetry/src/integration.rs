//! Linking events to the active OpenTelemetry span.

use opentelemetry::trace::TraceContextExt;
use vigil_core::protocol::{Context, Event, SpanId, TraceContext, TraceId};
use vigil_core::{ClientOptions, Integration};

/// Links every event to the active OpenTelemetry span (see the
/// [crate docs](crate)). Events captured where no valid span is active
/// keep the trace of their scope.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenTelemetryIntegration;

impl OpenTelemetryIntegration {
    /// The integration.
    pub fn new() -> OpenTelemetryIntegration {
        OpenTelemetryIntegration
    }
}

/// The active span's trace id and span id, in Vigil's types.
pub(crate) fn active_ids() -> Option<(TraceId, SpanId)> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let context = span.span_context();
    if !context.is_valid() {
        return None;
    }
    let trace_id = context.trace_id().to_string().parse().ok()?;
    let span_id = context.span_id().to_string().parse().ok()?;
    Some((trace_id, span_id))
}

impl Integration for OpenTelemetryIntegration {
    fn name(&self) -> &'static str {
        "opentelemetry"
    }

    fn process_event(&self, mut event: Event, _options: &ClientOptions) -> Option<Event> {
        let Some((trace_id, span_id)) = active_ids() else {
            return Some(event);
        };
        let mut trace = match event.contexts.remove("trace") {
            Some(Context::Trace(trace)) => *trace,
            _ => TraceContext::default(),
        };
        // The span is the OpenTelemetry one: the scope's own parent and op
        // belong to another span.
        trace.trace_id = trace_id;
        trace.span_id = span_id;
        trace.parent_span_id = None;
        trace.op = None;
        event
            .contexts
            .insert("trace".to_owned(), Context::from(trace));
        Some(event)
    }
}
