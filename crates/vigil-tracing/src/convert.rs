//! Converting `tracing` events into Vigil events, breadcrumbs and
//! structured logs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use vigil_core::protocol::{
    Breadcrumb, Context as EventContext, Event, Level, Log, LogAttribute, LogLevel, Map, Mechanism,
    Value,
};
use vigil_core::{Hub, TransactionOrSpan};

use crate::engine::SpanData;
use crate::spans;
use crate::visit::{FieldValue, Fields};

/// The context of error events that holds the event's fields.
pub(crate) const FIELDS_CONTEXT: &str = "Rust Tracing Fields";
/// The context of error events that holds the source location.
pub(crate) const LOCATION_CONTEXT: &str = "Rust Tracing Location";
/// The context of error events that lists their enclosing spans.
pub(crate) const SPANS_CONTEXT: &str = "tracing_spans";
/// Fields named `tags.<name>` become the tag `<name>` of an event.
pub(crate) const TAGS_PREFIX: &str = "tags.";
/// The mechanism of the exceptions made from error fields.
const MECHANISM: &str = "tracing";
/// The `sentry.origin` attribute of the logs made from events.
pub(crate) const LOG_ORIGIN: &str = "auto.log.tracing";

/// The Vigil level of a `tracing` level.
pub(crate) fn level(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warning,
        tracing_core::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

/// The log level of a `tracing` level.
pub(crate) fn log_level(level: &tracing_core::Level) -> LogLevel {
    match *level {
        tracing_core::Level::ERROR => LogLevel::Error,
        tracing_core::Level::WARN => LogLevel::Warn,
        tracing_core::Level::INFO => LogLevel::Info,
        tracing_core::Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// What the recorded spans around an event contribute.
#[derive(Default)]
pub(crate) struct Enclosing {
    /// The hub of the innermost recorded span.
    pub(crate) hub: Option<Arc<Hub>>,
    /// The Sentry span of the innermost recorded span.
    pub(crate) sentry: Option<TransactionOrSpan>,
    /// The spans, oldest first, as `{"name", "fields"}` objects (when
    /// asked for).
    pub(crate) spans: Vec<Value>,
    /// The spans' fields as `"<span name>:<field>"` (when asked for).
    pub(crate) attributes: BTreeMap<String, Value>,
}

impl Enclosing {
    /// Walks the recorded spans around `event` that `ctx` shows: the
    /// event's explicit parent, else the current span, and their
    /// ancestors. `list` collects the span list, `attributes` the
    /// prefixed fields.
    pub(crate) fn of<S>(
        event: &TracingEvent<'_>,
        ctx: Option<&Context<'_, S>>,
        list: bool,
        attributes: bool,
    ) -> Enclosing
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut enclosing = Enclosing::default();
        let Some(scope) = ctx.and_then(|ctx| ctx.event_scope(event)) else {
            return enclosing;
        };
        for span in scope.from_root() {
            let extensions = span.extensions();
            let Some(data) = extensions.get::<SpanData>() else {
                continue;
            };
            enclosing.hub = Some(data.hub.clone());
            enclosing.sentry.clone_from(&data.sentry);
            if list {
                let mut entry: Map<String, Value> = Map::new();
                entry.insert("name".into(), span.name().into());
                entry.insert("fields".into(), data.fields.to_object());
                enclosing.spans.push(Value::from_iter(entry));
            }
            if attributes {
                for (key, value) in data.fields.iter() {
                    if key != "message" && !spans::is_naming_field(key) {
                        enclosing
                            .attributes
                            .insert(format!("{}:{key}", span.name()), value.to_json());
                    }
                }
            }
        }
        enclosing
    }
}

/// The source location of an event, as the location context holds it.
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

/// The default Vigil event of a `tracing` event with the recorded
/// `fields` (their exceptions taken, the rest left for a breadcrumb), with
/// the spans' list and attributes of `enclosing`.
pub(crate) fn build_event(
    metadata: &Metadata<'_>,
    fields: &mut Fields,
    enclosing: &mut Enclosing,
) -> Event {
    let mut values = BTreeMap::new();
    let mut tags = BTreeMap::new();
    for (key, value) in fields.values.iter() {
        if Some(key) == fields.exception_field {
            continue;
        }
        if let Some(tag) = key.strip_prefix(TAGS_PREFIX) {
            let text = match value {
                FieldValue::Text(text) => Some(text.clone()),
                FieldValue::Chain(_) => None,
                scalar => Some(scalar.to_json().to_string().into()),
            };
            if let Some(text) = text {
                tags.insert(tag.into(), text);
                continue;
            }
        }
        values.insert(key.to_owned(), value.to_json());
    }
    values.append(&mut enclosing.attributes);

    let mut contexts = BTreeMap::new();
    if !values.is_empty() {
        contexts.insert(
            FIELDS_CONTEXT.to_owned(),
            EventContext::Other(values.into_iter().collect()),
        );
    }
    let location = location(metadata);
    if !location.is_empty() {
        contexts.insert(LOCATION_CONTEXT.to_owned(), EventContext::Other(location));
    }
    if !enclosing.spans.is_empty() {
        let mut map = Map::new();
        map.insert(
            "spans".into(),
            Value::Array(std::mem::take(&mut enclosing.spans)),
        );
        contexts.insert(SPANS_CONTEXT.to_owned(), EventContext::Other(map));
    }
    let mut exception = fields.exception.take().unwrap_or_default();
    if let Some(outermost) = exception.values.last_mut() {
        outermost
            .mechanism
            .get_or_insert_with(|| Mechanism {
                handled: Some(true),
                ..Mechanism::default()
            })
            .ty = MECHANISM.into();
    }
    Event {
        level: level(metadata.level()),
        message: fields.message.clone(),
        logger: Some(metadata.target().to_owned()),
        contexts,
        tags,
        exception,
        ..Event::default()
    }
}

/// The default breadcrumb of a `tracing` event with the recorded
/// `fields`, with the spans' attributes of `enclosing`.
pub(crate) fn build_breadcrumb(
    metadata: &Metadata<'_>,
    fields: Fields,
    enclosing: &mut Enclosing,
) -> Breadcrumb {
    let mut data = fields.values.into_map();
    data.append(&mut enclosing.attributes);
    Breadcrumb {
        category: Some(metadata.target().to_owned().into()),
        message: fields.message,
        data,
        level: level(metadata.level()),
        ..Breadcrumb::default()
    }
}

/// The default structured log of a `tracing` event with the recorded
/// `fields`, with the spans' attributes `span_attributes`. The message is
/// taken out of `fields` when `take_message` (nothing else needs it), else
/// copied.
pub(crate) fn build_log(
    metadata: &Metadata<'_>,
    fields: &mut Fields,
    span_attributes: &BTreeMap<String, Value>,
    take_message: bool,
) -> Log {
    let mut attributes: Map<String, LogAttribute> = fields
        .values
        .iter()
        .map(|(key, value)| (key.to_owned(), LogAttribute(fields.log_value(key, value))))
        .collect();
    for (key, value) in span_attributes {
        attributes.insert(key.clone(), LogAttribute(value.clone()));
    }
    attributes.insert("sentry.origin".to_owned(), LogAttribute::from(LOG_ORIGIN));
    attributes.insert(
        "logger.target".to_owned(),
        LogAttribute::from(metadata.target()),
    );
    if let Some(module_path) = metadata.module_path() {
        attributes.insert(
            "code.module.name".to_owned(),
            LogAttribute::from(module_path),
        );
    }
    if let Some(file) = metadata.file() {
        attributes.insert("code.file.path".to_owned(), LogAttribute::from(file));
    }
    if let Some(line) = metadata.line() {
        attributes.insert("code.line.number".to_owned(), LogAttribute::from(line));
    }
    Log {
        level: log_level(metadata.level()),
        body: if take_message {
            fields.message.take()
        } else {
            fields.message.clone()
        }
        .unwrap_or_default(),
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes,
    }
}

/// The recorded fields of `event`; `exception` makes the first error
/// field the exceptions, `log` keeps the error fields as a log shows them.
pub(crate) fn record(event: &TracingEvent<'_>, exception: bool, log: bool) -> Fields {
    let mut fields = Fields::for_event(exception);
    if log {
        fields = fields.with_log_chains();
    }
    event.record(&mut fields);
    fields.finish();
    fields
}

/// The Vigil event the layers make of a `tracing` event by default,
/// before any mapper, for a custom
/// [`event_mapper`](crate::VigilLayer::event_mapper) to start from:
///
/// - `level`: `ERROR` → `error`, `WARN` → `warning`, `INFO` → `info`,
///   `DEBUG` and `TRACE` → `debug`; `logger`: the event's target;
/// - `message`: the `message` field, else a text `error` field (as
///   `#[instrument(err)]` records it);
/// - `exception`: the first field recorded as an error (`error = &err as
///   &dyn Error`) and its `source()` chain;
/// - `tags`: the text, number and boolean fields named `tags.<name>`;
/// - the contexts `Rust Tracing Fields` (the other fields) and `Rust
///   Tracing Location` (`module_path`, `file`, `line`).
///
/// With a `ctx`, the fields of the enclosing spans the layers recorded are
/// added: as `"<span name>:<field>"` entries of `Rust Tracing Fields`, and
/// as the `tracing_spans` context (`{"spans": [{"name", "fields"}, ...]}`,
/// oldest first).
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use vigil_tracing::{EventMapping, VigilLayer, event_from_event};
///
/// let layer = vigil_tracing::layer().event_mapper(|event, ctx| {
///     let mut vigil_event = event_from_event(event, Some(&ctx));
///     vigil_event.fingerprint = vec![event.metadata().target().to_owned()];
///     EventMapping::Event(vigil_event.into())
/// });
/// # let _ = tracing_subscriber::registry().with(layer);
/// ```
pub fn event_from_event<'context, S, C>(event: &TracingEvent<'_>, ctx: C) -> Event
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    C: Into<Option<&'context Context<'context, S>>>,
{
    let mut fields = record(event, true, false);
    let mut enclosing = Enclosing::of(event, ctx.into(), true, true);
    build_event(event.metadata(), &mut fields, &mut enclosing)
}

/// The breadcrumb the layers make of a `tracing` event by default, before
/// any mapper, for a custom
/// [`event_mapper`](crate::VigilLayer::event_mapper) to start from: type
/// `default`, `category` the event's target, the mapped `level`, the
/// `message` field (else a text `error` field) as `message` and the other
/// fields as `data`. A field recorded as an error is a list of its chain,
/// `"Type: message"` each, the outermost first.
///
/// With a `ctx`, the fields of the enclosing spans the layers recorded are
/// added to `data` as `"<span name>:<field>"`.
pub fn breadcrumb_from_event<'context, S, C>(event: &TracingEvent<'_>, ctx: C) -> Breadcrumb
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    C: Into<Option<&'context Context<'context, S>>>,
{
    let fields = record(event, false, false);
    let mut enclosing = Enclosing::of(event, ctx.into(), false, true);
    build_breadcrumb(event.metadata(), fields, &mut enclosing)
}

