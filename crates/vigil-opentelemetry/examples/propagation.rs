//! A Vigil service and an OpenTelemetry service continuing each other's
//! trace through `SentryPropagator`, and an error linked to the active
//! OpenTelemetry span by `OpenTelemetryIntegration`.
//!
//! Needs no DSN: events are captured by the test transport of
//! `vigil_core::test`. Run with
//! `cargo run -p vigil-opentelemetry --example propagation`.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use vigil_core::protocol::Level;
use vigil_core::{ClientOptions, Hub};
use vigil_opentelemetry::{OpenTelemetryIntegration, SentryPropagator};

fn main() {
    let options = ClientOptions::new()
        .release("shop@1.0.0")
        .integration(OpenTelemetryIntegration::new());
    let events = vigil_core::test::with_captured_events_options(
        || {
            // Vigil calls the OpenTelemetry service with its headers.
            let headers: HashMap<String, String> = Hub::current()
                .iter_trace_propagation_headers()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
            println!("Vigil sends: {headers:#?}");

            // The OpenTelemetry service continues the trace...
            let cx = SentryPropagator::new().extract(&headers);
            println!(
                "OpenTelemetry continues trace {} under span {}",
                cx.span().span_context().trace_id(),
                cx.span().span_context().span_id()
            );
            // ...and an error reported with Vigil inside it joins it.
            let _active = cx.attach();
            vigil_core::capture_message("payment declined", Level::Error);
        },
        options,
    );
    for event in &events {
        println!(
            "event {} in trace {:?}",
            event.event_id,
            serde_json::to_value(&event.contexts["trace"]).expect("serializes")["trace_id"]
        );
    }
}
