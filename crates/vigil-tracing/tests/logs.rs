//! `tracing` events as structured logs: the `Log` action of the event
//! filter, the default filter with `enable_logs`, `LogLayer`, custom
//! mappers returning logs, and the link to the span a log was emitted in.
//! Subscribers are set per thread, so no global state is touched.

use std::error::Error;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::{Level as TLevel, debug, error, info, info_span, trace, warn};
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::prelude::*;
use vigil_core::ClientOptions;
use vigil_core::protocol::{
    Context, Envelope, EnvelopeItem, Event, ItemContainer, Log, LogAttribute, LogLevel,
    PARENT_SPAN_ID, Transaction,
};
use vigil_tracing::{
    BreadcrumbLayer, ErrorLayer, EventFilter, EventMapping, LogLayer, SpanLayer, VigilLayer,
    log_from_event,
};

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

fn logs(envelopes: &[Envelope]) -> Vec<Log> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn events(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .filter_map(|e| e.event().cloned())
        .collect()
}

fn transactions(envelopes: &[Envelope]) -> Vec<Transaction> {
    envelopes
        .iter()
        .filter_map(|e| e.transaction().cloned())
        .collect()
}

fn bodies(logs: &[Log]) -> Vec<&str> {
    logs.iter().map(|log| log.body.as_str()).collect()
}

fn attr(log: &Log, key: &str) -> LogAttribute {
    log.attributes
        .get(key)
        .unwrap_or_else(|| panic!("no attribute {key} in {:?}", log.attributes))
        .clone()
}

/// A layer sending every event as a log.
fn log_everything() -> VigilLayer<tracing_subscriber::Registry> {
    VigilLayer::new().event_filter(|_| EventFilter::Log)
}

#[derive(Debug)]
struct ConnectionError {
    message: String,
    source: Option<std::io::Error>,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl Error for ConnectionError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn Error + 'static))
    }
}

// Written against the umbrella crate, as applications use it.
#[test]
fn test_tracing_logs() {
    let vigil_layer = vigil_tracing::layer().event_filter(|_| vigil_tracing::EventFilter::Log);

    let _dispatcher = tracing_subscriber::registry()
        .with(vigil_layer)
        .set_default();

    let options = vigil_core::ClientOptions::new();

    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let io_error =
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
            let connection_error = ConnectionError {
                message: "Failed to connect to database server".to_string(),
                source: Some(io_error),
            };

            tracing::error!(
                my.key = "hello",
                an.error = &connection_error as &dyn std::error::Error,
                "This is an error log: {}",
                "hello"
            );
        },
        options,
    );

    assert_eq!(envelopes.len(), 1);
    let envelope = envelopes.first().expect("expected envelope");
    let item = envelope.items().next().expect("expected envelope item");

    match item {
        vigil_core::protocol::EnvelopeItem::ItemContainer(container) => match container {
            vigil_core::protocol::ItemContainer::Logs(logs) => {
                assert_eq!(logs.len(), 1);

                let log = &logs[0];
                assert_eq!(log.level, vigil_core::protocol::LogLevel::Error);
                assert_eq!(log.body, "This is an error log: hello");
                assert!(log.trace_id.is_some());
                assert_eq!(
                    log.attributes.get("my.key").unwrap().clone(),
                    vigil_core::protocol::LogAttribute::from("hello")
                );
                assert_eq!(
                    log.attributes.get("an.error").unwrap().clone(),
                    vigil_core::protocol::LogAttribute::from(vec![
                        "ConnectionError: Failed to connect to database server",
                        "Custom: Connection refused"
                    ])
                );
            }
            _ => panic!("expected logs container"),
        },
        _ => panic!("expected item container"),
    }
}

#[test]
fn test_tracing_log_floating_point_field() {
    let _dispatcher = tracing_subscriber::registry()
        .with(vigil_tracing::LogLayer::new().with_filter(LevelFilter::INFO))
        .set_default();

    let options = vigil_core::ClientOptions::new();
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || tracing::error!(floating_point = 1.0_f64),
        options,
    );

    assert_eq!(envelopes.len(), 1);
    let item = envelopes[0].items().next().expect("expected envelope item");

    match item {
        vigil_core::protocol::EnvelopeItem::ItemContainer(
            vigil_core::protocol::ItemContainer::Logs(logs),
        ) => {
            assert_eq!(logs.len(), 1);
            assert_eq!(
                logs[0].attributes.get("floating_point").unwrap().clone(),
                vigil_core::protocol::LogAttribute::from(1.0_f64)
            );
        }
        _ => panic!("expected logs container"),
    }
}

