//! The API shared with the Sentry SDK's `tracing` integration: the
//! `SentryLayer` name, `EventFilter` as a set, custom event mappers with
//! `EventMapping` and the public converters, span attributes, and the
//! split `SpanLayer` / `BreadcrumbLayer` / `ErrorLayer`. Subscribers are
//! set per thread, so no global state is touched.

use std::error::Error;

use serde_json::{Value, json};
use tracing::{Level as TLevel, debug, error, info, info_span, warn};
use tracing_subscriber::Registry;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::prelude::*;
use vigil_core::ClientOptions;
use vigil_core::protocol::{Context, Envelope, Event, Level, Transaction};
use vigil_tracing::{
    BreadcrumbLayer, CombinedEventMapping, ErrorLayer, EventFilter, EventMapping, SentryLayer,
    SpanLayer, VigilLayer, breadcrumb_from_event, event_from_event,
};

/// Runs `f` with `subscriber` as the thread's default and returns the
/// captured events.
fn events_under<T>(subscriber: T, f: impl FnOnce()) -> Vec<Event>
where
    T: tracing::Subscriber + Send + Sync + 'static,
{
    let dispatch = tracing::Dispatch::new(subscriber);
    vigil_core::test::with_captured_events(|| tracing::dispatcher::with_default(&dispatch, f))
}

/// Runs `f` with `subscriber` as the thread's default and `options`;
/// returns what was sent.
fn envelopes_under<T>(subscriber: T, options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope>
where
    T: tracing::Subscriber + Send + Sync + 'static,
{
    let dispatch = tracing::Dispatch::new(subscriber);
    vigil_core::test::with_captured_envelopes_options(
        || tracing::dispatcher::with_default(&dispatch, f),
        options,
    )
}

fn transactions(envelopes: &[Envelope]) -> Vec<Transaction> {
    envelopes
        .iter()
        .filter_map(|e| e.transaction().cloned())
        .collect()
}

fn events(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .filter_map(|e| e.event().cloned())
        .collect()
}

/// A context of `Other` kind, as JSON.
fn other_context(event: &Event, name: &str) -> Value {
    match event.contexts.get(name) {
        Some(Context::Other(map)) => Value::from_iter(map.clone()),
        other => panic!("context {name}: {other:?}"),
    }
}

fn messages(events: &[Event]) -> Vec<Option<String>> {
    events.iter().map(|e| e.message.clone()).collect()
}

fn crumb_messages(event: &Event) -> Vec<String> {
    event
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone().unwrap_or_default())
        .collect()
}

#[tracing::instrument(err)]
fn fails() -> Result<(), Box<dyn Error>> {
    Err("it broke".into())
}

