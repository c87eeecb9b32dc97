//! The headers that carry a trace to the next service, and the DSC of a
//! trace that starts here.

use std::fmt;

use vigil_protocol::{DynamicSamplingContext, SentryTrace, SpanId, TraceId};

use crate::options::ClientOptions;
use crate::propagation::PropagationContext;
use crate::propagation::incoming::own_org_id;

/// The DSC of a trace that starts here (or that an older SDK upstream
/// sent without Sentry baggage), from the client's options: trace id,
/// public key, sample rand, the decision when one was made upstream,
/// release, environment and organisation. Without options (the SDK is
/// disabled) only what the context knows itself.
pub(super) fn head_dsc(
    ctx: &PropagationContext,
    options: Option<&ClientOptions>,
) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    dsc.set("trace_id", ctx.trace_id.to_string());
    if let Some(options) = options {
        if let Some(dsn) = &options.dsn {
            dsc.set("public_key", dsn.public_key().to_owned());
        }
    }
    dsc.set(
        "sample_rand",
        DynamicSamplingContext::format_sample_rand(ctx.sample_rand),
    );
    if let Some(sampled) = ctx.sampled {
        dsc.set("sampled", sampled.to_string());
    }
    if let Some(options) = options {
        if let Some(release) = &options.release {
            dsc.set("release", release.to_string());
        }
        dsc.set(
            "environment",
            options
                .environment
                .as_deref()
                .unwrap_or("production")
                .to_owned(),
        );
        if let Some(org) = own_org_id(options) {
            dsc.set("org_id", org.to_string());
        }
    }
    dsc
}

/// The propagation headers of a scope, as `(name, value)` pairs:
/// `sentry-trace`, then `baggage` (the trace's DSC), then `traceparent`
/// when [`ClientOptions::propagate_traceparent`] is on. Returned by
/// [`Scope::iter_trace_propagation_headers`](crate::Scope::iter_trace_propagation_headers).
pub struct TraceHeaders {
    headers: std::array::IntoIter<Option<(&'static str, String)>, 3>,
}

impl TraceHeaders {
    /// The headers of `ctx`. Once they are made, the DSC of a trace that
    /// started here is frozen (when a client's options are given).
    pub(crate) fn of(ctx: &PropagationContext, options: Option<&ClientOptions>) -> TraceHeaders {
        let sentry_trace = ctx.sentry_trace();
        let baggage = match options {
            Some(options) => ctx.dsc(options).dsc.to_baggage(),
            None => match ctx.dsc.get() {
                Some(frozen) => frozen.dsc.to_baggage(),
                None => head_dsc(ctx, None).to_baggage(),
            },
        };
        let traceparent = options
            .filter(|o| o.propagate_traceparent)
            .map(|_| ("traceparent", sentry_trace.to_traceparent()));
        TraceHeaders {
            headers: [
                Some(("sentry-trace", sentry_trace.to_string())),
                (!baggage.is_empty()).then_some(("baggage", baggage)),
                traceparent,
            ]
            .into_iter(),
        }
    }
}

impl TraceHeaders {
    /// The headers of the span `span_id` of a trace, with its decision and
    /// (frozen) DSC.
    pub(crate) fn for_span(
        trace_id: TraceId,
        span_id: SpanId,
        sampled: Option<bool>,
        dsc: &DynamicSamplingContext,
        options: Option<&ClientOptions>,
    ) -> TraceHeaders {
        let sentry_trace = SentryTrace::new(trace_id, span_id, sampled);
        let baggage = dsc.to_baggage();
        let traceparent = options
            .filter(|o| o.propagate_traceparent)
            .map(|_| ("traceparent", sentry_trace.to_traceparent()));
        TraceHeaders {
            headers: [
                Some(("sentry-trace", sentry_trace.to_string())),
                (!baggage.is_empty()).then_some(("baggage", baggage)),
                traceparent,
            ]
            .into_iter(),
        }
    }
}

impl Iterator for TraceHeaders {
    type Item = (&'static str, String);

    fn next(&mut self) -> Option<(&'static str, String)> {
        self.headers.by_ref().flatten().next()
    }
}

impl fmt::Debug for TraceHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceHeaders").finish_non_exhaustive()
    }
}