#[test]
fn levels_body_and_typed_attributes() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(log_everything()),
        ClientOptions::new(),
        || {
            error!(target: "app::db", count = -3i64, big = u64::MAX, ratio = 0.5, ok = true, name = "ada", dbg = ?Some(1), "e {}", 1);
            warn!("w");
            info!(nan = f64::NAN, "i");
            debug!("d");
            trace!("t");
        },
    );
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["e 1", "w", "i", "d", "t"]);
    let levels: Vec<LogLevel> = logs.iter().map(|log| log.level).collect();
    assert_eq!(
        levels,
        [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace
        ]
    );
    let log = &logs[0];
    assert_eq!(attr(log, "count"), LogAttribute::from(-3i64));
    assert_eq!(attr(log, "big"), LogAttribute::from(u64::MAX));
    assert_eq!(attr(log, "ratio"), LogAttribute::from(0.5));
    assert_eq!(attr(log, "ok"), LogAttribute::from(true));
    assert_eq!(attr(log, "name"), LogAttribute::from("ada"));
    assert_eq!(attr(log, "dbg"), LogAttribute::from("Some(1)"));
    assert!(!log.attributes.contains_key("message"));
    assert_eq!(
        attr(log, "sentry.origin"),
        LogAttribute::from("auto.log.tracing")
    );
    assert_eq!(attr(log, "logger.target"), LogAttribute::from("app::db"));
    assert_eq!(attr(log, "code.module.name"), LogAttribute::from("logs"));
    assert!(
        attr(log, "code.file.path")
            .0
            .as_str()
            .unwrap()
            .ends_with("logs.rs")
    );
    assert!(attr(log, "code.line.number").0.is_u64());
    // The client's defaults.
    assert_eq!(
        attr(log, "sentry.sdk.name"),
        LogAttribute::from(vigil_core::SDK_NAME)
    );
    assert!(log.trace_id.is_some());
    assert!(!log.attributes.contains_key(PARENT_SPAN_ID));
    assert_eq!(attr(&logs[2], "nan"), LogAttribute::from("NaN"));
    assert_eq!(attr(&logs[1], "logger.target"), LogAttribute::from("logs"));
    // Nothing but logs.
    assert!(events(&envelopes).is_empty());
}

#[test]
fn error_field_without_message_is_the_body() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(log_everything()),
        ClientOptions::new(),
        || error!(error = "disk full"),
    );
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["disk full"]);
    assert!(!logs[0].attributes.contains_key("error"));
}

#[test]
fn default_filter_sends_logs_only_with_enable_logs() {
    let run = |enable_logs| {
        envelopes_under(
            tracing_subscriber::registry().with(vigil_tracing::layer()),
            ClientOptions::new().enable_logs(enable_logs),
            || {
                trace!("trace");
                debug!("debug");
                info!("info");
                warn!("warn");
                error!("error");
            },
        )
    };
    let on = run(true);
    assert_eq!(bodies(&logs(&on)), ["info", "warn", "error"]);
    // The events and breadcrumbs are as without logs.
    let events = events(&on);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("error"));
    assert_eq!(events[0].breadcrumbs.len(), 2);

    let off = run(false);
    assert!(logs(&off).is_empty());
    assert_eq!(self::events(&off).len(), 1);
}

#[test]
fn default_filter_adds_log_only_with_a_client_that_enables_logs() {
    let md = tracing::Metadata::new(
        "x",
        "t",
        TLevel::INFO,
        None,
        None,
        None,
        tracing::field::FieldSet::new(&[], tracing_core_callsite()),
        tracing::metadata::Kind::EVENT,
    );
    // No client bound on this thread.
    assert_eq!(
        vigil_tracing::default_event_filter(&md),
        EventFilter::Breadcrumb
    );
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    vigil_core::test::with_captured_envelopes_options(
        move || *seen2.lock().unwrap() = Some(vigil_tracing::default_event_filter(&md)),
        ClientOptions::new().enable_logs(true),
    );
    assert_eq!(
        seen.lock().unwrap().take(),
        Some(EventFilter::Breadcrumb | EventFilter::Log)
    );
}

/// A callsite for hand-made metadata.
fn tracing_core_callsite() -> tracing::callsite::Identifier {
    struct Callsite;
    impl tracing::callsite::Callsite for Callsite {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &tracing::Metadata<'_> {
            unreachable!("not registered")
        }
    }
    static CALLSITE: Callsite = Callsite;
    tracing::callsite::Identifier(&CALLSITE)
}

#[test]
fn combined_actions() {
    let layer = VigilLayer::new().event_filter(|md| match *md.level() {
        TLevel::ERROR => EventFilter::Event | EventFilter::Log,
        TLevel::WARN => EventFilter::Breadcrumb | EventFilter::Log,
        _ => EventFilter::Ignore,
    });
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(layer),
        ClientOptions::new(),
        || {
            warn!(code = 1, "careful");
            error!(code = 2, "broken");
            info!("ignored");
        },
    );
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["careful", "broken"]);
    assert_eq!(attr(&logs[0], "code"), LogAttribute::from(1));
    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("careful"));
    assert_eq!(events[0].breadcrumbs[0].data["code"], 1);
}

