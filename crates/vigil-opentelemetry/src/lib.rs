//! Vigil next to [OpenTelemetry](https://docs.rs/opentelemetry) (0.33): for
//! services that already trace with `opentelemetry` or
//! `tracing-opentelemetry` and export their spans with OTLP (which Sentry
//! ingests), while Vigil reports their errors.
//!
//! - [`OpenTelemetryIntegration`] links every Vigil event to the active
//!   OpenTelemetry span: the event's `trace` context takes the trace id and
//!   span id of the span in [`opentelemetry::Context::current`], so Sentry
//!   shows the error inside that trace.
//! - [`SentryPropagator`] is a [`TextMapPropagator`](opentelemetry::propagation::TextMapPropagator)
//!   that reads and writes `sentry-trace` and `baggage`: an OpenTelemetry
//!   service continues a trace a Sentry SDK started, and the other way
//!   round. Combine it with the W3C propagators in a
//!   `TextMapCompositePropagator` to speak both; put it after the W3C
//!   baggage propagator, since both write `baggage`.
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use std::collections::HashMap;
//! use vigil_opentelemetry::SentryPropagator;
//!
//! // An incoming request from a Sentry SDK.
//! let mut headers = HashMap::new();
//! headers.insert(
//!     "sentry-trace".to_owned(),
//!     "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1".to_owned(),
//! );
//! let cx = SentryPropagator::new().extract(&headers);
//! let span = cx.span();
//! let remote = span.span_context();
//! assert_eq!(remote.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
//! assert!(remote.is_sampled() && remote.is_remote());
//! ```
//!
//! With `tracing-opentelemetry` (0.34), entering a `tracing` span makes its
//! OpenTelemetry context current (its context activation, on by default),
//! so events captured inside are linked with nothing more to do. Code that
//! runs outside an entered span can attach a span's context itself
//! (`let _guard = span.context().attach();` with
//! `tracing_opentelemetry::OpenTelemetrySpanExt`).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod integration;
mod propagator;

pub use crate::integration::OpenTelemetryIntegration;
pub use crate::propagator::SentryPropagator;
