//! The machinery every layer of this crate is a configuration of:
//! recording spans (and their Sentry spans), and turning events into
//! Vigil events, breadcrumbs and structured logs.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use vigil_core::protocol::{
    Breadcrumb, Context as EventContext, Event, EventId, Log, LogAttribute, PARENT_SPAN_ID,
    SpanStatus,
};
use vigil_core::{
    Hub, ReentrancyGuard as Reentrancy, TransactionOrSpan, call_guarded, is_sdk_target,
    is_sdk_thread as on_sdk_thread,
};

use crate::convert::{self, Enclosing};
use crate::filter::{EventFilter, default_event_filter, default_span_filter};
use crate::mapping::{CombinedEventMapping, EventMapping};
use crate::spans;
use crate::visit::FieldValues;

/// What the layers keep in a recorded span's extensions.
pub(crate) struct SpanData {
    /// The hub current when the span was created.
    pub(crate) hub: Arc<Hub>,
    pub(crate) fields: FieldValues,
    /// Its Sentry span (with tracing on), finished when the span closes.
    pub(crate) sentry: Option<TransactionOrSpan>,
}

pub(crate) type EventFilterFn = Box<dyn Fn(&Metadata<'_>) -> EventFilter + Send + Sync>;
pub(crate) type SpanFilterFn = Box<dyn Fn(&Metadata<'_>) -> bool + Send + Sync>;
pub(crate) type EventMap = Box<dyn Fn(&TracingEvent<'_>, Event) -> Option<Event> + Send + Sync>;
pub(crate) type BreadcrumbMap =
    Box<dyn Fn(&TracingEvent<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync>;
/// A custom event mapper, which replaces the event filter.
pub(crate) type CustomMapper<S> =
    dyn Fn(&TracingEvent<'_>, Context<'_, S>) -> EventMapping + Send + Sync;

/// The shared machinery; each layer sets what it does.
pub(crate) struct Engine {
    pub(crate) event_filter: EventFilterFn,
    pub(crate) span_filter: SpanFilterFn,
    pub(crate) transaction_filter: SpanFilterFn,
    pub(crate) event_map: Option<EventMap>,
    pub(crate) breadcrumb_map: Option<BreadcrumbMap>,
    /// Whether spans are recorded (and, with tracing on, made Sentry
    /// spans), and `ERROR` events mark them.
    record_spans: bool,
    /// Whether the enclosing spans' fields are added to events and
    /// breadcrumbs as `"<span name>:<field>"`.
    pub(crate) span_attributes: bool,
    warned_panic: AtomicBool,
}

impl Engine {
    /// The combined layer's machinery: the default filters, spans
    /// recorded.
    pub(crate) fn combined() -> Engine {
        Engine::new(
            Box::new(default_event_filter),
            Box::new(default_span_filter),
            true,
        )
    }

    /// Machinery that records every span the layer sees and captures no
    /// event.
    pub(crate) fn spans_only() -> Engine {
        Engine::new(Box::new(|_| EventFilter::Ignore), Box::new(|_| true), true)
    }

    /// Machinery that does `action` with every event it sees and records
    /// no span (it reads those another layer recorded).
    pub(crate) fn events_only(action: EventFilter) -> Engine {
        Engine::new(Box::new(move |_| action), Box::new(|_| false), false)
    }

    fn new(event_filter: EventFilterFn, span_filter: SpanFilterFn, record_spans: bool) -> Engine {
        if record_spans {
            vigil_core::__private::register_active_span_source(spans::active_span);
        }
        Engine {
            event_filter,
            span_filter,
            transaction_filter: Box::new(|_| true),
            event_map: None,
            breadcrumb_map: None,
            record_spans,
            span_attributes: false,
            warned_panic: AtomicBool::new(false),
        }
    }

    /// What the filter says about an event.
    fn action(&self, metadata: &Metadata<'_>) -> EventFilter {
        call_guarded("the tracing event filter", Some(&self.warned_panic), || {
            (self.event_filter)(metadata)
        })
        .unwrap_or(EventFilter::Ignore)
    }

    pub(crate) fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !self.record_spans {
            return;
        }
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
        // Another of this crate's layers in the same stack recorded it.
        if span.extensions().get::<SpanData>().is_some() {
            return;
        }
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

    pub(crate) fn on_close<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !self.record_spans {
            return;
        }
        let Some(span) = ctx.span(id) else {
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

    pub(crate) fn on_record<S>(&self, id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !self.record_spans {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            let mut fields = FieldValues::default();
            values.record(&mut fields);
            if let Some(sentry) = &data.sentry {
                spans::rename(sentry, &fields);
                spans::set_data(sentry, &fields);
            }
            data.fields.merge(fields);
        }
    }

    /// Handles an event: `mapper`, when given, decides what it becomes
    /// instead of the event filter.
    pub(crate) fn on_event<S>(
        &self,
        event: &TracingEvent<'_>,
        ctx: Context<'_, S>,
        mapper: Option<&CustomMapper<S>>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let metadata = event.metadata();
        let mark = self.record_spans && *metadata.level() == tracing_core::Level::ERROR;
        let action = match mapper {
            Some(_) => EventFilter::Ignore,
            None => self.action(metadata),
        };
        if mapper.is_none() && action.is_empty() && !mark {
            return;
        }
        // Never the SDK's own events, nor those emitted while this thread
        // is capturing (a callback, a transport).
        if is_sdk_target(metadata.target()) || Reentrancy::is_active() {
            return;
        }
        let Some(_capturing) = Reentrancy::enter() else {
            return;
        };
        if on_sdk_thread() {
            return;
        }
        // The innermost recorded span decides the hub; its Sentry span is
        // the one the event is linked to.
        let attributes = self.span_attributes && !action.is_empty();
        let mut enclosing = Enclosing::of(event, Some(&ctx), action.event(), attributes);
        // An error inside a traced span marks the span.
        if mark && let Some(sentry) = &enclosing.sentry {
            sentry.set_status(SpanStatus::InternalError);
        }
        if mapper.is_none() && action.is_empty() {
            return;
        }
        let hub = match enclosing.hub.take() {
            Some(hub) => hub,
            None => match Hub::current_active() {
                Some(hub) => hub,
                None => return,
            },
        };
        let sentry = enclosing.sentry.take();
        if let Some(mapper) = mapper {
            let mapping =
                call_guarded("the tracing event mapper", Some(&self.warned_panic), || {
                    mapper(event, ctx)
                });
            if let Some(mapping) = mapping {
                capture_mapping(&hub, sentry.as_ref(), mapping);
            }
            return;
        }
        let mut fields = convert::record(event, action.event(), action.log());
        // Built first: the breadcrumb takes the fields. The message is
        // moved into the log when no event or breadcrumb needs it.
        let message_needed = action.event() || action.breadcrumb();
        let log = action.log().then(|| {
            convert::build_log(
                metadata,
                &mut fields,
                &enclosing.attributes,
                !message_needed,
            )
        });
        let mut id = EventId::nil();
        if action.event() {
            let mut crumb_attributes = if action.breadcrumb() {
                enclosing.attributes.clone()
            } else {
                Default::default()
            };
            let vigil_event = convert::build_event(metadata, &mut fields, &mut enclosing);
            if let Some(vigil_event) = self.map_event(event, vigil_event) {
                id = capture(&hub, sentry.as_ref(), vigil_event);
            }
            std::mem::swap(&mut enclosing.attributes, &mut crumb_attributes);
        }
        if action.breadcrumb() {
            hub.add_breadcrumb(|| {
                let mut crumb = convert::build_breadcrumb(metadata, fields, &mut enclosing);
                crumb.event_id = (!id.is_nil()).then_some(id);
                self.map_breadcrumb(event, crumb)
            });
        }
        if let Some(log) = log {
            capture_log(&hub, sentry.as_ref(), log);
        }
    }

    fn map_event(&self, event: &TracingEvent<'_>, vigil_event: Event) -> Option<Event> {
        match &self.event_map {
            Some(map) => {
                call_guarded("the tracing event mapper", Some(&self.warned_panic), || {
                    map(event, vigil_event)
                })?
            }
            None => Some(vigil_event),
        }
    }

    fn map_breadcrumb(&self, event: &TracingEvent<'_>, crumb: Breadcrumb) -> Option<Breadcrumb> {
        match &self.breadcrumb_map {
            Some(map) => call_guarded(
                "the tracing breadcrumb mapper",
                Some(&self.warned_panic),
                || map(event, crumb),
            )?,
            None => Some(crumb),
        }
    }
}

/// Captures `event` into `hub`, linked to `sentry` (the Sentry span of the
/// span it was emitted in) unless it names a trace itself.
fn capture(hub: &Hub, sentry: Option<&TransactionOrSpan>, mut event: Event) -> EventId {
    if let Some(sentry) = sentry {
        event
            .contexts
            .entry("trace".to_owned())
            .or_insert_with(|| EventContext::from(sentry.get_trace_context()));
    }
    hub.capture_event(event)
}

/// Sends `log` through `hub`, linked to `sentry` (the Sentry span of the
/// span it was emitted in) unless it names a trace or a span itself. The
/// span is set here, as the client would set it from the span: inside a
/// subscriber callback the hub cannot see the `tracing` span.
fn capture_log(hub: &Hub, sentry: Option<&TransactionOrSpan>, mut log: Log) {
    if let Some(sentry) = sentry
        && *log.trace_id.get_or_insert_with(|| sentry.trace_id()) == sentry.trace_id()
    {
        log.attributes
            .entry(PARENT_SPAN_ID.to_owned())
            .or_insert_with(|| LogAttribute::from(sentry.span_id().to_string()));
    }
    hub.capture_log(log);
}

/// Captures what a custom mapper returned, in order.
fn capture_mapping(hub: &Hub, sentry: Option<&TransactionOrSpan>, mapping: EventMapping) {
    for item in CombinedEventMapping::from(mapping) {
        match item {
            EventMapping::Ignore => {}
            EventMapping::Breadcrumb(crumb) => hub.add_breadcrumb(crumb),
            EventMapping::Event(event) => {
                capture(hub, sentry, *event);
            }
            EventMapping::Log(log) => capture_log(hub, sentry, log),
            nested @ EventMapping::Combined(_) => capture_mapping(hub, sentry, nested),
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