/// The structured log the layers make of a `tracing` event by default,
/// before it is captured, for a custom
/// [`event_mapper`](crate::VigilLayer::event_mapper) to start from (as
/// [`EventMapping::Log`](crate::EventMapping::Log)):
///
/// - `level`: `ERROR` → `error`, `WARN` → `warn`, `INFO` → `info`, `DEBUG`
///   → `debug`, `TRACE` → `trace`;
/// - `body`: the `message` field (the format string and its arguments),
///   else a text `error` field (as `#[instrument(err)]` records it), else
///   empty;
/// - `attributes`: the other fields, typed (integers, floats, booleans and
///   strings keep their type; `?debug` and `%display` values, NaN and the
///   infinities are text; a field recorded as an error is the list of its
///   chain, `"Type: message"` each, the outermost first, each type the
///   leading path of that error's `Debug` output, so `Custom` for an
///   `io::Error` made with `io::Error::new`), and
///   `sentry.origin` = `auto.log.tracing`, `logger.target` = the event's
///   target, `code.module.name`, `code.file.path` and `code.line.number`
///   where known.
///
/// The trace, the span and the SDK's default attributes are left for the
/// capture to fill: the layers link the log to the traced span the event
/// was emitted in. With a `ctx`, the fields of the enclosing spans the
/// layers recorded are added as `"<span name>:<field>"` attributes.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use vigil_core::protocol::LogAttribute;
/// use vigil_tracing::{EventMapping, log_from_event};
///
/// let layer = vigil_tracing::layer().event_mapper(|event, ctx| {
///     let mut log = log_from_event(event, Some(&ctx));
///     log.attributes.insert("service".into(), LogAttribute::from("billing"));
///     EventMapping::Log(log)
/// });
/// # let _ = tracing_subscriber::registry().with(layer);
/// ```
pub fn log_from_event<'context, S, C>(event: &TracingEvent<'_>, ctx: C) -> Log
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    C: Into<Option<&'context Context<'context, S>>>,
{
    let mut fields = record(event, false, true);
    let enclosing = Enclosing::of(event, ctx.into(), false, true);
    build_log(event.metadata(), &mut fields, &enclosing.attributes, true)
}