#[test]
fn events_fields_errors_and_instrument_err() {
    let subscriber = tracing_subscriber::registry().with(vigil_tracing::layer());
    let events = events_under(subscriber, || {
        vigil_core::configure_scope(|scope| scope.set_tag("worker", "w1"));
        info!("starting");
        error!(tagname = "tagvalue", "on fire");
        let err = "NaN".parse::<usize>().unwrap_err();
        let err: &(dyn Error + 'static) = &err;
        warn!(something = err, "crumb with error");
        error!(err, tagname = "tagvalue");
        let _ = fails();
    });
    assert_eq!(events.len(), 3);

    let first = &events[0];
    assert_eq!(first.tags["worker"].as_str(), "w1");
    assert_eq!(first.level, Level::Error);
    assert_eq!(first.message.as_deref(), Some("on fire"));
    assert_eq!(crumb_messages(first), ["starting"]);
    assert_eq!(first.breadcrumbs[0].level, Level::Info);
    assert_eq!(
        other_context(first, "Rust Tracing Fields"),
        json!({"tagname": "tagvalue"})
    );
    let location = other_context(first, "Rust Tracing Location");
    assert_eq!(location["module_path"], module_path!());
    assert_eq!(location["file"], file!());
    assert!(location["line"].is_u64());

    let second = &events[1];
    assert_eq!(second.message, None);
    assert_eq!(
        crumb_messages(second),
        ["starting", "crumb with error"],
        "an event is not its own breadcrumb"
    );
    let exception = &second.exception.values[0];
    assert_eq!(exception.ty, "ParseIntError");
    assert_eq!(
        exception.value.as_deref(),
        Some("invalid digit found in string")
    );
    assert_eq!(exception.mechanism.as_ref().unwrap().ty, "tracing");
    assert_eq!(
        other_context(second, "Rust Tracing Fields"),
        json!({"tagname": "tagvalue"})
    );
    let crumb = &second.breadcrumbs[1];
    assert_eq!(crumb.level, Level::Warning);
    assert_eq!(
        crumb.data["something"],
        json!(["ParseIntError: invalid digit found in string"])
    );

    // `#[instrument(err)]` records the error as the `error` field.
    assert_eq!(events[2].message.as_deref(), Some("it broke"));
    assert!(!events[2].contexts.contains_key("Rust Tracing Fields"));
}

#[test]
fn tags_prefix_makes_event_tags() {
    let subscriber = tracing_subscriber::registry().with(vigil_tracing::layer());
    let events = events_under(subscriber, || {
        error!(
            tags.kind = "db",
            tags.retry = 3,
            tags.cold = true,
            other = 1,
            "failed"
        );
    });
    let tags: Vec<(&str, &str)> = events[0]
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(tags, [("cold", "true"), ("kind", "db"), ("retry", "3")]);
    assert_eq!(
        other_context(&events[0], "Rust Tracing Fields"),
        json!({"other": 1})
    );
}

#[tracing::instrument(fields(contextual_value = 42))]
fn with_span_attributes() {
    info!("in the function");
    error!(own = 1, "boom");
}

#[test]
fn span_attributes_without_sampling() {
    let layer: SentryLayer<Registry> = vigil_tracing::layer().enable_span_attributes();
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(layer),
        ClientOptions::new().traces_sample_rate(0.0),
        with_span_attributes,
    );
    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    let crumb = &events[0].breadcrumbs[0];
    assert_eq!(crumb.message.as_deref(), Some("in the function"));
    assert_eq!(
        crumb.data.get("with_span_attributes:contextual_value"),
        Some(&json!(42))
    );
    assert_eq!(
        other_context(&events[0], "Rust Tracing Fields"),
        json!({"own": 1, "with_span_attributes:contextual_value": 42})
    );
}

#[test]
fn span_attributes_are_off_by_default() {
    let subscriber = tracing_subscriber::registry().with(vigil_tracing::layer());
    let events = events_under(subscriber, with_span_attributes);
    assert!(events[0].breadcrumbs[0].data.is_empty());
    assert_eq!(
        other_context(&events[0], "Rust Tracing Fields"),
        json!({"own": 1})
    );
}

#[tracing::instrument(fields(span_field))]
fn records_later() {
    tracing::Span::current().record("span_field", "some data");
}

#[test]
fn recorded_fields_reach_the_span_data() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(vigil_tracing::layer()),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let _span = tracing::span!(TLevel::INFO, "span").entered();
            records_later();
        },
    );
    assert_eq!(envelopes.len(), 1);
    let transaction = envelopes[0].transaction().expect("a transaction");
    assert_eq!(transaction.spans[0].data["span_field"], "some data");
}

#[test]
fn names_tags_and_trace_from_fields() {
    let header = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1";
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(vigil_tracing::layer()),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let root = info_span!(
                "root",
                sentry.trace = header,
                sentry.name = tracing::field::Empty,
                tags.tenant = "acme"
            );
            let _root = root.enter();
            root.record("sentry.name", "renamed root");
            let child = info_span!("child", op = tracing::field::Empty, tags.n = 2);
            let _child = child.enter();
            child.record("op", "db.query");
        },
    );
    let tx = &transactions(&envelopes)[0];
    assert_eq!(tx.name.as_deref(), Some("renamed root"));
    let Context::Trace(trace) = &tx.contexts["trace"] else {
        panic!("a trace context");
    };
    assert_eq!(
        trace.trace_id.to_string(),
        "771a43a4192642f0b136d5159a501700"
    );
    assert_eq!(
        trace.parent_span_id.map(|id| id.to_string()).as_deref(),
        Some("b0e6f15b45c36b12")
    );
    assert!(!trace.data.contains_key("sentry.trace"));
    assert_eq!(tx.tags["tenant"].as_str(), "acme");
    let child = &tx.spans[0];
    assert_eq!(child.op.as_deref(), Some("db.query"));
    assert_eq!(child.tags["n"], "2");
    assert!(!child.data.contains_key("tags.n"));
}