#[test]
fn log_layer_with_level_filter_sends_only_logs() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(LogLayer::new().with_filter(LevelFilter::INFO)),
        ClientOptions::new(),
        || {
            debug!("quiet");
            info!("loud");
            error!("failed");
        },
    );
    assert_eq!(bodies(&logs(&envelopes)), ["loud", "failed"]);
    assert!(events(&envelopes).is_empty());
    assert_eq!(
        format!("{:?}", LogLayer::default()),
        "LogLayer { span_attributes: false, .. }"
    );
}

/// Traced spans and logs: each log carries its span's trace and id.
#[test]
fn should_instrument_function_with_log() {
    #[tracing::instrument(fields(tags.tag = "key", not_tag = "value"))]
    fn function_with_tags(value: i32) {
        tracing::error!(value, "event");
    }

    let envelopes = envelopes_under(
        tracing_subscriber::registry()
            .with(SpanLayer::new().with_filter(LevelFilter::INFO))
            .with(LogLayer::new().with_filter(LevelFilter::INFO)),
        ClientOptions::new().traces_sample_rate(1.0),
        || function_with_tags(1),
    );
    let transaction = &transactions(&envelopes)[0];
    assert_eq!(transaction.name.as_deref(), Some("function_with_tags"));
    let Context::Trace(trace) = &transaction.contexts["trace"] else {
        panic!("trace context");
    };
    let logs = logs(&envelopes);
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Error);
    assert_eq!(log.body, "event");
    assert_eq!(log.trace_id, Some(trace.trace_id));
    assert_eq!(log.span_id(), Some(trace.span_id));
    assert_eq!(attr(log, "value"), LogAttribute::from(1));
    // The fields of the span are not the log's without span attributes.
    assert!(!log.attributes.contains_key("function_with_tags:value"));
}

#[test]
fn logs_in_nested_spans_link_the_innermost() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(VigilLayer::new().event_filter(|_| EventFilter::Log)),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let _outer = info_span!("outer").entered();
            info!("in outer");
            {
                let _inner = info_span!("inner", op = "db").entered();
                info!("in inner");
            }
        },
    );
    let transaction = &transactions(&envelopes)[0];
    let Context::Trace(trace) = &transaction.contexts["trace"] else {
        panic!("trace context");
    };
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["in outer", "in inner"]);
    assert_eq!(logs[0].span_id(), Some(trace.span_id));
    assert_eq!(logs[1].span_id(), Some(transaction.spans[0].span_id));
    assert!(logs.iter().all(|log| log.trace_id == Some(trace.trace_id)));
}

#[test]
fn logs_without_tracing_take_the_scope_trace() {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(log_everything()));
    let scope_trace = Arc::new(Mutex::new(None));
    let seen = scope_trace.clone();
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            *seen.lock().unwrap() =
                Some(vigil_core::Hub::current().propagation_context().trace_id());
            tracing::dispatcher::with_default(&dispatch, || {
                let _span = info_span!("untraced").entered();
                info!("hello");
            });
        },
        ClientOptions::new(),
    );
    let logs = logs(&envelopes);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].trace_id, scope_trace.lock().unwrap().take());
    assert_eq!(logs[0].span_id(), None);
}

#[test]
fn log_layer_span_attributes() {
    let subscriber = |attributes: bool| {
        let layer = if attributes {
            LogLayer::new().enable_span_attributes()
        } else {
            LogLayer::new()
        };
        tracing_subscriber::registry()
            .with(SpanLayer::new().with_filter(LevelFilter::INFO))
            .with(layer.with_filter(filter_fn(|md| md.is_span() || *md.level() <= TLevel::INFO)))
    };
    let body = || {
        let _request = info_span!("request", id = 7).entered();
        info!("step");
    };
    let with = logs(&envelopes_under(
        subscriber(true),
        ClientOptions::new(),
        body,
    ));
    assert_eq!(attr(&with[0], "request:id"), LogAttribute::from(7));
    let without = logs(&envelopes_under(
        subscriber(false),
        ClientOptions::new(),
        body,
    ));
    assert!(!without[0].attributes.contains_key("request:id"));
}

#[test]
fn split_layers_next_to_log_layer() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry()
            .with(SpanLayer::new().with_filter(LevelFilter::INFO))
            .with(BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
            .with(ErrorLayer::new().with_filter(LevelFilter::ERROR))
            .with(LogLayer::new().with_filter(LevelFilter::WARN)),
        ClientOptions::new(),
        || {
            info!("crumb");
            warn!("warned");
            error!("failed");
        },
    );
    assert_eq!(bodies(&logs(&envelopes)), ["warned", "failed"]);
    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("failed"));
}

