//! The layer.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use vigil_core::protocol::{
    Breadcrumb, Context as EventContext, Event, EventId, Level, Map, SpanStatus, Value,
};
use vigil_core::{Hub, TransactionOrSpan};

use crate::spans;
use crate::visit::{FieldValues, Fields};
use vigil_core::{
    ReentrancyGuard as Reentrancy, call_guarded, is_sdk_target, is_sdk_thread as on_sdk_thread,
};

/// The context of error events that lists their enclosing spans.
pub(crate) const SPANS_CONTEXT: &str = "tracing_spans";
/// The context of events that holds the source location.
pub(crate) const LOCATION_CONTEXT: &str = "tracing";

/// What [`VigilLayer`] does with a `tracing` event, as decided by its
/// event filter.
///
/// The enum may gain variants (for instance for Sentry's structured logs),
/// so a filter should build values rather than match exhaustively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventFilter {
    /// Nothing is captured.
    Ignore,
    /// The event is added to the hub's scope as a breadcrumb, shown with
    /// the next Vigil event.
    Breadcrumb,
    /// The event is captured as a Vigil event.
    Event,
    /// The event is captured as a Vigil event, and then also added as a
    /// breadcrumb that refers to it (`event_id`), so that events captured
    /// later show it in their trail.
    EventAndBreadcrumb,
}

impl EventFilter {
    fn event(self) -> bool {
        matches!(self, EventFilter::Event | EventFilter::EventAndBreadcrumb)
    }

    fn breadcrumb(self) -> bool {
        matches!(
            self,
            EventFilter::Breadcrumb | EventFilter::EventAndBreadcrumb
        )
    }
}

/// The default event filter: `ERROR` events become Vigil events, `WARN`
/// and `INFO` events breadcrumbs, `DEBUG` and `TRACE` events are ignored.
///
/// Useful as the fallback of a custom filter:
///
/// ```
/// use tracing_subscriber::Registry;
/// use vigil_tracing::{EventFilter, VigilLayer, default_event_filter};
///
/// let layer = VigilLayer::<Registry>::new().event_filter(|md| match md.target() {
///     "noisy_dependency" => EventFilter::Ignore,
///     _ => default_event_filter(md),
/// });
/// # let _ = layer;
/// ```
pub fn default_event_filter(metadata: &Metadata<'_>) -> EventFilter {
    match *metadata.level() {
        tracing_core::Level::ERROR => EventFilter::Event,
        tracing_core::Level::WARN | tracing_core::Level::INFO => EventFilter::Breadcrumb,
        _ => EventFilter::Ignore,
    }
}

/// The default span filter: spans at `ERROR`, `WARN` and `INFO` are
/// recorded, `DEBUG` and `TRACE` spans are not.
pub fn default_span_filter(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= tracing_core::Level::INFO
}

