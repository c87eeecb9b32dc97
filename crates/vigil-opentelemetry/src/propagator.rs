//! `sentry-trace` and `baggage` as an OpenTelemetry propagator.

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use vigil_core::Hub;
use vigil_core::protocol::SentryTrace;

const SENTRY_TRACE: &str = "sentry-trace";
const BAGGAGE: &str = "baggage";

/// What must be escaped in a baggage value (W3C baggage: anything but
/// letters, digits and `-_.~`, to stay on the safe side).
const BAGGAGE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The `sentry-` entries of an incoming `baggage` (the trace's dynamic
/// sampling context, frozen by whoever started the trace), kept in the
/// OpenTelemetry context so that they go on unchanged.
#[derive(Clone, Debug)]
struct SentryBaggage {
    trace_id: TraceId,
    entries: String,
}

/// Reads and writes Sentry's trace headers (see the [crate docs](crate)).
///
/// Extracting: a valid `sentry-trace` becomes the remote parent span
/// context (sampled when its flag says `1`); the `sentry-` entries of
/// `baggage` are kept with it. A missing or malformed header leaves the
/// context as it was.
///
/// Injecting: the current span's `sentry-trace`, and a `baggage` with the
/// kept `sentry-` entries when the trace came in that way, else entries
/// made here: `sentry-trace_id`, `sentry-sampled`, and the public key,
/// release and environment of the current hub's client.
#[derive(Clone, Debug)]
pub struct SentryPropagator {
    fields: [String; 2],
}

impl Default for SentryPropagator {
    fn default() -> SentryPropagator {
        SentryPropagator::new()
    }
}

impl SentryPropagator {
    /// The propagator.
    pub fn new() -> SentryPropagator {
        SentryPropagator {
            fields: [SENTRY_TRACE.to_owned(), BAGGAGE.to_owned()],
        }
    }
}

/// The `sentry-` entries of a `baggage` header, as they came.
fn sentry_entries(baggage: &str) -> String {
    baggage
        .split(',')
        .map(str::trim)
        .filter(|entry| entry.starts_with("sentry-"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Baggage entries for a trace that starts here.
fn own_entries(context: &SpanContext) -> String {
    let mut entries = vec![
        format!("sentry-trace_id={}", context.trace_id()),
        format!("sentry-sampled={}", context.is_sampled()),
    ];
    if let Some(client) = Hub::current().client() {
        let options = client.options();
        let mut add = |key: &str, value: &str| {
            entries.push(format!(
                "sentry-{key}={}",
                utf8_percent_encode(value, BAGGAGE_VALUE)
            ));
        };
        if let Some(dsn) = client.dsn() {
            add("public_key", dsn.public_key());
        }
        if let Some(release) = &options.release {
            add("release", release);
        }
        add(
            "environment",
            options.environment.as_deref().unwrap_or("production"),
        );
    }
    entries.join(",")
}

impl TextMapPropagator for SentryPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        injector.set(
            SENTRY_TRACE,
            format!(
                "{}-{}-{}",
                context.trace_id(),
                context.span_id(),
                if context.is_sampled() { "1" } else { "0" }
            ),
        );
        let entries = match cx.get::<SentryBaggage>() {
            Some(kept) if kept.trace_id == context.trace_id() && !kept.entries.is_empty() => {
                kept.entries.clone()
            }
            _ => own_entries(context),
        };
        injector.set(BAGGAGE, entries);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(header) = extractor.get(SENTRY_TRACE) else {
            return cx.clone();
        };
        let Ok(parsed) = SentryTrace::parse(header) else {
            return cx.clone();
        };
        let (Ok(trace_id), Ok(span_id)) = (
            TraceId::from_hex(&parsed.trace_id.to_string()),
            SpanId::from_hex(&parsed.span_id.to_string()),
        ) else {
            return cx.clone();
        };
        let flags = if parsed.sampled == Some(true) {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let remote = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
        let entries = extractor
            .get(BAGGAGE)
            .map(sentry_entries)
            .unwrap_or_default();
        cx.with_remote_span_context(remote)
            .with_value(SentryBaggage { trace_id, entries })
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sentry_entries_are_kept() {
        assert_eq!(
            sentry_entries("other=1, sentry-trace_id=abc,sentry-release=a%40b ,x=y"),
            "sentry-trace_id=abc,sentry-release=a%40b"
        );
        assert_eq!(sentry_entries(""), "");
    }
}
