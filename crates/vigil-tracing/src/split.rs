//! The combined layer's work split into layers of their own: spans,
//! breadcrumbs, error events and structured logs, each filtered on its own
//! with [`Layer::with_filter`].

use std::fmt;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::engine::Engine;
use crate::filter::EventFilter;

/// A [`Layer`] that makes `tracing` spans Sentry spans (a root span a
/// transaction), as [`VigilLayer`](crate::VigilLayer) does, and captures
/// no event.
///
/// It records every span it sees: limit the spans with a per-layer
/// filter, such as `LevelFilter::INFO` (what `VigilLayer` records by
/// default). A recorded span also keeps its hub and its fields, which
/// [`BreadcrumbLayer`] and [`ErrorLayer`] in the same subscriber use: the
/// events inside it go to that hub and are linked to its Sentry span. An
/// `ERROR` event inside a traced span sets its status to
/// `internal_error`.
///
/// ```
/// use tracing_subscriber::filter::LevelFilter;
/// use tracing_subscriber::prelude::*;
/// use vigil_tracing::{ErrorLayer, SpanLayer};
///
/// let subscriber = tracing_subscriber::registry()
///     .with(SpanLayer::new().with_filter(LevelFilter::INFO))
///     .with(ErrorLayer::new().with_filter(LevelFilter::ERROR));
/// # let _ = subscriber;
/// ```
///
/// One subscriber should record spans once: a `SpanLayer` next to a
/// `VigilLayer` leaves each span to the first of them that records it.
#[must_use]
pub struct SpanLayer {
    engine: Engine,
}

impl SpanLayer {
    /// A layer that records every span it sees (see [`SpanLayer`]).
    pub fn new() -> SpanLayer {
        SpanLayer {
            engine: Engine::spans_only(),
        }
    }

    /// Decides which root spans start a transaction (by default every
    /// one), as [`VigilLayer::transaction_filter`](crate::VigilLayer::transaction_filter)
    /// does.
    pub fn transaction_filter<F>(mut self, filter: F) -> SpanLayer
    where
        F: Fn(&Metadata<'_>) -> bool + Send + Sync + 'static,
    {
        self.engine.transaction_filter = Box::new(filter);
        self
    }
}

impl Default for SpanLayer {
    fn default() -> SpanLayer {
        SpanLayer::new()
    }
}

impl fmt::Debug for SpanLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.engine.on_new_span(attrs, id, &ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.engine.on_close(&id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.engine.on_record(id, values, &ctx);
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        self.engine.on_event(event, ctx, None);
    }
}

/// A [`Layer`] that adds every `tracing` event it sees as a breadcrumb,
/// built as [`VigilLayer`](crate::VigilLayer) builds them; the breadcrumbs
/// are sent with the next Vigil event.
///
/// Limit the events with a per-layer filter. To leave `ERROR` events to an
/// [`ErrorLayer`] (what `VigilLayer` does by default):
///
/// ```
/// use tracing::Level;
/// use tracing_subscriber::filter::{LevelFilter, filter_fn};
/// use tracing_subscriber::prelude::*;
/// use vigil_tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
///
/// let subscriber = tracing_subscriber::registry()
///     .with(SpanLayer::new().with_filter(LevelFilter::INFO))
///     .with(BreadcrumbLayer::new().with_filter(filter_fn(|md| {
///         matches!(*md.level(), Level::WARN | Level::INFO)
///     })))
///     .with(ErrorLayer::new().with_filter(LevelFilter::ERROR));
/// # let _ = subscriber;
/// ```
///
/// An event inside a span a [`SpanLayer`] (or `VigilLayer`) recorded goes
/// to the hub the span was created under. A per-layer filter also hides
/// the spans it refuses from this layer: to see every recorded span, let
/// the filter accept all spans (`md.is_span() || ...`).
#[must_use]
pub struct BreadcrumbLayer {
    engine: Engine,
}

impl BreadcrumbLayer {
    /// A layer that adds every event it sees as a breadcrumb.
    pub fn new() -> BreadcrumbLayer {
        BreadcrumbLayer {
            engine: Engine::events_only(EventFilter::Breadcrumb),
        }
    }

    /// Adds the fields of the recorded spans around an event to its
    /// breadcrumb's `data`, as `"<span name>:<field>"`, as
    /// [`VigilLayer::enable_span_attributes`](crate::VigilLayer::enable_span_attributes)
    /// does. The spans are those a [`SpanLayer`] recorded.
    pub fn enable_span_attributes(mut self) -> BreadcrumbLayer {
        self.engine.span_attributes = true;
        self
    }
}

impl Default for BreadcrumbLayer {
    fn default() -> BreadcrumbLayer {
        BreadcrumbLayer::new()
    }
}

impl fmt::Debug for BreadcrumbLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreadcrumbLayer")
            .field("span_attributes", &self.engine.span_attributes)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for BreadcrumbLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        self.engine.on_event(event, ctx, None);
    }
}