#[test]
fn scope_set_transaction_renames_the_bound_transaction() {
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let transaction = vigil_core::start_transaction(vigil_core::TransactionContext::new(
                "old name", "task",
            ));
            transaction.set_request(vigil_core::protocol::Request {
                url: Some("https://example.com".into()),
                method: Some("GET".into()),
                ..Default::default()
            });
            vigil_core::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            vigil_core::configure_scope(|scope| scope.set_transaction(Some("new name")));
            transaction.finish();
        },
        ClientOptions::new().traces_sample_rate(1.0),
    );
    let tx = &transactions(&envelopes)[0];
    assert_eq!(tx.name.as_deref(), Some("new name"));
    assert!(tx.request.is_some());
}

#[test]
fn event_filter_is_a_set() {
    let both = EventFilter::Breadcrumb | EventFilter::Event;
    assert_eq!(both, EventFilter::EventAndBreadcrumb);
    assert!(both.contains(EventFilter::Event) && both.contains(EventFilter::Breadcrumb));
    assert!(!EventFilter::Event.contains(EventFilter::Breadcrumb));
    assert!(EventFilter::Event.contains(EventFilter::Ignore));
    assert!(EventFilter::Ignore.is_empty() && EventFilter::empty().is_empty());
    assert!(!both.is_all() && (both | EventFilter::Log).is_all());
    assert_eq!(
        EventFilter::all(),
        EventFilter::Event | EventFilter::Breadcrumb | EventFilter::Log
    );
    assert!(both.intersects(EventFilter::Event));
    assert!(!EventFilter::Event.intersects(EventFilter::Breadcrumb));
    assert_eq!(both & EventFilter::Event, EventFilter::Event);
    assert_eq!(both - EventFilter::Event, EventFilter::Breadcrumb);
    assert_eq!(
        !EventFilter::Event,
        EventFilter::Breadcrumb | EventFilter::Log
    );
    assert_eq!(EventFilter::from_bits_truncate(0xff), EventFilter::all());
    assert_eq!(EventFilter::Log.bits(), 0b100);
    assert_eq!(EventFilter::Event.bits(), 0b10);
    let mut filter = EventFilter::Ignore;
    filter |= EventFilter::Event;
    filter.insert(EventFilter::Breadcrumb);
    assert_eq!(filter, both);
    filter.remove(EventFilter::Event);
    assert_eq!(filter, EventFilter::Breadcrumb);
    filter.set(EventFilter::Event, true);
    filter &= EventFilter::Event;
    filter -= EventFilter::Breadcrumb;
    assert_eq!(filter, EventFilter::Event);
    assert_eq!(format!("{both:?}"), "EventFilter(Breadcrumb | Event)");
    assert_eq!(format!("{:?}", EventFilter::Ignore), "EventFilter(0x0)");
    assert_eq!(EventFilter::default(), EventFilter::Ignore);
    // The constants are patterns.
    let name = match EventFilter::Breadcrumb {
        EventFilter::Ignore => "ignore",
        EventFilter::Breadcrumb => "breadcrumb",
        _ => "other",
    };
    assert_eq!(name, "breadcrumb");
}

#[test]
fn combined_event_filters() {
    let layer = vigil_tracing::layer().event_filter(|md| match *md.level() {
        TLevel::ERROR => EventFilter::Breadcrumb | EventFilter::Event,
        TLevel::WARN => EventFilter::Event,
        _ => EventFilter::Ignore,
    });
    let events = events_under(tracing_subscriber::registry().with(layer), || {
        error!("both");
        warn!("event only");
    });
    assert_eq!(
        messages(&events),
        [Some("both".to_owned()), Some("event only".to_owned())]
    );
    assert_eq!(crumb_messages(&events[1]), ["both"]);
    assert_eq!(events[1].breadcrumbs[0].event_id, Some(events[0].event_id));
}

