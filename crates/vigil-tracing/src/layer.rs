//! The combined layer.

use std::fmt;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use vigil_core::protocol::{Breadcrumb, Event};

use crate::engine::{CustomMapper, Engine};
use crate::filter::EventFilter;
use crate::mapping::EventMapping;

/// A [`Layer`] that turns `tracing` events into Vigil events,
/// breadcrumbs and structured logs, and records spans so that events inside them carry the
/// spans' fields and go to the hub the span was created under.
///
/// `S` is the subscriber the layer is added to (usually inferred). See
/// the [crate docs](crate) for what is captured. The same work split in
/// parts is done by [`SpanLayer`](crate::SpanLayer),
/// [`BreadcrumbLayer`](crate::BreadcrumbLayer),
/// [`ErrorLayer`](crate::ErrorLayer) and [`LogLayer`](crate::LogLayer).
///
/// The layer never disables anything: it does not implement `enabled`,
/// `register_callsite` or `max_level_hint`, so other layers (such as a
/// formatter) see every event they would see without it. To spare the
/// layer the events it would ignore, give it a per-layer filter with
/// [`Layer::with_filter`].
pub struct VigilLayer<S> {
    engine: Engine,
    mapper: Option<Box<CustomMapper<S>>>,
}

/// The name of [`VigilLayer`] in the Sentry SDK's `tracing` integration,
/// for code migrating from it: `SentryLayer<S>` is `VigilLayer<S>`.
pub type SentryLayer<S> = VigilLayer<S>;

impl<S> fmt::Debug for VigilLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VigilLayer")
            .field("event_mapper", &self.mapper.is_some())
            .field("map_event", &self.engine.event_map.is_some())
            .field("breadcrumb_mapper", &self.engine.breadcrumb_map.is_some())
            .field("span_attributes", &self.engine.span_attributes)
            .finish_non_exhaustive()
    }
}

impl<S> Default for VigilLayer<S> {
    fn default() -> Self {
        VigilLayer::new()
    }
}

/// A layer with the default filters: the same as [`VigilLayer::new`].
pub fn layer<S>() -> VigilLayer<S> {
    VigilLayer::new()
}

impl<S> VigilLayer<S> {
    /// A layer with the [default event filter](crate::default_event_filter)
    /// and the [default span filter](crate::default_span_filter).
    pub fn new() -> VigilLayer<S> {
        VigilLayer {
            engine: Engine::combined(),
            mapper: None,
        }
    }

    /// Replaces the filter that decides what each `tracing` event becomes.
    /// A filter that panics ignores the event (reported once on stderr).
    /// An [`event_mapper`](Self::event_mapper) replaces the filter.
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::{EventFilter, VigilLayer};
    ///
    /// // Warnings become events too; errors also leave a breadcrumb.
    /// let layer = VigilLayer::<Registry>::new().event_filter(|md| match *md.level() {
    ///     tracing::Level::ERROR => EventFilter::Event | EventFilter::Breadcrumb,
    ///     tracing::Level::WARN => EventFilter::Event,
    ///     tracing::Level::INFO => EventFilter::Breadcrumb,
    ///     _ => EventFilter::Ignore,
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn event_filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&Metadata<'_>) -> EventFilter + Send + Sync + 'static,
    {
        self.engine.event_filter = Box::new(filter);
        self
    }

    /// Replaces the filter that decides which spans are recorded. Only
    /// recorded spans have their fields attached to events, and only they
    /// remember the hub they were created under and become Sentry spans.
    /// A filter that panics skips the span.
    #[must_use]
    pub fn span_filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&Metadata<'_>) -> bool + Send + Sync + 'static,
    {
        self.engine.span_filter = Box::new(filter);
        self
    }