/// A [`Layer`] that captures every `tracing` event it sees as a Vigil
/// event, built as [`VigilLayer`](crate::VigilLayer) builds them.
///
/// Give it a per-layer filter: without one, `DEBUG` and `TRACE` events
/// become Vigil events too. `LevelFilter::ERROR` is what `VigilLayer` does
/// by default:
///
/// ```
/// use tracing_subscriber::filter::LevelFilter;
/// use tracing_subscriber::prelude::*;
/// use vigil_tracing::ErrorLayer;
///
/// let subscriber =
///     tracing_subscriber::registry().with(ErrorLayer::new().with_filter(LevelFilter::ERROR));
/// # let _ = subscriber;
/// ```
///
/// An event inside a span a [`SpanLayer`] (or `VigilLayer`) recorded goes
/// to the hub the span was created under, linked to its Sentry span. A
/// per-layer filter also hides the spans it refuses from this layer: to
/// see every recorded span, let the filter accept all spans
/// (`LevelFilter::ERROR.or(filter_fn(|md| md.is_span()))`).
#[must_use]
pub struct ErrorLayer {
    engine: Engine,
}

impl ErrorLayer {
    /// A layer that captures every event it sees as a Vigil event.
    pub fn new() -> ErrorLayer {
        ErrorLayer {
            engine: Engine::events_only(EventFilter::Event),
        }
    }

    /// Adds the fields of the recorded spans around an event to its
    /// `Rust Tracing Fields` context, as `"<span name>:<field>"`, as
    /// [`VigilLayer::enable_span_attributes`](crate::VigilLayer::enable_span_attributes)
    /// does. The spans are those a [`SpanLayer`] recorded.
    pub fn enable_span_attributes(mut self) -> ErrorLayer {
        self.engine.span_attributes = true;
        self
    }
}

impl Default for ErrorLayer {
    fn default() -> ErrorLayer {
        ErrorLayer::new()
    }
}

impl fmt::Debug for ErrorLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorLayer")
            .field("span_attributes", &self.engine.span_attributes)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for ErrorLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        self.engine.on_event(event, ctx, None);
    }
}

/// A [`Layer`] that sends every `tracing` event it sees as a structured
/// log ([`Log`](vigil_core::protocol::Log), built as
/// [`log_from_event`](crate::log_from_event) builds them) with
/// `Hub::capture_log`, and captures nothing else.
///
/// The logs are sent whether or not the client's `enable_logs` is on:
/// adding the layer asks for them. Give it a per-layer filter: without
/// one, `DEBUG` and `TRACE` events become logs too. `LevelFilter::INFO` is
/// the usual choice:
///
/// ```
/// use tracing_subscriber::filter::LevelFilter;
/// use tracing_subscriber::prelude::*;
/// use vigil_tracing::{LogLayer, SpanLayer};
///
/// let subscriber = tracing_subscriber::registry()
///     .with(SpanLayer::new().with_filter(LevelFilter::INFO))
///     .with(LogLayer::new().with_filter(LevelFilter::INFO));
/// # let _ = subscriber;
/// ```
///
/// A log emitted inside a span a [`SpanLayer`] (or `VigilLayer`) recorded
/// goes to the hub the span was created under and, with tracing on, is
/// linked to its Sentry span (its trace and `span_id`). Otherwise it goes
/// to the current hub, in the trace of its scope. A per-layer filter also
/// hides the spans it refuses from this layer: to see every recorded span,
/// let the filter accept all spans
/// (`LevelFilter::WARN.or(filter_fn(|md| md.is_span()))`).
#[must_use]
pub struct LogLayer {
    engine: Engine,
}

impl LogLayer {
    /// A layer that sends every event it sees as a structured log.
    pub fn new() -> LogLayer {
        LogLayer {
            engine: Engine::events_only(EventFilter::Log),
        }
    }

    /// Adds the fields of the recorded spans around an event to its log's
    /// attributes, as `"<span name>:<field>"`, as
    /// [`VigilLayer::enable_span_attributes`](crate::VigilLayer::enable_span_attributes)
    /// does. The spans are those a [`SpanLayer`] recorded.
    pub fn enable_span_attributes(mut self) -> LogLayer {
        self.engine.span_attributes = true;
        self
    }
}

impl Default for LogLayer {
    fn default() -> LogLayer {
        LogLayer::new()
    }
}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayer")
            .field("span_attributes", &self.engine.span_attributes)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        self.engine.on_event(event, ctx, None);
    }
}