#[test]
fn event_mapper_decides_and_builds() {
    let layer = vigil_tracing::layer().event_mapper(|event, ctx| match *event.metadata().level() {
        TLevel::ERROR => {
            let breadcrumb = breadcrumb_from_event(event, Some(&ctx));
            let vigil_event = event_from_event(event, Some(&ctx));
            EventMapping::Combined(
                vec![
                    EventMapping::Breadcrumb(breadcrumb),
                    EventMapping::Event(vigil_event.into()),
                ]
                .into(),
            )
        }
        TLevel::WARN => EventMapping::Event(event_from_event(event, Some(&ctx)).into()),
        // The mapper sees what the default filter ignores.
        TLevel::DEBUG => {
            let nested: CombinedEventMapping =
                EventMapping::Breadcrumb(breadcrumb_from_event::<Registry, _>(event, None)).into();
            EventMapping::Combined(
                vec![EventMapping::Combined(nested), EventMapping::Ignore].into(),
            )
        }
        _ => EventMapping::Ignore,
    });
    let events = events_under(tracing_subscriber::registry().with(layer), || {
        info!("ignored");
        debug!("nested crumb");
        let _span = info_span!("job", id = 7).entered();
        error!("both");
        warn!("event only");
    });
    assert_eq!(
        messages(&events),
        [Some("both".to_owned()), Some("event only".to_owned())]
    );
    // In the order the mapper gave: the breadcrumb first.
    assert_eq!(crumb_messages(&events[0]), ["nested crumb", "both"]);
    assert_eq!(crumb_messages(&events[1]), ["nested crumb", "both"]);
    // With the context, the converters see the spans.
    assert_eq!(events[0].breadcrumbs[1].data.get("job:id"), Some(&json!(7)));
    assert_eq!(
        other_context(&events[0], "tracing_spans"),
        json!({"spans": [{"name": "job", "fields": {"id": 7}}]})
    );
}

#[test]
fn panicking_event_mapper_captures_nothing() {
    let layer = VigilLayer::new().event_mapper(|_, _| panic!("mapper bug"));
    let events = events_under(tracing_subscriber::registry().with(layer), || {
        error!("lost");
    });
    assert!(events.is_empty());
}

#[test]
fn combined_event_mapping_collects() {
    let mut combined = CombinedEventMapping::default();
    assert!(combined.is_empty());
    combined.push(EventMapping::Ignore);
    combined.push(Event::default().into());
    assert_eq!(combined.len(), 2);
    assert!(matches!(combined.iter().next(), Some(EventMapping::Ignore)));
    let again = CombinedEventMapping::from(EventMapping::Combined(combined));
    assert_eq!(again.into_iter().count(), 2);
    let single = CombinedEventMapping::from(EventMapping::Ignore);
    assert_eq!((&single).into_iter().count(), 1);
}

/// The split layers, as the combined layer's default is rebuilt from them.
fn split_subscriber(span_attributes: bool) -> impl tracing::Subscriber + Send + Sync + 'static {
    let (mut crumbs, mut errors) = (BreadcrumbLayer::new(), ErrorLayer::new());
    if span_attributes {
        crumbs = crumbs.enable_span_attributes();
        errors = errors.enable_span_attributes();
    }
    tracing_subscriber::registry()
        .with(SpanLayer::new().with_filter(LevelFilter::INFO))
        .with(crumbs.with_filter(filter_fn(|md| {
            md.is_span() || matches!(*md.level(), TLevel::WARN | TLevel::INFO)
        })))
        .with(errors.with_filter(filter_fn(|md| md.is_span() || *md.level() == TLevel::ERROR)))
}

#[test]
fn split_layers_do_what_the_combined_layer_does() {
    let envelopes = envelopes_under(
        split_subscriber(true),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            debug!("not a breadcrumb");
            let _request = info_span!("request", id = 7).entered();
            let _quiet = tracing::debug_span!("quiet").entered();
            info!("step");
            error!(code = 3, "failed");
        },
    );
    let events = events(&envelopes);
    assert_eq!(messages(&events), [Some("failed".to_owned())]);
    let event = &events[0];
    assert_eq!(crumb_messages(event), ["step"]);
    assert_eq!(event.breadcrumbs[0].data["request:id"], 7);
    assert_eq!(
        other_context(event, "Rust Tracing Fields"),
        json!({"code": 3, "request:id": 7})
    );
    let tx = &transactions(&envelopes)[0];
    assert_eq!(tx.name.as_deref(), Some("request"));
    assert!(tx.spans.is_empty(), "the DEBUG span is filtered out");
    let (Context::Trace(tx_trace), Context::Trace(event_trace)) =
        (&tx.contexts["trace"], &event.contexts["trace"])
    else {
        panic!("trace contexts");
    };
    assert_eq!(event_trace.span_id, tx_trace.span_id);
    assert_eq!(
        tx_trace.status,
        Some(vigil_core::protocol::SpanStatus::InternalError)
    );
}