    /// Decides which root spans start a transaction (by default every
    /// recorded one). A root span is one without a recorded parent span
    /// under the same hub, created while the hub has no current span. A
    /// root span the filter refuses gets no Sentry span, nor do its
    /// children; events inside it are still captured. A filter that
    /// panics starts no transaction.
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::VigilLayer;
    ///
    /// // Only spans of this crate's jobs become transactions.
    /// let layer = VigilLayer::<Registry>::new()
    ///     .transaction_filter(|md| md.target().starts_with("my_app::jobs"));
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn transaction_filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&Metadata<'_>) -> bool + Send + Sync + 'static,
    {
        self.engine.transaction_filter = Box::new(filter);
        self
    }

    /// Replaces the event filter with `mapper`, which decides for each
    /// event what is captured and builds it: nothing, a breadcrumb, an
    /// event, a structured log, or several of these in order
    /// ([`EventMapping`]). It gets the layer's [`Context`], to pass to
    /// [`event_from_event`](crate::event_from_event),
    /// [`breadcrumb_from_event`](crate::breadcrumb_from_event) and
    /// [`log_from_event`](crate::log_from_event), which build what the
    /// layer builds by default. What it returns is captured
    /// as it is: [`map_event`](Self::map_event) and
    /// [`breadcrumb_mapper`](Self::breadcrumb_mapper) do not apply to it.
    ///
    /// The mapper sees every event but the SDK's own, `DEBUG` and `TRACE`
    /// ones too. Events and logs are captured into the hub of the
    /// innermost recorded span, linked to its Sentry span. A mapper that panics
    /// captures nothing.
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::{EventMapping, VigilLayer, breadcrumb_from_event, event_from_event};
    ///
    /// let layer = VigilLayer::<Registry>::new().event_mapper(|event, ctx| {
    ///     match *event.metadata().level() {
    ///         tracing::Level::ERROR => EventMapping::Combined(
    ///             vec![
    ///                 EventMapping::Breadcrumb(breadcrumb_from_event(event, Some(&ctx))),
    ///                 EventMapping::Event(event_from_event(event, Some(&ctx)).into()),
    ///             ]
    ///             .into(),
    ///         ),
    ///         _ => EventMapping::Ignore,
    ///     }
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn event_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&TracingEvent<'_>, Context<'_, S>) -> EventMapping + Send + Sync + 'static,
    {
        self.mapper = Some(Box::new(mapper));
        self
    }

    /// Changes the Vigil events the layer builds: `mapper` gets the
    /// `tracing` event and the default Vigil event (see the crate docs)
    /// and returns the event to capture, or `None` to capture nothing. A
    /// mapper that panics captures nothing.
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::VigilLayer;
    ///
    /// let layer = VigilLayer::<Registry>::new().map_event(|event, mut vigil_event| {
    ///     vigil_event.tags.insert("target".into(), event.metadata().target().into());
    ///     Some(vigil_event)
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn map_event<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&TracingEvent<'_>, Event) -> Option<Event> + Send + Sync + 'static,
    {
        self.engine.event_map = Some(Box::new(mapper));
        self
    }

    /// Changes the breadcrumbs the layer builds: `mapper` gets the
    /// `tracing` event and the default breadcrumb and returns the
    /// breadcrumb to record, or `None`. It runs before the client's
    /// `before_breadcrumb`. A mapper that panics records nothing.
    #[must_use]
    pub fn breadcrumb_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&TracingEvent<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    {
        self.engine.breadcrumb_map = Some(Box::new(mapper));
        self
    }

    /// Adds the fields of the recorded spans around an event to its
    /// breadcrumb's `data`, to its Vigil event's `Rust Tracing Fields`
    /// context and to its log's attributes, as `"<span name>:<field>"` (the innermost span's value
    /// wins when two spans share a name). Spans are recorded whether or
    /// not their trace is sampled, so this needs no tracing.
    #[must_use]
    pub fn enable_span_attributes(mut self) -> Self {
        self.engine.span_attributes = true;
        self
    }
}

impl<S> Layer<S> for VigilLayer<S>
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
        self.engine.on_event(event, ctx, self.mapper.as_deref());
    }
}
