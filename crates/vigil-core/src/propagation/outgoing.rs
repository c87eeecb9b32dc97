//! The headers that carry a trace to the next service, and the DSC of a
//! trace that starts here.

use std::fmt;

use vigil_protocol::{DynamicSamplingContext, SentryTrace, SpanId, TraceId};

use crate::options::ClientOptions;
use crate::propagation::PropagationContext;
use crate::propagation::incoming::own_org_id;

/// What the DSC of a trace that starts here holds, besides its name.
pub(crate) struct HeadTrace {
    pub(crate) trace_id: TraceId,
    pub(crate) sample_rand: f64,
    /// The decision and the rate that made it, when there is one (a rate
    /// of `None`: decided upstream at an unknown rate).
    pub(crate) decision: Option<(bool, Option<f64>)>,
}

/// The DSC of a trace that starts here (or that an older SDK upstream
/// sent without Sentry baggage), from the client's options: trace id,
/// public key, sample rate and decision when known, sample rand, release,
/// environment and organisation. Without options (the SDK is disabled)
/// only what the trace knows itself.
pub(crate) fn head_dsc(
    head: &HeadTrace,
    options: Option<&ClientOptions>,
) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    dsc.set("trace_id", head.trace_id.to_string());
    if let Some(dsn) = options.and_then(|o| o.dsn.as_ref()) {
        dsc.set("public_key", dsn.public_key().to_owned());
    }
    if let Some((sampled, rate)) = head.decision {
        if let Some(rate) = rate {
            dsc.set(
                "sample_rate",
                DynamicSamplingContext::format_sample_rate(rate),
            );
        }
        dsc.set("sampled", sampled.to_string());
    }
    dsc.set(
        "sample_rand",
        DynamicSamplingContext::format_sample_rand(head.sample_rand),
    );
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

/// [`head_dsc`] of a propagation context.
pub(super) fn context_dsc(
    ctx: &PropagationContext,
    options: Option<&ClientOptions>,
) -> DynamicSamplingContext {
    let head = HeadTrace {
        trace_id: ctx.trace_id,
        sample_rand: ctx.sample_rand,
        decision: ctx.sampled.map(|sampled| (sampled, None)),
    };
    head_dsc(&head, options)
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
        let unfrozen;
        let baggage = match options {
            Some(options) => ctx.dsc(options).baggage(),
            None => match ctx.dsc.get() {
                Some(frozen) => frozen.baggage(),
                None => {
                    unfrozen = context_dsc(ctx, None).to_baggage();
                    &unfrozen
                }
            },
        };
        TraceHeaders::for_span(ctx.trace_id, ctx.span_id, ctx.sampled, baggage, options)
    }

    /// The headers of the span `span_id` of a trace, with its decision and
    /// the `baggage` text of its (frozen) DSC.
    pub(crate) fn for_span(
        trace_id: TraceId,
        span_id: SpanId,
        sampled: Option<bool>,
        baggage: &str,
        options: Option<&ClientOptions>,
    ) -> TraceHeaders {
        let sentry_trace = SentryTrace::new(trace_id, span_id, sampled);
        let baggage = baggage.to_owned();
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