#[test]
fn event_mapper_returns_logs() {
    let layer = VigilLayer::new().event_mapper(|event, ctx| {
        let mut log = log_from_event(event, Some(&ctx));
        log.attributes
            .insert("service".into(), LogAttribute::from("billing"));
        match *event.metadata().level() {
            TLevel::ERROR => EventMapping::Combined(
                vec![
                    EventMapping::Event(vigil_tracing::event_from_event(event, Some(&ctx)).into()),
                    log.into(),
                ]
                .into(),
            ),
            _ => EventMapping::Log(log),
        }
    });
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(layer),
        ClientOptions::new().traces_sample_rate(1.0),
        || {
            let _span = info_span!("job").entered();
            debug!(n = 1, "mapped");
            error!("failed");
        },
    );
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["mapped", "failed"]);
    assert_eq!(attr(&logs[0], "service"), LogAttribute::from("billing"));
    assert!(logs.iter().all(|log| log.span_id().is_some()));
    assert_eq!(events(&envelopes).len(), 1);
}

#[test]
fn log_from_event_without_context() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let layer = VigilLayer::new().event_mapper(move |event, _ctx| {
        let log = log_from_event::<tracing_subscriber::Registry, _>(event, None);
        seen2.lock().unwrap().push(log);
        EventMapping::Ignore
    });
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(layer),
        ClientOptions::new(),
        || {
            let _span = info_span!("job", n = 1).entered();
            warn!(attempt = 2, "retrying");
        },
    );
    assert!(logs(&envelopes).is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let log = &seen[0];
    assert_eq!(log.level, LogLevel::Warn);
    assert_eq!(log.body, "retrying");
    assert_eq!(log.trace_id, None, "filled by the capture");
    assert_eq!(attr(log, "attempt"), LogAttribute::from(2));
    assert!(!log.attributes.contains_key("job:n"));
    assert!(!log.attributes.contains_key("sentry.sdk.name"));
}

#[test]
fn before_send_log_that_logs_is_not_captured_again() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(log_everything()),
        ClientOptions::new().before_send_log(|log| {
            tracing::error!("from before_send_log");
            Some(log)
        }),
        || info!("once"),
    );
    assert_eq!(bodies(&logs(&envelopes)), ["once"]);
}

#[test]
fn sdk_targets_are_not_logged() {
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(log_everything()),
        ClientOptions::new(),
        || {
            info!(target: "vigil_core::client", "internal");
            info!(target: "vigil", "internal too");
            info!("app");
        },
    );
    assert_eq!(bodies(&logs(&envelopes)), ["app"]);
}

#[test]
fn logs_go_to_the_hub_of_their_span() {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(log_everything()));
    let request_hub = Arc::new(vigil_core::Hub::new_from_top(vigil_core::Hub::current()));
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let request_hub = Arc::new(vigil_core::Hub::new_from_top(vigil_core::Hub::current()));
            request_hub.configure_scope(|scope| {
                scope.set_user(Some(vigil_core::protocol::User {
                    id: Some("42".into()),
                    ..Default::default()
                }));
            });
            let span = tracing::dispatcher::with_default(&dispatch, || {
                vigil_core::Hub::run(request_hub.clone(), || info_span!("request"))
            });
            std::thread::scope(|s| {
                s.spawn(|| {
                    tracing::dispatcher::with_default(&dispatch, || {
                        let _entered = span.enter();
                        info!("in request");
                    });
                });
            });
        },
        ClientOptions::new().send_default_pii(true),
    );
    drop(request_hub);
    let logs = logs(&envelopes);
    assert_eq!(bodies(&logs), ["in request"]);
    assert_eq!(attr(&logs[0], "user.id"), LogAttribute::from("42"));
}

#[test]
fn log_chain_names_types_from_debug_breadcrumbs_keep_theirs() {
    let err = ConnectionError {
        message: "down".into(),
        source: Some(std::io::Error::new(std::io::ErrorKind::TimedOut, "refused")),
    };
    let layer = VigilLayer::new().event_filter(|md| match *md.level() {
        TLevel::WARN => EventFilter::Breadcrumb | EventFilter::Log,
        _ => EventFilter::Event,
    });
    let envelopes = envelopes_under(
        tracing_subscriber::registry().with(layer),
        ClientOptions::new(),
        || {
            warn!(error = &err as &(dyn Error + 'static), "retrying");
            error!("gave up");
        },
    );
    let logs = logs(&envelopes);
    assert_eq!(
        attr(&logs[0], "error"),
        LogAttribute::from(vec!["ConnectionError: down", "Custom: refused"])
    );
    let events = events(&envelopes);
    assert_eq!(
        events[0].breadcrumbs[0].data["error"],
        serde_json::json!(["ConnectionError: down", "std::io::Error: refused"])
    );
}