fn level(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warning,
        tracing_core::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

/// What the layer keeps in a recorded span's extensions.
pub(crate) struct SpanData {
    /// The hub current when the span was created.
    pub(crate) hub: Arc<Hub>,
    fields: FieldValues,
    /// Its Sentry span (with tracing on), finished when the span closes.
    pub(crate) sentry: Option<TransactionOrSpan>,
}

type EventFilterFn = Box<dyn Fn(&Metadata<'_>) -> EventFilter + Send + Sync>;
type SpanFilterFn = Box<dyn Fn(&Metadata<'_>) -> bool + Send + Sync>;
type EventMapper = Box<dyn Fn(&TracingEvent<'_>, Event) -> Option<Event> + Send + Sync>;
type BreadcrumbMapper =
    Box<dyn Fn(&TracingEvent<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync>;

/// A [`Layer`] that turns `tracing` events into Vigil events and
/// breadcrumbs, and records spans so that events inside them carry the
/// spans' fields and go to the hub the span was created under.
///
/// `S` is the subscriber the layer is added to (usually inferred). See
/// the [crate docs](crate) for what is captured.
///
/// The layer never disables anything: it does not implement `enabled`,
/// `register_callsite` or `max_level_hint`, so other layers (such as a
/// formatter) see every event they would see without it. To spare the
/// layer the events it would ignore, give it a per-layer filter with
/// [`Layer::with_filter`].
pub struct VigilLayer<S> {
    event_filter: EventFilterFn,
    span_filter: SpanFilterFn,
    transaction_filter: SpanFilterFn,
    event_mapper: Option<EventMapper>,
    breadcrumb_mapper: Option<BreadcrumbMapper>,
    warned_panic: AtomicBool,
    _subscriber: PhantomData<fn(S)>,
}

impl<S> fmt::Debug for VigilLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VigilLayer")
            .field("event_mapper", &self.event_mapper.is_some())
            .field("breadcrumb_mapper", &self.breadcrumb_mapper.is_some())
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
    /// A layer with the [default event filter](default_event_filter) and
    /// the [default span filter](default_span_filter).
    pub fn new() -> VigilLayer<S> {
        vigil_core::__private::register_active_span_source(spans::active_span);
        VigilLayer {
            event_filter: Box::new(default_event_filter),
            span_filter: Box::new(default_span_filter),
            transaction_filter: Box::new(|_| true),
            event_mapper: None,
            breadcrumb_mapper: None,
            warned_panic: AtomicBool::new(false),
            _subscriber: PhantomData,
        }
    }

    /// Replaces the filter that decides what each `tracing` event becomes.
    /// A filter that panics ignores the event (reported once on stderr).
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::{EventFilter, VigilLayer};
    ///
    /// // Warnings become events too; errors also leave a breadcrumb.
    /// let layer = VigilLayer::<Registry>::new().event_filter(|md| match *md.level() {
    ///     tracing::Level::ERROR => EventFilter::EventAndBreadcrumb,
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
        self.event_filter = Box::new(filter);
        self
    }

    /// Replaces the filter that decides which spans are recorded. Only
    /// recorded spans have their fields attached to events, and only they
    /// remember the hub they were created under. A filter that panics
    /// skips the span.
    #[must_use]
    pub fn span_filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&Metadata<'_>) -> bool + Send + Sync + 'static,
    {
        self.span_filter = Box::new(filter);
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
        self.transaction_filter = Box::new(filter);
        self
    }

    /// Builds the Vigil events: `mapper` gets the `tracing` event and the
    /// default Vigil event (see the crate docs) and returns the event to
    /// capture, or `None` to capture nothing. A mapper that panics
    /// captures nothing.
    ///
    /// ```
    /// use tracing_subscriber::Registry;
    /// use vigil_tracing::VigilLayer;
    ///
    /// let layer = VigilLayer::<Registry>::new().event_mapper(|event, mut vigil_event| {
    ///     vigil_event.tags.insert("target".into(), event.metadata().target().into());
    ///     Some(vigil_event)
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn event_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&TracingEvent<'_>, Event) -> Option<Event> + Send + Sync + 'static,
    {
        self.event_mapper = Some(Box::new(mapper));
        self
    }

    /// Builds the breadcrumbs: `mapper` gets the `tracing` event and the
    /// default breadcrumb and returns the breadcrumb to record, or `None`.
    /// It runs before the client's `before_breadcrumb`. A mapper that
    /// panics records nothing.
    #[must_use]
    pub fn breadcrumb_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&TracingEvent<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    {
        self.breadcrumb_mapper = Some(Box::new(mapper));
        self
    }

    /// What the filter says about an event; `Ignore` for the SDK's own
    /// events and while this thread is capturing.
    fn action(&self, metadata: &Metadata<'_>) -> EventFilter {
        let action = call_guarded("the tracing event filter", Some(&self.warned_panic), || {
            (self.event_filter)(metadata)
        })
        .unwrap_or(EventFilter::Ignore);
        if action == EventFilter::Ignore
            || is_sdk_target(metadata.target())
            || Reentrancy::is_active()
        {
            return EventFilter::Ignore;
        }
        action
    }

    fn build_event(
        &self,
        event: &TracingEvent<'_>,
        fields: &mut Fields,
        spans: Vec<Value>,
        breadcrumb_too: bool,
    ) -> Option<Event> {
        let metadata = event.metadata();
        let mut contexts = BTreeMap::new();
        let location = location(metadata);
        if !location.is_empty() {
            contexts.insert(LOCATION_CONTEXT.to_owned(), EventContext::Other(location));
        }
        if !spans.is_empty() {
            let mut map = Map::new();
            map.insert("spans".into(), Value::Array(spans));
            contexts.insert(SPANS_CONTEXT.to_owned(), EventContext::Other(map));
        }
        let extra = if breadcrumb_too {
            fields.values.clone().into_map()
        } else {
            std::mem::take(&mut fields.values).into_map()
        };
        let vigil_event = Event {
            level: level(metadata.level()),
            message: if breadcrumb_too {
                fields.message.clone()
            } else {
                fields.message.take()
            },
            logger: Some(metadata.target().to_owned()),
            contexts,
            extra,
            exception: fields.exception.take().unwrap_or_default(),
            ..Event::default()
        };
        match &self.event_mapper {
            Some(mapper) => {
                call_guarded("the tracing event mapper", Some(&self.warned_panic), || {
                    mapper(event, vigil_event)
                })?
            }
            None => Some(vigil_event),
        }
    }

    fn build_breadcrumb(
        &self,
        event: &TracingEvent<'_>,
        fields: Fields,
        event_id: EventId,
    ) -> Option<Breadcrumb> {
        let metadata = event.metadata();
        let crumb = Breadcrumb {
            category: Some(metadata.target().into()),
            message: fields.message,
            data: fields.values.into_map(),
            level: level(metadata.level()),
            event_id: (!event_id.is_nil()).then_some(event_id),
            ..Breadcrumb::default()
        };
        match &self.breadcrumb_mapper {
            Some(mapper) => call_guarded(
                "the tracing breadcrumb mapper",
                Some(&self.warned_panic),
                || mapper(event, crumb),
            )?,
            None => Some(crumb),
        }
    }
}

fn location(metadata: &Metadata<'_>) -> Map<String, Value> {
    let mut location = Map::new();
    if let Some(module_path) = metadata.module_path() {
        location.insert("module_path".into(), module_path.into());
    }
    if let Some(file) = metadata.file() {
        location.insert("file".into(), file.into());
    }
    if let Some(line) = metadata.line() {
        location.insert("line".into(), line.into());
    }
    location
}

impl<S> Layer<S> for VigilLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let record = call_guarded("the tracing span filter", Some(&self.warned_panic), || {
            (self.span_filter)(attrs.metadata())
        })
        .unwrap_or(false);
        // Nothing to remember while no enabled client is bound anywhere (a
        // single atomic load until `init`).
        if !record || !vigil_core::__private::any_client() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let metadata = attrs.metadata();
        // Built in place: the fields are recorded into it, and it is
        // moved once, into the span's extensions.
        let mut data = SpanData {
            hub: Hub::current(),
            fields: FieldValues::default(),
            sentry: None,
        };
        attrs.record(&mut data.fields);
        data.sentry = match with_sentry_parent(&span, &data.hub, |parent| {
            spans::start_child(parent, metadata, &data.fields)
        }) {
            // A traced ancestor under this hub: the hub had an enabled
            // client when the trace began.
            Some(child) => Some(child),
            None => {
                let Some(client) = data.hub.client().filter(|c| c.is_enabled()) else {
                    return;
                };
                spans::start_root(&data.hub, &client, metadata, &data.fields, || {
                    call_guarded(
                        "the tracing transaction filter",
                        Some(&self.warned_panic),
                        || (self.transaction_filter)(metadata),
                    )
                    .unwrap_or(false)
                })
            }
        };
        span.extensions_mut().insert(data);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>()
            && let Some(sentry) = data.sentry.take()
        {
            // Finishing a transaction runs the user's callbacks: not
            // while the span's extensions are borrowed.
            let hub = matches!(sentry, TransactionOrSpan::Transaction(_)).then(|| data.hub.clone());
            drop(extensions);
            spans::finish(hub.as_ref(), sentry);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            let mut fields = FieldValues::default();
            values.record(&mut fields);
            if let Some(sentry) = &data.sentry {
                spans::set_data(sentry, &fields);
            }
            data.fields.merge(fields);
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        let action = self.action(event.metadata());
        if action == EventFilter::Ignore {
            return;
        }
        let Some(_capturing) = Reentrancy::enter() else {
            return;
        };
        if on_sdk_thread() {
            return;
        }
        // The innermost recorded span decides the hub; the spans' fields
        // are listed oldest first.
        let mut span_hub = None;
        let mut span_sentry = None;
        let mut spans = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(data) = extensions.get::<SpanData>() else {
                    continue;
                };
                span_hub = Some(data.hub.clone());
                span_sentry.clone_from(&data.sentry);
                if action.event() {
                    let mut entry = Map::new();
                    entry.insert("name".into(), span.name().into());
                    entry.insert("fields".into(), data.fields.to_object());
                    spans.push(Value::Object(entry));
                }
            }
        }
        let hub = match span_hub {
            Some(hub) => hub,
            None => match Hub::current_active() {
                Some(hub) => hub,
                None => return,
            },
        };
        let mut fields = Fields::for_event(action.event());
        event.record(&mut fields);
        // An error inside a traced span marks the span, and the event is
        // linked to that span (not to whatever span is current elsewhere).
        if let Some(sentry) = &span_sentry
            && *event.metadata().level() == tracing_core::Level::ERROR
        {
            sentry.set_status(SpanStatus::InternalError);
        }
        let mut id = EventId::nil();
        if action.event()
            && let Some(mut vigil_event) =
                self.build_event(event, &mut fields, spans, action.breadcrumb())
        {
            if let Some(sentry) = &span_sentry {
                vigil_event
                    .contexts
                    .entry("trace".to_owned())
                    .or_insert_with(|| EventContext::from(sentry.get_trace_context()));
            }
            id = hub.capture_event(vigil_event);
        }
        if action.breadcrumb() {
            hub.add_breadcrumb(|| self.build_breadcrumb(event, fields, id));
        }
    }
}

/// Calls `start` with the Sentry span a new span's Sentry span starts
/// under: the nearest recorded ancestor's, when that ancestor was created
/// under the same hub. `None` without calling it when there is none: an
/// ancestor from another hub (a server's long-lived span around the
/// request's hub) is not the parent; the hub's current span is, chosen by
/// the caller.
fn with_sentry_parent<S, R>(
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
    hub: &Arc<Hub>,
    start: impl FnOnce(&TransactionOrSpan) -> R,
) -> Option<R>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut ancestor = span.parent();
    while let Some(current) = ancestor {
        {
            let extensions = current.extensions();
            if let Some(data) = extensions.get::<SpanData>() {
                if !Arc::ptr_eq(&data.hub, hub) {
                    return None;
                }
                if let Some(sentry) = &data.sentry {
                    return Some(start(sentry));
                }
            }
        }
        ancestor = current.parent();
    }
    None
}
