//! Vigil and OpenTelemetry continue each other's traces through
//! `SentryPropagator`, and events are linked to the active OpenTelemetry
//! span by `OpenTelemetryIntegration`.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use vigil_core::protocol::{Context, Event, Level};
use vigil_core::{ClientOptions, Hub, PropagationContext};
use vigil_opentelemetry::{OpenTelemetryIntegration, SentryPropagator};

fn trace_of(event: &Event) -> (String, String, Option<String>) {
    match &event.contexts["trace"] {
        Context::Trace(t) => (
            t.trace_id.to_string(),
            t.span_id.to_string(),
            t.parent_span_id.map(|p| p.to_string()),
        ),
        other => panic!("not a trace context: {other:?}"),
    }
}

/// A span context as an OpenTelemetry tracer would make for a new span.
fn otel_span(trace_id: TraceId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(
        trace_id,
        SpanId::from_hex("1111222233334444").unwrap(),
        flags,
        false,
        TraceState::default(),
    )
}

#[test]
fn opentelemetry_continues_a_vigil_trace_and_sends_its_baggage_on() {
    let options = ClientOptions::new().release("shop@2.0.0");
    vigil_core::test::with_captured_events_options(
        || {
            let headers: HashMap<String, String> = Hub::current()
                .iter_trace_propagation_headers()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let vigil_trace = Hub::current().propagation_context();

            let cx = SentryPropagator::new().extract(&headers);
            let remote = cx.span().span_context().clone();
            assert!(remote.is_valid() && remote.is_remote());
            assert_eq!(
                remote.trace_id().to_string(),
                vigil_trace.trace_id().to_string()
            );
            assert_eq!(
                remote.span_id().to_string(),
                vigil_trace.span_id().to_string()
            );

            // A child span in the OpenTelemetry service calls on.
            let child = otel_span(remote.trace_id(), remote.is_sampled());
            let child_cx = cx.with_remote_span_context(child.clone());
            let mut out = HashMap::new();
            SentryPropagator::new().inject_context(&child_cx, &mut out);
            assert_eq!(
                out["sentry-trace"],
                format!(
                    "{}-{}-{}",
                    child.trace_id(),
                    child.span_id(),
                    if child.is_sampled() { "1" } else { "0" }
                )
            );
            // The trace's sampling context goes on as it came.
            assert_eq!(out["baggage"], headers["baggage"]);
        },
        options,
    );
}

#[test]
fn vigil_continues_an_opentelemetry_trace() {
    let options = ClientOptions::new()
        .release("shop@2.0.0")
        .environment("staging");
    let trace_id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
    let events = vigil_core::test::with_captured_events_options(
        || {
            let cx =
                opentelemetry::Context::new().with_remote_span_context(otel_span(trace_id, true));
            let mut headers = HashMap::new();
            SentryPropagator::new().inject_context(&cx, &mut headers);
            let baggage = &headers["baggage"];
            assert!(baggage.contains("sentry-trace_id=0af7651916cd43dd8448eb211c80319c"));
            assert!(baggage.contains("sentry-public_key=public"), "{baggage}");
            assert!(baggage.contains("sentry-release=shop%402.0.0"), "{baggage}");
            assert!(baggage.contains("sentry-environment=staging"));
            assert!(baggage.contains("sentry-sampled=true"));

            // The receiving Vigil service.
            let pairs = headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let continued =
                PropagationContext::continue_from_headers(pairs.clone(), &ClientOptions::new());
            assert_eq!(continued.trace_id().to_string(), trace_id.to_string());
            assert_eq!(continued.sampled(), Some(true));
            Hub::current().continue_trace(pairs);
            vigil_core::capture_message("downstream", Level::Error);
        },
        options,
    );
    let (trace, _, parent) = trace_of(&events[0]);
    assert_eq!(trace, trace_id.to_string());
    assert_eq!(parent.as_deref(), Some("1111222233334444"));
}

#[test]
fn malformed_headers_leave_the_context_alone() {
    let propagator = SentryPropagator::new();
    for bad in [
        "",
        "nonsense",
        "0af7651916cd43dd8448eb211c80319c",
        "xyz-abc-1",
    ] {
        let headers = HashMap::from([("sentry-trace".to_owned(), bad.to_owned())]);
        let cx = propagator.extract(&headers);
        assert!(!cx.span().span_context().is_valid(), "{bad:?}");
    }
    let mut out = HashMap::new();
    propagator.inject_context(&opentelemetry::Context::new(), &mut out);
    assert!(out.is_empty(), "no span, no headers");
    let fields: Vec<_> = propagator.fields().collect();
    assert_eq!(fields, ["sentry-trace", "baggage"]);
}

#[test]
fn events_are_linked_to_the_active_opentelemetry_span() {
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let events = vigil_core::test::with_captured_events_options(
        || {
            {
                let _active = opentelemetry::Context::new()
                    .with_remote_span_context(otel_span(trace_id, true))
                    .attach();
                vigil_core::capture_message("inside the span", Level::Error);
            }
            vigil_core::capture_message("outside", Level::Error);
        },
        ClientOptions::new().integration(OpenTelemetryIntegration::new()),
    );
    let (trace, span, parent) = trace_of(&events[0]);
    assert_eq!(trace, trace_id.to_string());
    assert_eq!(span, "1111222233334444");
    assert_eq!(parent, None);
    let (other, _, _) = trace_of(&events[1]);
    assert_ne!(other, trace_id.to_string(), "the scope's own trace outside");
}

#[test]
fn events_inside_tracing_opentelemetry_spans_are_linked_to_them() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::prelude::*;

    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("vigil-test");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    let mut expected = None;
    let events = vigil_core::test::with_captured_events_options(
        || {
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("checkout");
                let _entered = span.enter();
                let cx = span.context();
                let otel = cx.span().span_context().clone();
                expected = Some((otel.trace_id().to_string(), otel.span_id().to_string()));
                vigil_core::capture_message("card declined", Level::Error);
            });
        },
        ClientOptions::new().integration(OpenTelemetryIntegration::new()),
    );
    let (trace_id, span_id) = expected.unwrap();
    let (trace, span, _) = trace_of(&events[0]);
    assert_eq!((trace, span), (trace_id, span_id));
}