#[test]
fn split_layers_without_span_attributes() {
    let events = events_under(split_subscriber(false), || {
        let _request = info_span!("request", id = 7).entered();
        info!("step");
        error!("failed");
    });
    assert!(events[0].breadcrumbs[0].data.is_empty());
    assert!(!events[0].contexts.contains_key("Rust Tracing Fields"));
    // The span list is there (the spans the span layer recorded).
    assert_eq!(
        other_context(&events[0], "tracing_spans"),
        json!({"spans": [{"name": "request", "fields": {"id": 7}}]})
    );
}

#[test]
fn span_layer_alone_captures_no_event() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(SpanLayer::new().with_filter(LevelFilter::INFO)),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let _span = info_span!("work").entered();
            error!("not captured");
            vigil_core::capture_message("captured", Level::Error);
        },
    );
    assert_eq!(messages(&events(&envelopes)), [Some("captured".to_owned())]);
    assert_eq!(transactions(&envelopes).len(), 1);
}

#[test]
fn span_layer_filters_transactions() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry()
            .with(SpanLayer::default().transaction_filter(|md| md.name() == "wanted")),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            drop(info_span!("unwanted").entered());
            drop(tracing::trace_span!("wanted").entered());
        },
    );
    let names: Vec<_> = transactions(&envelopes)
        .iter()
        .map(|t| t.name.clone().unwrap())
        .collect();
    // Without a filter, the span layer records spans at every level.
    assert_eq!(names, ["wanted"]);
}

#[test]
fn event_layers_capture_everything_they_see() {
    let subscriber = tracing_subscriber::registry()
        .with(BreadcrumbLayer::default())
        .with(ErrorLayer::default().with_filter(LevelFilter::WARN));
    let events = events_under(subscriber, || {
        tracing::trace!("trace crumb");
        warn!("warned");
    });
    assert_eq!(messages(&events), [Some("warned".to_owned())]);
    assert_eq!(events[0].level, Level::Warning);
    // The breadcrumb layer comes first: the warning is a breadcrumb of
    // its own event.
    assert_eq!(crumb_messages(&events[0]), ["trace crumb", "warned"]);
}

#[test]
fn span_layer_next_to_the_combined_layer_does_not_panic() {
    let subscriber = tracing_subscriber::registry()
        .with(vigil_tracing::layer())
        .with(SpanLayer::new());
    let envelopes = envelopes_under(
        subscriber,
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let _outer = info_span!("outer").entered();
            let _inner = info_span!("inner").entered();
            error!("inside");
        },
    );
    let tx = &transactions(&envelopes)[0];
    assert_eq!(tx.spans.len(), 1, "each span recorded once");
    assert_eq!(events(&envelopes).len(), 1);
}

#[test]
fn converters_without_context_and_debug_output() {
    let layer = VigilLayer::new().event_mapper(|event, _ctx| {
        let vigil_event = event_from_event::<Registry, _>(event, None);
        assert!(!vigil_event.contexts.contains_key("tracing_spans"));
        vigil_event.into()
    });
    assert!(format!("{layer:?}").contains("event_mapper: true"));
    let events = events_under(tracing_subscriber::registry().with(layer), || {
        let _span = info_span!("job").entered();
        info!(n = 1, "kept");
    });
    assert_eq!(messages(&events), [Some("kept".to_owned())]);
    assert_eq!(events[0].level, Level::Info);
    assert_eq!(
        format!("{:?}", SpanLayer::new()),
        "SpanLayer { .. }".to_owned()
    );
    assert!(format!("{:?}", ErrorLayer::new().enable_span_attributes()).contains("true"));
    assert!(format!("{:?}", BreadcrumbLayer::new()).contains("false"));
}
